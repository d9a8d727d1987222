#!/usr/bin/env bash
# Interop over TAP: zsock (zudp) as a host on a Linux virtual Ethernet inside a
# private network namespace. Checks ping, UDP both ways with large fragmented
# datagrams verified byte for byte, ARP in both directions, and the pcap capture.
# Usage: udp_tap.sh ZUDP [MAX_SIZE [COUNT]]. Needs root and /dev/net/tun (else
# exits 77, "skipped"). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZUDP=${1:?usage: udp_tap.sh ZUDP [MAX_SIZE [COUNT]]}
MAX=${2:-65507}
COUNT=${3:-10000}
NS_TAG=udp
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/udp_peer.py"
SMALL=200 # datagrams of the captured runs, up to SMALL_MAX bytes
SMALL_MAX=$((MAX < 8000 ? MAX : 8000))
# Fragmentation is checked when the stack's configuration carries datagrams
# larger than one 1500-byte frame (the embedded limits do not).
FRAG=$((MAX > 1472 ? 1 : 0))
PING_BIG=$((MAX < 4000 ? MAX : 4000))
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require python3 ping tshark
need_binary "$ZUDP" zudp
ns_setup

mac_of() { sed -n 's/^zudp: interface .* mac \([0-9a-f:]*\) .*/\1/p' "$1" | head -n1; }

# Checksums are verified too, so a bad one counts as an error.
TSHARK_OPTS="-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE"

# count_frames PCAP FILTER: frames tshark shows for a display filter (-1 on error).
count_frames() {
    local out
    if ! out=$(tshark -n $TSHARK_OPTS -r "$1" -Y "$2" 2>"$TMP/tshark.err"); then
        echo "tshark -r $1 -Y '$2' failed: $(cat "$TMP/tshark.err")" >&2
        echo -1
        return
    fi
    printf '%s' "$out" | grep -c .
}

# check_capture PCAP FILTER...: readable, nothing malformed, each filter matches.
check_capture() {
    local pcap=$1 f n
    shift
    if ! tshark -n $TSHARK_OPTS -r "$pcap" >"$TMP/all.txt" 2>"$TMP/tshark.err"; then
        fail "tshark cannot read $pcap: $(cat "$TMP/tshark.err")"
        return
    fi
    n=$(count_frames "$pcap" "_ws.malformed || _ws.expert.severity == error")
    [ "$n" = 0 ] || fail "$pcap: $n malformed or erroneous frames"
    for f in "$@"; do
        n=$(count_frames "$pcap" "$f")
        if [ "$n" -gt 0 ] 2>/dev/null; then
            ok "$(basename "$pcap"): $n frames match '$f'"
        else
            fail "$(basename "$pcap"): no frame matches '$f'"
        fi
    done
    echo "   $(basename "$pcap"): $(grep -c . "$TMP/all.txt") frames, none malformed"
}

echo "== sizes up to $MAX, $COUNT datagrams"

# ---- Phase A: ping and a short Linux -> zsock run, captured by ZSOCK_CAPTURE --------------
bg "$TMP/a.log" "${ZENV[@]}" ZSOCK_CAPTURE="$TMP/server.pcap" "$ZUDP" echo-server 7000 \
    --idle-timeout 2000 --time-limit 100
A=$BG_PID
started "$TMP/a.log" "echo-server ready" zudp || finish
ZMAC=$(mac_of "$TMP/a.log")
echo "   zsock interface: $(grep '^zudp: interface' "$TMP/a.log")"

# (a) ping: small, then fragmented both ways.
if in_ns timeout 30 ping -n -c 3 -W 2 "$ZSOCK_IP" >"$TMP/ping.txt" 2>&1; then
    ok "ping: $(grep 'packets transmitted' "$TMP/ping.txt")"
else
    cat "$TMP/ping.txt"
    fail "ping -c 3 $ZSOCK_IP"
fi
if in_ns timeout 30 ping -n -c 2 -W 2 -s "$PING_BIG" "$ZSOCK_IP" >"$TMP/ping2.txt" 2>&1; then
    ok "ping -s $PING_BIG: $(grep 'packets transmitted' "$TMP/ping2.txt")"
else
    cat "$TMP/ping2.txt"
    fail "ping -s $PING_BIG $ZSOCK_IP"
fi

# (d) Linux resolved zsock: its neighbour entry holds zsock's MAC.
NMAC=$(neigh_mac)
if [ -n "$ZMAC" ] && [ "$NMAC" = "$ZMAC" ]; then
    ok "Linux neighbour $ZSOCK_IP is zsock's MAC $ZMAC"
else
    fail "Linux neighbour $ZSOCK_IP has MAC '$NMAC', zsock's is '$ZMAC'"
fi

if in_ns timeout 60 python3 "$PEER" client "$ZSOCK_IP" 7000 --count "$SMALL" --max-size "$SMALL_MAX" \
    --seed 11 --time-limit 50 >"$TMP/a_client.log" 2>&1; then
    ok "$(grep 'sent' "$TMP/a_client.log")"
