#!/usr/bin/env bash
# Interop over TAP: TLS 1.2 between zsock (ztls, on zsock's TLS sockets) and
# OpenSSL/curl inside a private network namespace, with the test PKI of
# tests/tls/pki:
#   (a) openssl s_server (RSA and ECDSA certificates, several suites, a
#       chain through the intermediate CA, one PSK suite, ALPN) -> ztls client: HTTP GET through s_server -www, the
#       suite ztls asked for is the one negotiated; 1 MiB sent by ztls (a
#       non-blocking socket shut down at once, default and 2 KiB buffers)
#       and saved by s_server -quiet is the seeded stream, byte for byte;
#   (b) curl --cacert and openssl s_client -> ztls http server (RSA and
#       ECDSA): the body of 1 MiB is the seeded stream, byte for byte; curl
#       negotiates ALPN http/1.1 with the server;
#   (c) mutual TLS both ways: s_server -Verify with a ztls client that has
#       client.crt (and fails without one); a ztls server with --verify
#       required against curl and s_client with client.crt (curl without one
#       fails, the server says why);
#   (d) negative cases, each a clear error and no hang: a ztls client against
#       a wrong host name, an untrusted CA, an expired certificate (EACCES
#       and the reason from TLS_CERT_VERIFY_RESULT), and with --verify
#       optional a handshake that completes with the reason kept; curl
#       against a ztls server with the expired certificate;
#   (e) zsock to zsock (two stacks on two bridged TAPs): 8 MiB checked with
#       DER credentials, 4 MiB echoed while sending (non-blocking TLS and
#       poll), PSK.
# Usage: tls_tap.sh ZTLS. Needs root, /dev/net/tun, openssl, curl, ss, python3
# (else exits 77, "skipped").
# Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZTLS=${1:?usage: tls_tap.sh ZTLS}
NS_TAG=tls
HERE=$(cd "$(dirname "$0")" && pwd)
PKI=$(cd "$HERE/../tls/pki" && pwd)
BODY=1048576
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require openssl curl cmp ss python3
need_binary "$ZTLS" ztls
[ -r "$PKI/ca.crt" ] || {
    echo "FAIL: no test PKI in $PKI"
    exit 1
}
ns_setup

# s_server reads its standard input: give it one that never ends (a FIFO we
# hold open) so it does not quit on end of file.
mkfifo "$TMP/hold"
exec 9<>"$TMP/hold"

"$ZTLS" gen --bytes "$BODY" --seed 7 >"$TMP/stream7" || fail "ztls gen"

# s_server LOG PORT ARGS...: openssl s_server (TLS 1.2, one connection) on
# Linux's address in the background; BG_PID. Returns 1 if it does not listen.
s_server() {
    local log=$1 port=$2
    shift 2
    # Not bg: an asynchronous command's standard input would be /dev/null.
    ip netns exec "$NS" timeout 30 openssl s_server -accept "$LINUX_IP:$port" -tls1_2 \
        -naccept 1 "$@" <&9 >"$log" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
    ns_bound tcp "$port" || {
        cat "$log"
        fail "openssl s_server on port $port did not start"
        return 1
    }
}

# ztls_client LOG ARGS...: a ztls client in the namespace (zsock on the TAP).
ztls_client() {
    local log=$1
    shift
    in_ns "${ZENV[@]}" timeout 30 "$ZTLS" client "$@" --time-limit 20 >"$log" 2>&1
}

# ztls_server LOG MODE PORT ARGS...: a ztls server in the background; BG_PID.
ztls_server() {
    local log=$1 mode=$2 port=$3
    shift 3
    bg "$log" "${ZENV[@]}" timeout 40 "$ZTLS" "$mode" "$port" --time-limit 30 --linger 300 "$@"
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "server ready" "$log" 2>/dev/null && return 0
        kill -0 "$BG_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log"
    fail "ztls $mode server on port $port did not start"
    return 1
}

