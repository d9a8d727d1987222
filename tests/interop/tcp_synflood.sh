#!/usr/bin/env bash
# Interop over TAP: a SYN flood from the kernel side (tcp_attack.py flood,
# scapy, in a private network namespace) at a zsock listener (ztcp server)
# while Linux clients (tcp_peer.py) connect to it and transfer checked
# streams. The flood is bounded: COUNT SYNs at RATE per second for at most
# 10 s, 90% from random ports of spoofed, unconfigured addresses 192.0.2.10-250
# (zsock's SYN-ACKs to them wait for ARP answers that never come), 10% from
# Linux's own address on random ports (Linux resets those). Checks:
#   - CLIENTS transfers of BYTES each, one after another (2 s apart) during
#     the flood, all complete with the server's byte count and checksum;
#   - the zsock server is still running when the flood ends, and one more
#     transfer after it succeeds;
#   - zsock counted the SYNs it turned away (listen-drops) and its counters
#     are printed (TCP, ARP, the interface).
# Usage: tcp_synflood.sh ZTCP [COUNT [RATE [BYTES [BACKLOG]]]]. Needs root,
# /dev/net/tun and python3-scapy (else exits 77). Traffic stays inside the
# namespace, on 192.0.2.0/24.
set -u

ZTCP=${1:?usage: tcp_synflood.sh ZTCP [COUNT [RATE [BYTES [BACKLOG]]]]}
COUNT=${2:-20000}
RATE=${3:-2000}
BYTES=${4:-8388608}
BACKLOG=${5:-16}
CLIENTS=3
NS_TAG=syn
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require python3 ping
ns_require_scapy
need_binary "$ZTCP" ztcp
ns_setup
PORT=7400

bg "$TMP/z.log" "${ZENV[@]}" timeout 120 "$ZTCP" server "$PORT" --count $((CLIENTS + 1)) \
    --backlog "$BACKLOG" --time-limit 110 --linger 200
Z=$BG_PID
started "$TMP/z.log" "server ready" "ztcp server" || finish
ZMAC=$(zsock_mac)
[ -n "$ZMAC" ] || {
    fail "cannot learn zsock's MAC address"
    finish
}

# client NAME SEED: one checked transfer from Linux to the zsock server.
client() {
    local start=$SECONDS
    if in_ns timeout 50 python3 "$HERE/tcp_peer.py" client "$ZSOCK_IP" "$PORT" --bytes "$BYTES" \
        --seed "$2" --time-limit 40 >"$TMP/$1.log" 2>&1; then
        ok "$1: $BYTES bytes verified in $((SECONDS - start)) s ($(grep -o '[0-9.]* MiB/s' "$TMP/$1.log" | head -n1))"
    else
        fail "$1: transfer of $BYTES bytes"
        cat "$TMP/$1.log"
    fi
}

bg "$TMP/flood.log" timeout 30 "$SCAPY_PY" "$HERE/tcp_attack.py" flood --iface "$TAP" \
    --dst "$ZSOCK_IP" --dst-mac "$ZMAC" --dport "$PORT" --count "$COUNT" --rate "$RATE" --seconds 10
F=$BG_PID
wait_line "$TMP/flood.log" "tcp_attack: flood: [0-9]* SYNs to" 20 || fail "the flood did not start"
sleep 1
flood_start=$SECONDS
for ((i = 1; i <= CLIENTS; i++)); do
    if kill -0 "$F" 2>/dev/null; then
        client "during the flood, client $i" $((400 + i))
        sleep 2 # spread the clients over the flood
    else
        fail "client $i: the flood ended before it (too slow a machine? lower BYTES)"
    fi
done
during=$((SECONDS - flood_start))
wait_pid "$F" 30 || fail "the flood's exit status"
cat "$TMP/flood.log"
if kill -0 "$Z" 2>/dev/null; then
    ok "the zsock server survived the flood"
else
    fail "the zsock server died"
fi
client "after the flood" 410
wait_pid "$Z" 20 || fail "ztcp server exit status"
cat "$TMP/z.log"
grep -q "^ztcp: server: $((CLIENTS + 1)) of $((CLIENTS + 1)) connections served$" "$TMP/z.log" ||
    fail "the ztcp server did not serve $((CLIENTS + 1)) connections"
drops=$(sed -n 's/^ztcp: stats tcp .* listen-drops \([0-9]*\).*/\1/p' "$TMP/z.log")
if [ "${drops:-0}" -gt 0 ]; then
    ok "zsock turned $drops SYNs away at the full backlog ($BACKLOG)"
else
    fail "zsock counted no listen-drops under the flood"
fi
in_ns ip -s link show "$TAP" | awk '/TX:/ {getline; print "   Linux TAP tx packets " $2 ", dropped " $4}'
echo "   the $CLIENTS transfers during the flood took $during s"
finish