else
    cat "$TMP/a_client.log"
    fail "short Linux -> zsock run"
fi
wait_pid "$A" 20 || fail "zudp echo-server (phase A) exit status"
cat "$TMP/a.log"

# (e) the capture zsock wrote.
FRAG_FILTERS=()
[ "$FRAG" = 1 ] && FRAG_FILTERS=("ip.src == $LINUX_IP && ip.flags.mf == 1" "ip.src == $ZSOCK_IP && ip.flags.mf == 1")
check_capture "$TMP/server.pcap" arp "arp.opcode == 2 && arp.src.proto_ipv4 == $ZSOCK_IP" \
    "icmp.type == 8" "icmp.type == 0 && ip.src == $ZSOCK_IP" udp "${FRAG_FILTERS[@]}"

# ---- Phase B: Linux -> zsock, COUNT datagrams up to MAX bytes -----------------------------
bg "$TMP/b.log" "${ZENV[@]}" "$ZUDP" echo-server 7001 --idle-timeout 3000 --time-limit 200
B=$BG_PID
started "$TMP/b.log" "echo-server ready" zudp || finish
start=$SECONDS
if in_ns timeout 150 python3 "$PEER" client "$ZSOCK_IP" 7001 --count "$COUNT" --max-size "$MAX" \
    --seed 22 --time-limit 120 >"$TMP/b_client.log" 2>&1; then
    ok "Linux -> zsock in $((SECONDS - start)) s: $(grep 'sent' "$TMP/b_client.log")"
else
    fail "Linux -> zsock"
fi
cat "$TMP/b_client.log"
wait_pid "$B" 20 || fail "zudp echo-server (phase B) exit status"
cat "$TMP/b.log"

# ---- Phase C: zsock -> Linux, short and captured, interface from --tap/--ip/--capture -----
bg "$TMP/c_echo.log" timeout 150 python3 "$PEER" echo "$LINUX_IP" 7002 --idle 3 --time-limit 200
C=$BG_PID
started "$TMP/c_echo.log" "echo ready" "python echo" || finish
# --linger keeps the TAP attached after the run: when zudp closes it the
# carrier drops and Linux flushes its neighbours.
bg "$TMP/c.log" timeout 60 "$ZUDP" client "$LINUX_IP" 7002 --tap "$TAP" --ip "$ZSOCK_IP/24" \
    --capture "$TMP/client.pcap" --count "$SMALL" --max-size "$SMALL_MAX" --seed 33 \
    --time-limit 50 --linger 3000
CZ=$BG_PID
wait_line "$TMP/c.log" "zudp: lingering" 55 || fail "zudp client (phase C) did not finish its run"
# (d) zsock resolved Linux: it got an ARP reply, and Linux learned the new MAC.
ZMAC=$(mac_of "$TMP/c.log")
NMAC=$(neigh_mac)
if [ -n "$ZMAC" ] && [ "$NMAC" = "$ZMAC" ]; then
    ok "Linux neighbour $ZSOCK_IP follows the new zsock MAC $ZMAC"
else
    fail "Linux neighbour $ZSOCK_IP has MAC '$NMAC', zsock's is now '$ZMAC'"
fi
if wait_pid "$CZ" 10; then
    ok "short zsock -> Linux: $(grep 'zudp: sent' "$TMP/c.log")"
else
    fail "short zsock -> Linux"
fi
cat "$TMP/c.log"
if grep -q 'zudp: stats arp .* replies-rx [1-9]' "$TMP/c.log"; then
    ok "zsock received ARP replies from $LINUX_IP"
else
    fail "zsock counted no ARP reply"
fi
check_capture "$TMP/client.pcap" "arp.opcode == 1 && arp.src.proto_ipv4 == $ZSOCK_IP && arp.dst.proto_ipv4 == $LINUX_IP" \
    "arp.opcode == 2 && arp.src.proto_ipv4 == $LINUX_IP" "udp && ip.src == $ZSOCK_IP" \
    "udp && ip.src == $LINUX_IP" "${FRAG_FILTERS[@]}"
wait_pid "$C" 20 || fail "python echo server (phase C) exit status"
cat "$TMP/c_echo.log"

# ---- Phase D: zsock -> Linux, COUNT datagrams up to MAX bytes (environment configuration) ---
bg "$TMP/d_echo.log" timeout 150 python3 "$PEER" echo "$LINUX_IP" 7003 --idle 3 --time-limit 200
D=$BG_PID
started "$TMP/d_echo.log" "echo ready" "python echo" || finish
start=$SECONDS
if in_ns "${ZENV[@]}" timeout 150 "$ZUDP" client "$LINUX_IP" 7003 \
    --count "$COUNT" --max-size "$MAX" --seed 44 --time-limit 120 >"$TMP/d.log" 2>&1; then
    ok "zsock -> Linux in $((SECONDS - start)) s: $(grep 'zudp: sent' "$TMP/d.log")"
else
    fail "zsock -> Linux"
fi
cat "$TMP/d.log"
wait_pid "$D" 20 || fail "python echo server (phase D) exit status"
cat "$TMP/d_echo.log"

finish