# The suite a ztls log says was negotiated (0xC02F).
suite_of() { sed -n 's/.*handshake done in .* suite \(0x[0-9A-F]*\) .*/\1/p' "$1" | head -n1; }

CA=(--ca "$PKI/ca.crt")
RSA=(-cert "$PKI/server-rsa.crt" -key "$PKI/server-rsa.key")
EC=(-cert "$PKI/server-ec.crt" -key "$PKI/server-ec.key")
# shellcheck disable=SC2034 # CHAIN and PSK are used through get_case's name reference
CHAIN=(-cert "$PKI/server-int.crt" -key "$PKI/server-int.key" -cert_chain "$PKI/intermediate.crt")
# shellcheck disable=SC2034
PSK=(-nocert -psk "$(cat "$PKI/psk.hex")" -psk_identity "$(cat "$PKI/psk_id.txt")"
    -cipher PSK-AES128-GCM-SHA256)
PORT=4430

# ---- (a) openssl s_server -> ztls client ------------------------------------------------------
# get_case NAME SUITE CERT-OPTION-ARRAY-NAME [ZTLS ARGS...]: s_server -www with
# that certificate, ztls GET restricted to SUITE (IANA id) must get 200 with it.
get_case() {
    local name=$1 suite=$2 certs=$3
    shift 3
    local -n cert_args=$certs
    PORT=$((PORT + 1))
    s_server "$TMP/$name.s.log" "$PORT" -www "${cert_args[@]}" || return
    local s=$BG_PID
    if ztls_client "$TMP/$name.z.log" "$LINUX_IP" "$PORT" --get / --hostname server.test "${CA[@]}" \
        --ciphers "$suite" "$@" && [ "$(suite_of "$TMP/$name.z.log")" = "$suite" ]; then
        ok "(a) $name: s_server -> ztls GET, $(grep -o 'suite 0x.*' "$TMP/$name.z.log")"
    else
        cat "$TMP/$name.z.log"
        fail "(a) $name: s_server -> ztls GET with suite $suite"
    fi
    stop_pid "$s" 5 >/dev/null 2>&1
}
get_case rsa-aes128-gcm 0xC02F RSA
get_case rsa-aes256-gcm 0xC030 RSA
get_case rsa-chacha20 0xCCA8 RSA
get_case rsa-kx-aes128-cbc 0x003C RSA
get_case ecdsa-aes128-gcm 0xC02B EC
get_case ecdsa-aes256-gcm 0xC02C EC
get_case ecdsa-chacha20 0xCCA9 EC
get_case intermediate-chain 0xC02F CHAIN
get_case psk-aes128-gcm 0x00A8 PSK --psk "$PKI/psk.bin" --psk-id "$PKI/psk_id.txt"

# ALPN: s_server prints what the client offered and what it chose.
PORT=$((PORT + 1))
if s_server "$TMP/alpn.s.log" "$PORT" -www "${RSA[@]}" -alpn http/1.1; then
    S=$BG_PID
    if ztls_client "$TMP/alpn.z.log" "$LINUX_IP" "$PORT" --get / --hostname server.test "${CA[@]}" \
        --alpn h2,http/1.1 && grep -q "ALPN protocols advertised by the client: h2, http/1.1" \
        "$TMP/alpn.s.log"; then
        ok "(a) ALPN: ztls offered h2, http/1.1 to s_server"
    else
        cat "$TMP/alpn.z.log" "$TMP/alpn.s.log"
        fail "(a) ALPN list from ztls"
    fi
    stop_pid "$S" 5 >/dev/null 2>&1
fi

