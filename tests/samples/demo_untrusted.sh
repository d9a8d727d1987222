#!/usr/bin/env bash
# The demo's client must refuse a server whose certificate its CA did not
# sign: the demo runs with a PKI directory whose server certificate and key
# are the test PKI's untrusted ones (same names, another CA). It must fail
# the handshake and not print "demo: OK".
# Usage: demo_untrusted.sh ZSOCK_DEMO PKI_DIR
set -u
DEMO=${1:?usage: demo_untrusted.sh ZSOCK_DEMO PKI_DIR}
PKI=${2:?usage: demo_untrusted.sh ZSOCK_DEMO PKI_DIR}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsock-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cp "$PKI/ca.crt" "$TMP/ca.crt"
cp "$PKI/server-untrusted.crt" "$TMP/server-rsa.crt"
cp "$PKI/server-untrusted.key" "$TMP/server-rsa.key"
timeout 60 "$DEMO" --size 65536 --pki "$TMP" >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
if [ "$rc" -ne 0 ] && grep -q "connect/handshake" "$TMP/out" && ! grep -q "demo: OK" "$TMP/out"; then
    echo "ok: the client refused the untrusted certificate (exit $rc)"
    exit 0
fi
echo "FAIL: the demo accepted a certificate from another CA, or failed otherwise (exit $rc)"
exit 1
