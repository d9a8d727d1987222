#!/usr/bin/env bash
# Interop over TAP: DTLS 1.2 between zsock (zdtls, on zsock's DTLS sockets)
# and OpenSSL inside a private network namespace, with the test PKI of
# tests/tls/pki:
#   (a) openssl s_server -dtls1_2 -> zdtls client, with the RSA certificate
#       (verified against the test CA and the name server.test) and with PSK:
#       20 datagrams of 200 bytes arrive as the 20 lines sent, and a line
#       typed into s_server comes back to zdtls as one datagram;
#   (b) openssl s_client -dtls1_2 -> zdtls server, certificate (s_client
#       verifies it) and PSK: every line s_client sends comes back; then two
#       s_clients at once on the same zdtls server socket, each getting its
#       own lines back;
#   (c) a zdtls client that expects another host name than s_server's
#       certificate carries: refused with EACCES, no hang;
#   (d) both ways again through a relay that loses 10 % of the datagrams
#       and reorders 10 % (lossy_relay.py; Linux has no netem here): the
#       handshakes complete and what arrives is intact (DTLS does not resend
#       data: not every line must arrive).
# Usage: dtls_tap.sh ZDTLS. Needs root, /dev/net/tun, openssl, ss and python3 (else
# exits 77, "skipped"). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZDTLS=${1:?usage: dtls_tap.sh ZDTLS}
NS_TAG=dtls
HERE=$(cd "$(dirname "$0")" && pwd)
PKI=$(cd "$HERE/../tls/pki" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require openssl ss python3
need_binary "$ZDTLS" zdtls
[ -r "$PKI/ca.crt" ] || {
    echo "FAIL: no test PKI in $PKI"
    exit 1
}
ns_setup

PSK_HEX=$(cat "$PKI/psk.hex")
PSK_ID=$(cat "$PKI/psk_id.txt")
CA=(--ca "$PKI/ca.crt")
ZPSK=(--psk "$PKI/psk.bin" --psk-id "$PKI/psk_id.txt")
PORT=5680

# ---- (a) openssl s_server -dtls1_2 -> zdtls client --------------------------------------------
# s_case NAME ZDTLS-ARGS -- S_SERVER-ARGS
s_case() {
    local name=$1 zargs=() i
    shift
    while [ "$1" != "--" ]; do
        zargs+=("$1")
        shift
    done
    shift
    PORT=$((PORT + 1))
    # s_server reads the line it sends from this FIFO, held open by us.
    mkfifo "$TMP/$name.in"
    exec 8<>"$TMP/$name.in"
    # Not bg: an asynchronous command's standard input would be /dev/null.
    ip netns exec "$NS" timeout 30 openssl s_server -dtls1_2 -accept "$LINUX_IP:$PORT" \
        -naccept 1 -quiet "$@" <&8 >"$TMP/$name.s.out" 2>"$TMP/$name.s.err" &
    local s=$!
    PIDS+=("$s")
    ns_bound udp "$PORT" || {
        cat "$TMP/$name.s.err"
        fail "(a) $name: openssl s_server -dtls1_2 did not start"
        exec 8>&-
        return
    }
    bg "$TMP/$name.z.log" "${ZENV[@]}" timeout 30 "$ZDTLS" client "$LINUX_IP" "$PORT" \
        --count 20 --size 200 --expect 1 --time-limit 20 "${zargs[@]}"
    local z=$BG_PID
    if wait_line "$TMP/$name.s.out" "^zdtls 000019 " 15; then
        echo "line from s_server $name" >&8
    fi
    wait_pid "$z" 15
    local zrc=$?
    local lines
    lines=$(grep -c "^zdtls 0000[01][0-9] [a-z]*$" "$TMP/$name.s.out")
    if [ "$zrc" -eq 0 ] && [ "$lines" -eq 20 ] &&
        grep -q "^zdtls: received: line from s_server $name$" "$TMP/$name.z.log"; then
        ok "(a) $name: zdtls -> s_server 20 datagrams, s_server -> zdtls 1," \
            "$(grep -o 'suite 0x.*' "$TMP/$name.z.log")"
    else
        cat "$TMP/$name.z.log" "$TMP/$name.s.err"
        fail "(a) $name: zdtls client <-> s_server (exit $zrc, $lines of 20 lines arrived)"
    fi
    stop_pid "$s" 5 >/dev/null 2>&1
    exec 8>&-
}
s_case cert --hostname server.test "${CA[@]}" -- \
    -cert "$PKI/server-rsa.crt" -key "$PKI/server-rsa.key"
s_case ecdsa --hostname server.test "${CA[@]}" -- \
    -cert "$PKI/server-ec.crt" -key "$PKI/server-ec.key"
s_case psk "${ZPSK[@]}" -- -nocert -psk "$PSK_HEX" -psk_identity "$PSK_ID" \
    -cipher PSK-AES128-GCM-SHA256

# ---- (b) openssl s_client -dtls1_2 -> zdtls server --------------------------------------------
# zdtls_server NAME ARGS...: a zdtls echo server in the background; ZPID.
zdtls_server() {
    local name=$1
    shift
    PORT=$((PORT + 1))
    bg "$TMP/$name.z.log" "${ZENV[@]}" timeout 40 "$ZDTLS" server "$PORT" --time-limit 30 "$@"
    ZPID=$BG_PID
    started "$TMP/$name.z.log" "server ready" "(b) $name: zdtls server"
}

# s_client OUT TAG ARGS...: five lines "TAG line N" into openssl s_client
# (0.2 s apart, then 1.5 s for the echoes); what it received into OUT.
s_client() {
    local out=$1 tag=$2
    shift 2
    {
        for i in 1 2 3 4 5; do
            echo "$tag line $i"
            sleep 0.2
        done
        sleep 1.5
    } | in_ns timeout 20 openssl s_client -dtls1_2 -connect "$ZSOCK_IP:$PORT" -quiet -no_ign_eof "$@" \
        >"$out" 2>"$out.err"
}

# echoed OUT TAG: all five lines came back.
echoed() {
    local i
    for i in 1 2 3 4 5; do
        grep -qx "$2 line $i" "$1" || return 1
    done
}

C_VERIFY=(-CAfile "$PKI/ca.crt" -verify_return_error -verify_hostname server.test)
if zdtls_server cert --cert "$PKI/server-rsa.crt" --key "$PKI/server-rsa.key"; then
    s_client "$TMP/b1.out" one "${C_VERIFY[@]}"
    if echoed "$TMP/b1.out" one; then
        ok "(b) cert: s_client (verifying server.test) -> zdtls server, 5 lines echoed"
    else
        cat "$TMP/b1.out.err" "$TMP/cert.z.log"
        fail "(b) cert: s_client -> zdtls server echo"
    fi
    # Two clients at once on the same server socket.
    s_client "$TMP/b2.out" two "${C_VERIFY[@]}" &
    p2=$!
    s_client "$TMP/b3.out" three "${C_VERIFY[@]}"
    wait "$p2"
    if echoed "$TMP/b2.out" two && echoed "$TMP/b3.out" three &&
        ! grep -q three "$TMP/b2.out" && ! grep -q two "$TMP/b3.out"; then
        ok "(b) two s_clients at once on one zdtls server socket, each got its own lines"
    else
        cat "$TMP/b2.out.err" "$TMP/b3.out.err" "$TMP/cert.z.log"
        fail "(b) two s_clients at once on one zdtls server socket"
    fi
    stop_pid "$ZPID" 5 >/dev/null 2>&1
    peers=$(grep -c "^zdtls: server: peer" "$TMP/cert.z.log")
    [ "$peers" -ge 3 ] || fail "(b) the zdtls server saw $peers peers, not 3"
fi

if zdtls_server psk "${ZPSK[@]}"; then
    s_client "$TMP/b4.out" psk -psk "$PSK_HEX" -psk_identity "$PSK_ID" \
        -cipher PSK-AES128-GCM-SHA256
    if echoed "$TMP/b4.out" psk; then
        ok "(b) psk: s_client -> zdtls server, 5 lines echoed"
    else
        cat "$TMP/b4.out.err" "$TMP/psk.z.log"
        fail "(b) psk: s_client -> zdtls server echo"
    fi
    stop_pid "$ZPID" 5 >/dev/null 2>&1
fi

# ---- (c) zdtls client -> openssl s_server under a name it does not carry ------------------------
PORT=$((PORT + 1))
mkfifo "$TMP/c.in"
exec 8<>"$TMP/c.in"
ip netns exec "$NS" timeout 30 openssl s_server -dtls1_2 -accept "$LINUX_IP:$PORT" -naccept 1 \
    -quiet -cert "$PKI/server-rsa.crt" -key "$PKI/server-rsa.key" <&8 >"$TMP/c.s.out" 2>&1 &
S=$!
PIDS+=("$S")
if ns_bound udp "$PORT"; then
    T=$SECONDS
    in_ns "${ZENV[@]}" timeout 30 "$ZDTLS" client "$LINUX_IP" "$PORT" --hostname other.test \
        "${CA[@]}" --time-limit 20 >"$TMP/c.z.log" 2>&1
    if grep -q "handshake failed: .*errno 13" "$TMP/c.z.log" && [ $((SECONDS - T)) -lt 10 ]; then
        ok "(c) wrong host name: $(grep -o 'handshake failed.*' "$TMP/c.z.log")"
    else
        cat "$TMP/c.z.log"
        fail "(c) wrong host name: not refused with EACCES"
    fi
else
    fail "(c) openssl s_server -dtls1_2 did not start"
fi
stop_pid "$S" 5 >/dev/null 2>&1
exec 8>&-

# ---- (d) the same through a lossy, reordering relay ----------------------------------------------
# relay LOG LISTEN-HOST LISTEN-PORT TARGET-HOST TARGET-PORT SEED: lossy_relay.py; RPID.
relay() {
    bg "$1" python3 "$HERE/lossy_relay.py" "$2" "$3" "$4" "$5" --loss 0.1 --reorder 0.1 \
        --seed "$6" --time-limit 40
    RPID=$BG_PID
    started "$1" "relay ready" "(d) lossy relay"
}

# zdtls client -> relay -> s_server: 40 lines; intact ones counted.
PORT=$((PORT + 1))
mkfifo "$TMP/d.in"
exec 8<>"$TMP/d.in"
ip netns exec "$NS" timeout 40 openssl s_server -dtls1_2 -accept "127.0.0.1:$PORT" -naccept 1 \
    -quiet -cert "$PKI/server-rsa.crt" -key "$PKI/server-rsa.key" <&8 >"$TMP/d.s.out" \
    2>"$TMP/d.s.err" &
S=$!
PIDS+=("$S")
if ns_bound udp "$PORT" && relay "$TMP/d.relay" "$LINUX_IP" $((PORT + 100)) 127.0.0.1 "$PORT" 7; then
    in_ns "${ZENV[@]}" timeout 40 "$ZDTLS" client "$LINUX_IP" $((PORT + 100)) --count 40 \
        --size 120 --hostname server.test "${CA[@]}" --hs-min 200 --time-limit 30 \
        >"$TMP/d.z.log" 2>&1
    zrc=$?
    sleep 1
    stop_pid "$RPID" 5 >/dev/null 2>&1
    intact=$(grep -c "^zdtls 0000[0-3][0-9] [a-z]*$" "$TMP/d.s.out")
    other=$(grep -vc "^zdtls 0000[0-3][0-9] [a-z]*$" "$TMP/d.s.out")
    dropped=$(sed -n 's/.* dropped \([0-9]*\) .*/\1/p' "$TMP/d.relay")
    if [ "$zrc" -eq 0 ] && [ "$intact" -ge 1 ] && [ "$other" -eq 0 ] && [ "${dropped:-0}" -gt 0 ]; then
        ok "(d) zdtls -> lossy relay -> s_server: handshake done, $intact of 40 lines intact;" \
            "$(cat "$TMP/d.relay" | tail -n1)"
    else
        cat "$TMP/d.z.log" "$TMP/d.s.err" "$TMP/d.relay"
        fail "(d) zdtls -> lossy relay -> s_server (exit $zrc, $intact intact, $other other)"
    fi
else
    fail "(d) s_server or relay did not start"
fi
stop_pid "$S" 5 >/dev/null 2>&1
exec 8>&-

# s_client -> relay -> zdtls server: ten lines, the echoes that make it back.
if zdtls_server lossy --cert "$PKI/server-rsa.crt" --key "$PKI/server-rsa.key" --hs-min 200; then
    if relay "$TMP/d2.relay" 127.0.0.1 $((PORT + 200)) "$ZSOCK_IP" "$PORT" 11; then
        {
            for i in $(seq 1 10); do
                echo "lossy line $i"
                sleep 0.1
            done
            sleep 2
        } | in_ns timeout 30 openssl s_client -dtls1_2 -connect "127.0.0.1:$((PORT + 200))" \
            -quiet -no_ign_eof "${C_VERIFY[@]}" >"$TMP/d2.out" 2>"$TMP/d2.out.err"
        stop_pid "$RPID" 5 >/dev/null 2>&1
        intact=$(grep -cx "lossy line [0-9]*" "$TMP/d2.out")
        other=$(grep -vcx "lossy line [0-9]*" "$TMP/d2.out")
        dropped=$(sed -n 's/.* dropped \([0-9]*\) .*/\1/p' "$TMP/d2.relay")
        if [ "$intact" -ge 1 ] && [ "$other" -eq 0 ] && [ "${dropped:-0}" -gt 0 ]; then
            ok "(d) s_client -> lossy relay -> zdtls server: $intact of 10 lines echoed intact;" \
                "$(tail -n1 "$TMP/d2.relay")"
        else
            cat "$TMP/d2.out.err" "$TMP/lossy.z.log" "$TMP/d2.relay"
            fail "(d) s_client -> lossy relay -> zdtls server ($intact intact, $other other)"
        fi
    fi
    stop_pid "$ZPID" 5 >/dev/null 2>&1
fi

finish