# Bulk, checked on the Linux side: s_server -quiet writes what it receives.
# ztls sends from a non-blocking socket and shuts down writing at once: with
# the stack's buffers and with 2 KiB ones (TLS records still queued when
# shutdown() is called), every byte and then close_notify must arrive.
for buf in 0 2048; do
    PORT=$((PORT + 1))
    s_server "$TMP/bulk$buf.s.out" "$PORT" -quiet "${EC[@]}" || continue
    S=$BG_PID
    if ztls_client "$TMP/bulk$buf.z.log" "$LINUX_IP" "$PORT" --raw --bytes "$BODY" --seed 7 \
        --hostname server.test "${CA[@]}" --buffer "$buf"; then
        wait_pid "$S" 10
        if cmp -s "$TMP/bulk$buf.s.out" "$TMP/stream7"; then
            ok "(a) ztls -> s_server $BODY bytes (--buffer $buf), ECDSA, identical:" \
                "$(grep -o 'handshake .*' "$TMP/bulk$buf.z.log" | head -n1)"
        else
            fail "(a) s_server received $(stat -c %s "$TMP/bulk$buf.s.out") bytes, not the $BODY sent"
        fi
    else
        cat "$TMP/bulk$buf.z.log"
        fail "(a) ztls --raw --buffer $buf -> s_server: s_server received" \
            "$(stat -c %s "$TMP/bulk$buf.s.out") of $BODY bytes"
    fi
    stop_pid "$S" 5 >/dev/null 2>&1
done

# ---- (b) curl and openssl s_client -> ztls http server ----------------------------------------
# curl_case NAME CERT KEY [CURL ARGS...]: a ztls http server with that
# certificate; curl --cacert must get the body, byte for byte.
curl_case() {
    local name=$1 cert=$2 key=$3
    shift 3
    PORT=$((PORT + 1))
    ztls_server "$TMP/$name.z.log" http "$PORT" --cert "$PKI/$cert" --key "$PKI/$key" \
        --bytes "$BODY" --seed 7 --alpn http/1.1 || return
    local z=$BG_PID
    if in_ns timeout 20 curl -sS -v --tlsv1.2 --http1.1 --cacert "$PKI/ca.crt" \
        --resolve "server.test:$PORT:$ZSOCK_IP" -o "$TMP/$name.body" "$@" \
        "https://server.test:$PORT/data" 2>"$TMP/$name.curl" &&
        cmp -s "$TMP/$name.body" "$TMP/stream7" && grep -q "ALPN.*accepted.*http/1.1" "$TMP/$name.curl"; then
        ok "(b) $name: curl <- ztls http $BODY bytes identical," \
            "$(grep -o 'SSL connection using .*' "$TMP/$name.curl" | head -n1), ALPN http/1.1"
    else
        grep -E "^\* |curl:" "$TMP/$name.curl"
        cat "$TMP/$name.z.log"
        fail "(b) $name: curl <- ztls http"
    fi
    wait_pid "$z" 10 || fail "(b) $name: ztls server exit status"
}
curl_case curl-rsa server-rsa.crt server-rsa.key
curl_case curl-ecdsa server-ec.crt server-ec.key
curl_case curl-der server-rsa.crt.der server-rsa.key.der

# s_client_case PART NAME CERT KEY CIPHER [S_CLIENT ARGS...]: s_client GET /
# HTTP/1.0 from a ztls http server (with ZARGS); the body must be the stream.
s_client_case() {
    local part=$1 name=$2 cert=$3 key=$4 cipher=$5
    shift 5
    PORT=$((PORT + 1))
    ztls_server "$TMP/$name.z.log" http "$PORT" --cert "$PKI/$cert" --key "$PKI/$key" \
        --bytes "$BODY" --seed 7 "${ZARGS[@]}" || return
    local z=$BG_PID
    printf 'GET / HTTP/1.0\r\nHost: server.test\r\n\r\n' |
        in_ns timeout 20 openssl s_client -connect "$ZSOCK_IP:$PORT" -tls1_2 -quiet \
            -cipher "$cipher" -servername server.test -verify_hostname server.test \
            -CAfile "$PKI/ca.crt" -verify_return_error "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    # The body follows the first empty line of the response.
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[d.find(b"\r\n\r\n") + 4:])' \
        "$TMP/$name.out" >"$TMP/$name.body"
    if head -n1 "$TMP/$name.out" | grep -q "^HTTP/1.1 200" && cmp -s "$TMP/$name.body" "$TMP/stream7"; then
        ok "($part) $name: s_client <- ztls http $BODY bytes identical, $cipher," \
            "$(grep -o 'suite 0x.*' "$TMP/$name.z.log" | head -n1)"
    else
        cat "$TMP/$name.err"
        cat "$TMP/$name.z.log"
        fail "($part) $name: s_client <- ztls http ($(stat -c %s "$TMP/$name.out") bytes)"
    fi
    wait_pid "$z" 10 || fail "($part) $name: ztls server exit status"
}
ZARGS=()
s_client_case b s_client-rsa server-rsa.crt server-rsa.key ECDHE-RSA-AES256-GCM-SHA384
s_client_case b s_client-ecdsa server-ec.crt server-ec.key ECDHE-ECDSA-CHACHA20-POLY1305

