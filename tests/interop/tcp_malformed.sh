#!/usr/bin/env bash
# Interop over TAP: malformed and invalid TCP segments (tcp_attack.py
# malformed, scapy, in a private network namespace) against an established
# connection to a zsock server (ztcp server) and against its listener: bad
# data offsets, an offset beyond the segment, truncated, overlong and
# zero-length options, bad checksums, SYN+FIN, SYN+RST, no flags, urgent
# pointers (the list is in tcp_attack.py). Checks:
#   - the connection still carries its whole stream intact afterwards
#     (the server's byte count and checksum), so no garbage got in;
#   - zsock's tcp.drop_malformed counter rose by exactly the number of
#     segments the parser must reject;
#   - the listener opened no connection for any of them, and a normal
#     transfer to it succeeds afterwards; zsock is still running.
# Usage: tcp_malformed.sh ZTCP. Needs root, /dev/net/tun and python3-scapy
# (else exits 77). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZTCP=${1:?usage: tcp_malformed.sh ZTCP}
NS_TAG=bad
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require python3
ns_require_scapy
need_binary "$ZTCP" ztcp
ns_setup
PORT=7500

bg "$TMP/z.log" "${ZENV[@]}" timeout 100 "$ZTCP" server "$PORT" --count 3 --time-limit 90 \
    --linger 200
Z=$BG_PID
started "$TMP/z.log" "server ready" "ztcp server" || finish
start=$SECONDS
if in_ns timeout 60 "$SCAPY_PY" "$HERE/tcp_attack.py" malformed --iface "$TAP" --dst "$ZSOCK_IP" \
    --dport "$PORT" --time-limit 50 >"$TMP/attack.log" 2>&1; then
    ok "the connection carried its stream intact through the injections, the listener opened nothing ($((SECONDS - start)) s)"
else
    fail "malformed segments (see the tcp_attack lines)"
fi
cat "$TMP/attack.log"
if kill -0 "$Z" 2>/dev/null; then
    ok "the zsock server is still running"
else
    fail "the zsock server died"
fi
if in_ns timeout 30 python3 "$HERE/tcp_peer.py" client "$ZSOCK_IP" "$PORT" --bytes 1000000 \
    --seed 501 --time-limit 20 >"$TMP/after.log" 2>&1; then
    ok "a normal transfer to the listener afterwards: verified"
else
    fail "a normal transfer to the listener afterwards"
    cat "$TMP/after.log"
fi
wait_pid "$Z" 15 || fail "ztcp server exit status"
cat "$TMP/z.log"
want=$(sed -n 's/^tcp_attack: malformed sent \([0-9]*\)$/\1/p' "$TMP/attack.log")
got=$(sed -n 's/^ztcp: stats tcp .* malformed \([0-9]*\) .*/\1/p' "$TMP/z.log")
if [ -n "$want" ] && [ "$got" = "$want" ]; then
    ok "zsock counted $got malformed segments, as many as were sent"
else
    fail "zsock counted ${got:-?} malformed segments, ${want:-?} were sent"
fi
finish
