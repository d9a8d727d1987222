#!/usr/bin/env bash
# Regenerates the test PKI of tests/tls/pki (see README.md there for every
# file): a root CA (RSA), an intermediate CA, server certificates (RSA, ECDSA
# P-256, one under the intermediate), a client certificate for mutual TLS, an
# expired server certificate, a server certificate from an untrusted CA, and a
# pre-shared key. Certificates are valid 2025-01-01 to 2125-01-01 except the
# expired one (2020-01-01 to 2021-01-01). Keys are new on every run, so every file
# changes; commit them together.
# Usage: make_pki.sh [OUTDIR] (default: the directory of this script).
# Needs: openssl (1.1.1 or 3.x).
set -eu

OUT=${1:-$(cd "$(dirname "$0")" && pwd)}
SAN="DNS:localhost,DNS:server.test,IP:192.0.2.2,IP:127.0.0.1"
mkdir -p "$OUT"
cd "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Extensions of every kind of certificate.
cat >"$WORK/ext.cnf" <<EOF
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
ec_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$1"
}

# openssl ca signs with explicit dates: valid from 2025-01-01 (so a machine
# clock somewhat behind still accepts them) for 100 years.
mkdir -p "$WORK/db"
: >"$WORK/db/index.txt"
cat >"$WORK/ca.cnf" <<EOF2
[ca]
default_ca = testca
[testca]
database = $WORK/db/index.txt
new_certs_dir = $WORK/db
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
rand_serial = yes
[anything]
organizationName = optional
commonName = supplied
EOF2
cat "$WORK/ext.cnf" >>"$WORK/ca.cnf"

# sign NAME CN ISSUER EXT [START END]: NAME.crt for the existing NAME.key,
# signed by ISSUER (ISSUER = NAME: self-signed) with the extensions EXT.
sign() {
    local start=${5:-20250101000000Z} end=${6:-21250101000000Z} issuer=(-cert "$3.crt")
    openssl req -new -sha256 -key "$1.key" -subj "/O=zsock test/CN=$2" -out "$WORK/$1.csr"
    [ "$3" = "$1" ] && issuer=(-selfsign)
    openssl ca -batch -notext -config "$WORK/ca.cnf" -name testca "${issuer[@]}" -keyfile "$3.key" \
        -extfile "$WORK/ext.cnf" -extensions "$4" -startdate "$start" -enddate "$end" \
        -in "$WORK/$1.csr" -out "$1.crt" 2>"$WORK/ca.log" || {
        cat "$WORK/ca.log" >&2
        return 1
    }
}

# Trusted root and intermediate.
rsa_key ca.key
sign ca "zsock test root CA" ca ca
rsa_key intermediate.key
sign intermediate "zsock test intermediate CA" ca intermediate

# Server certificates for localhost, server.test, 192.0.2.2 and 127.0.0.1.
rsa_key server-rsa.key
sign server-rsa "server.test" ca server
ec_key server-ec.key
sign server-ec "server.test" ca server
rsa_key server-int.key
sign server-int "server.test" intermediate server
cat server-int.crt intermediate.crt >server-int-chain.crt

# Client certificate for mutual TLS.
rsa_key client.key
sign client "client.test" ca client

# Expired server certificate.
rsa_key server-expired.key
sign server-expired "server.test" ca server 20200101000000Z 20210101000000Z

# A CA nobody trusts, and a server certificate from it (same names).
rsa_key untrusted-ca.key
sign untrusted-ca "zsock untrusted CA" untrusted-ca ca
rsa_key server-untrusted.key
sign server-untrusted "server.test" untrusted-ca server

# DER copies of every certificate and key.
for c in ca intermediate server-rsa server-ec server-int client server-expired untrusted-ca \
    server-untrusted; do
    openssl x509 -in "$c.crt" -outform DER -out "$c.crt.der"
    openssl pkey -in "$c.key" -outform DER -out "$c.key.der"
done

# Pre-shared key: 32 random bytes, raw and as hex (openssl -psk takes hex),
# and its identity (no trailing newline).
openssl rand 32 >psk.bin
od -An -tx1 -v psk.bin | tr -d ' \n' >psk.hex
printf 'zsock-test-client' >psk_id.txt

# Check what was made.
openssl verify -CAfile ca.crt server-rsa.crt server-ec.crt client.crt >/dev/null
openssl verify -CAfile ca.crt -untrusted intermediate.crt server-int.crt >/dev/null
if openssl verify -CAfile ca.crt server-expired.crt >/dev/null 2>&1; then
    echo "make_pki.sh: server-expired.crt verifies" >&2
    exit 1
fi
if openssl verify -CAfile ca.crt server-untrusted.crt >/dev/null 2>&1; then
    echo "make_pki.sh: server-untrusted.crt verifies against ca.crt" >&2
    exit 1
fi
echo "make_pki.sh: test PKI written to $OUT"