# ---- (c) mutual TLS -----------------------------------------------------------------------------
# s_server requires a client certificate.
for with in yes no; do
    PORT=$((PORT + 1))
    s_server "$TMP/mtls-$with.s.log" "$PORT" -www "${RSA[@]}" -Verify 1 -verify_return_error \
        -CAfile "$PKI/ca.crt" || continue
    S=$BG_PID
    CLIENT=()
    [ "$with" = yes ] && CLIENT=(--cert "$PKI/client.crt" --key "$PKI/client.key")
    ztls_client "$TMP/mtls-$with.z.log" "$LINUX_IP" "$PORT" --get / --hostname server.test \
        "${CA[@]}" "${CLIENT[@]}"
    rc=$?
    if [ "$with" = yes ] && [ $rc -eq 0 ]; then
        ok "(c) s_server -Verify <- ztls with client.crt: $(grep -o 'suite 0x.*' "$TMP/mtls-yes.z.log")"
    elif [ "$with" = no ] && [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
        grep -q "handshake with .* failed" "$TMP/mtls-no.z.log"; then
        ok "(c) s_server -Verify <- ztls without a certificate refused:" \
            "$(grep -m1 'failed' "$TMP/mtls-no.z.log")"
    else
        cat "$TMP/mtls-$with.z.log" "$TMP/mtls-$with.s.log"
        fail "(c) s_server -Verify <- ztls, client certificate: $with (status $rc)"
    fi
    stop_pid "$S" 5 >/dev/null 2>&1
done

# A ztls server that requires one: curl with and without client.crt.
PORT=$((PORT + 1))
if ztls_server "$TMP/mtls-srv.z.log" http "$PORT" --cert "$PKI/server-rsa.crt" \
    --key "$PKI/server-rsa.key" --bytes "$BODY" --seed 7 --verify required "${CA[@]}" --count 2; then
    Z=$BG_PID
    URL="https://server.test:$PORT/"
    RES=(--resolve "server.test:$PORT:$ZSOCK_IP" --cacert "$PKI/ca.crt")
    if in_ns timeout 20 curl -sS "${RES[@]}" --cert "$PKI/client.crt" --key "$PKI/client.key" \
        -o "$TMP/mtls.body" "$URL" 2>"$TMP/mtls.curl" && cmp -s "$TMP/mtls.body" "$TMP/stream7"; then
        ok "(c) curl with client.crt <- ztls server requiring it: $BODY bytes identical"
    else
        cat "$TMP/mtls.curl"
        fail "(c) curl with client.crt <- ztls server --verify required"
    fi
    if in_ns timeout 20 curl -sS "${RES[@]}" -o /dev/null "$URL" 2>"$TMP/mtls-no.curl"; then
        fail "(c) curl without a client certificate was served"
    else
        ok "(c) curl without a client certificate refused: $(head -c 200 "$TMP/mtls-no.curl")"
    fi
    wait_pid "$Z" 10
    if grep -q "peer verification: 0x0 ok" "$TMP/mtls-srv.z.log" &&
        grep -q "connection 2: accept/handshake failed" "$TMP/mtls-srv.z.log"; then
        ok "(c) the ztls server verified client.crt and refused the client without one"
    else
        cat "$TMP/mtls-srv.z.log"
        fail "(c) ztls server log of mutual TLS"
    fi
fi

# s_client with a client certificate against a ztls server that requires one.
ZARGS=(--verify required "${CA[@]}")
s_client_case c s_client-mtls server-ec.crt server-ec.key ECDHE-ECDSA-AES128-GCM-SHA256 \
    -cert "$PKI/client.crt" -key "$PKI/client.key"
ZARGS=()

# ---- (d) negative cases -------------------------------------------------------------------------
# neg_case NAME CERT KEY HOSTNAME WORDS: ztls must fail, quickly, with EACCES
# and say WORDS (mbedTLS's text for the verification flag).
neg_case() {
    local name=$1 cert=$2 key=$3 host=$4 words=$5 t0=$SECONDS rc
    PORT=$((PORT + 1))
    s_server "$TMP/$name.s.log" "$PORT" -www -cert "$PKI/$cert" -key "$PKI/$key" || return
    local s=$BG_PID
    ztls_client "$TMP/$name.z.log" "$LINUX_IP" "$PORT" --get / --hostname "$host" "${CA[@]}"
    rc=$?
    # A verification failure is EACCES (docs/tls.md), its reason in TLS_CERT_VERIFY_RESULT.
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "$words" "$TMP/$name.z.log" &&
        grep -q "failed: .*(errno 13)" "$TMP/$name.z.log"; then
        ok "(d) $name refused in $((SECONDS - t0)) s: $(grep -o 'failed: .*' "$TMP/$name.z.log");" \
            "$(grep -o 'peer verification: .*' "$TMP/$name.z.log")"
    else
        cat "$TMP/$name.z.log"
        fail "(d) $name: status $rc, expected a failure saying '$words'"
    fi
    stop_pid "$s" 5 >/dev/null 2>&1
}
neg_case wrong-hostname server-rsa.crt server-rsa.key wrong.test "does not match"
neg_case untrusted-ca server-untrusted.crt server-untrusted.key server.test "not correctly signed"
neg_case expired server-expired.crt server-expired.key server.test "validity has expired"

# TLS_PEER_VERIFY_OPTIONAL: the handshake with the untrusted CA completes and
# TLS_CERT_VERIFY_RESULT still says why the certificate is not trusted.
PORT=$((PORT + 1))
if s_server "$TMP/optional.s.log" "$PORT" -www -cert "$PKI/server-untrusted.crt" \
    -key "$PKI/server-untrusted.key"; then
    S=$BG_PID
    if ztls_client "$TMP/optional.z.log" "$LINUX_IP" "$PORT" --get / --hostname server.test \
        "${CA[@]}" --verify optional &&
        grep -q "peer verification: 0x8 The certificate is not correctly signed" "$TMP/optional.z.log"; then
        ok "(d) --verify optional with an untrusted CA: connected," \
            "$(grep -o 'peer verification: .*' "$TMP/optional.z.log")"
    else
        cat "$TMP/optional.z.log"
        fail "(d) --verify optional with an untrusted CA"
    fi
    stop_pid "$S" 5 >/dev/null 2>&1
fi

PORT=$((PORT + 1))
if ztls_server "$TMP/curl-expired.z.log" http "$PORT" --cert "$PKI/server-expired.crt" \
    --key "$PKI/server-expired.key"; then
    Z=$BG_PID
    in_ns timeout 20 curl -sS --cacert "$PKI/ca.crt" --resolve "server.test:$PORT:$ZSOCK_IP" \
        -o /dev/null "https://server.test:$PORT/" 2>"$TMP/curl-expired.err"
    rc=$?
    if [ $rc -eq 60 ] && grep -qi "expired" "$TMP/curl-expired.err"; then
        ok "(d) curl refused the ztls server's expired certificate: $(head -n1 "$TMP/curl-expired.err")"
    else
        cat "$TMP/curl-expired.err"
        fail "(d) curl against an expired certificate: status $rc"
    fi
    wait_pid "$Z" 10 >/dev/null 2>&1
fi

# ---- (e) zsock to zsock -----------------------------------------------------------------------
# Two ztls processes, each with its own stack on its own TAP, the two TAPs
# bridged (Linux is done with the first one): the checked stream (server
# mode) with DER server credentials, the echo mode read while sending (poll
# on a non-blocking TLS socket) with a DER CA, and PSK.
TAP2="${TAP}b"
TAP2=${TAP2:0:15}
BR="zbr$$"
if in_ns ip tuntap add dev "$TAP2" mode tap && in_ns ip link add "$BR" type bridge forward_delay 0 stp_state 0 &&
    in_ns ip addr flush dev "$TAP" && in_ns ip link set "$TAP" master "$BR" &&
    in_ns ip link set "$TAP2" master "$BR" && in_ns ip link set "$TAP2" up &&
    in_ns ip link set "$BR" up; then
    BRIDGED=1
else
    BRIDGED=0
    fail "(e) second TAP and bridge"
fi
# zz_case NAME MODE CHECK SERVER-ARGS -- CLIENT-ARGS: ztls MODE server on side A,
# a ztls client on side B whose log must match CHECK.
zz_case() {
    local name=$1 mode=$2 check=$3 sargs=() z
    shift 3
    while [ "$1" != "--" ]; do
        sargs+=("$1")
        shift
    done
    shift
    [ "$BRIDGED" -eq 1 ] || return
    PORT=$((PORT + 1))
    bg "$TMP/$name.s.log" env ZSOCK_TAP="$TAP" ZSOCK_IPV4="$ZSOCK_IP/24" timeout 40 "$ZTLS" \
        "$mode" "$PORT" --time-limit 30 --linger 300 "${sargs[@]}"
    z=$BG_PID
    wait_line "$TMP/$name.s.log" "server ready" 10 || {
        cat "$TMP/$name.s.log"
        fail "(e) $name: ztls $mode server did not start"
        return
    }
    if in_ns env ZSOCK_TAP="$TAP2" ZSOCK_IPV4=192.0.2.3/24 timeout 40 "$ZTLS" client "$ZSOCK_IP" \
        "$PORT" --time-limit 30 "$@" \
        >"$TMP/$name.c.log" 2>&1 && grep -q "$check" "$TMP/$name.c.log"; then
        ok "(e) $name: $(grep -E '^ztls: (sent|raw)' "$TMP/$name.c.log" | head -n1)," \
            "$(grep -o 'suite 0x.*' "$TMP/$name.c.log")"
    else
        cat "$TMP/$name.c.log" "$TMP/$name.s.log"
        fail "(e) $name: ztls client <- ztls $mode server"
    fi
    wait_pid "$z" 10 || fail "(e) $name: ztls server exit status"
}
zz_case stream server "verified" --cert "$PKI/server-ec.crt.der" --key "$PKI/server-ec.key.der" \
    -- --bytes 8388608 --seed 11 --hostname localhost "${CA[@]}"
zz_case echo echo "^ztls: echo verified" --cert "$PKI/server-rsa.crt" --key "$PKI/server-rsa.key" \
    -- --raw --bytes 4194304 --seed 12 --hostname server.test --ca "$PKI/ca.crt.der"
zz_case psk server "verified" --psk "$PKI/psk.bin" --psk-id "$PKI/psk_id.txt" \
    -- --bytes 1048576 --seed 13 --psk "$PKI/psk.bin" --psk-id "$PKI/psk_id.txt" --ciphers 0x00A8

finish
