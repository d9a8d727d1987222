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
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/udp_peer.py"
NS="zsock-udp-$$"
TAP="zt$$"
LINUX_IP=192.0.2.1
ZSOCK_IP=192.0.2.2
SMALL=200 # datagrams of the captured runs, up to SMALL_MAX bytes
SMALL_MAX=$((MAX < 8000 ? MAX : 8000))
# Fragmentation is checked when the stack's configuration carries datagrams
# larger than one 1500-byte frame (the embedded limits do not).
FRAG=$((MAX > 1472 ? 1 : 0))
PING_BIG=$((MAX < 4000 ? MAX : 4000))
T0=$SECONDS

skip() {
    echo "************************************************************"
    echo "SKIPPED udp_tap.sh: $*"
    echo "************************************************************"
    exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and a TAP device)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip python3 ping tshark timeout; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (see scripts/install-deps.sh)"
done
[ -x "$ZUDP" ] || { echo "FAIL: no zudp binary at $ZUDP"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsock-udp-tap.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    ip netns exec "$NS" ip link del "$TAP" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Namespaces left by an earlier run that was killed outright (its pid is gone).
for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^zsock-udp-[0-9]+$'); do
    pid=${old#zsock-udp-}
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "removing stale namespace $old"
        ip netns exec "$old" ip link del "zt$pid" 2>/dev/null
        ip netns del "$old" 2>/dev/null
    fi
done

ip netns add "$NS" 2>"$TMP/netns.err" || skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up || { echo "FAIL: lo up"; exit 1; }
in_ns ip tuntap add dev "$TAP" mode tap || skip "cannot create a TAP device"
in_ns ip addr add "$LINUX_IP/24" dev "$TAP"
in_ns ip link set "$TAP" up

STATUS=0
fail() {
    echo "FAIL: $*"
    STATUS=1
}
ok() { echo "ok: $*"; }

# wait_line FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN.
wait_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# wait_pid PID SECONDS: wait for a background process to end; its status.
wait_pid() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill "$1" 2>/dev/null
    wait "$1"
}

mac_of() { sed -n 's/^zudp: interface .* mac \([0-9a-f:]*\) .*/\1/p' "$1" | head -n1; }
neigh_mac() { in_ns ip neigh show "$ZSOCK_IP" dev "$TAP" | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p'; }

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

echo "== namespace $NS, TAP $TAP: Linux $LINUX_IP, zsock $ZSOCK_IP; sizes up to $MAX, $COUNT datagrams"

# ---- Phase A: ping and a short Linux -> zsock run, captured by ZSOCK_CAPTURE --------------
in_ns env ZSOCK_TAP="$TAP" ZSOCK_IPV4="$ZSOCK_IP/24" ZSOCK_CAPTURE="$TMP/server.pcap" \
    "$ZUDP" echo-server 7000 --idle-timeout 2000 --time-limit 100 >"$TMP/a.log" 2>&1 &
A=$!
PIDS+=("$A")
wait_line "$TMP/a.log" "echo-server ready" 10 || { cat "$TMP/a.log"; echo "FAIL: zudp did not start"; exit 1; }
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
in_ns env ZSOCK_TAP="$TAP" ZSOCK_IPV4="$ZSOCK_IP/24" \
    "$ZUDP" echo-server 7001 --idle-timeout 3000 --time-limit 200 >"$TMP/b.log" 2>&1 &
B=$!
PIDS+=("$B")
wait_line "$TMP/b.log" "echo-server ready" 10 || { cat "$TMP/b.log"; echo "FAIL: zudp did not start"; exit 1; }
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
in_ns timeout 150 python3 "$PEER" echo "$LINUX_IP" 7002 --idle 3 --time-limit 200 >"$TMP/c_echo.log" 2>&1 &
C=$!
PIDS+=("$C")
wait_line "$TMP/c_echo.log" "echo ready" 10 || { cat "$TMP/c_echo.log"; echo "FAIL: python echo did not start"; exit 1; }
# --linger keeps the TAP attached after the run: when zudp closes it the
# carrier drops and Linux flushes its neighbours.
in_ns timeout 60 "$ZUDP" client "$LINUX_IP" 7002 --tap "$TAP" --ip "$ZSOCK_IP/24" \
    --capture "$TMP/client.pcap" --count "$SMALL" --max-size "$SMALL_MAX" --seed 33 \
    --time-limit 50 --linger 3000 >"$TMP/c.log" 2>&1 &
CZ=$!
PIDS+=("$CZ")
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
in_ns timeout 150 python3 "$PEER" echo "$LINUX_IP" 7003 --idle 3 --time-limit 200 >"$TMP/d_echo.log" 2>&1 &
D=$!
PIDS+=("$D")
wait_line "$TMP/d_echo.log" "echo ready" 10 || { cat "$TMP/d_echo.log"; echo "FAIL: python echo did not start"; exit 1; }
start=$SECONDS
if in_ns env ZSOCK_TAP="$TAP" ZSOCK_IPV4="$ZSOCK_IP/24" timeout 150 "$ZUDP" client "$LINUX_IP" 7003 \
    --count "$COUNT" --max-size "$MAX" --seed 44 --time-limit 120 >"$TMP/d.log" 2>&1; then
    ok "zsock -> Linux in $((SECONDS - start)) s: $(grep 'zudp: sent' "$TMP/d.log")"
else
    fail "zsock -> Linux"
fi
cat "$TMP/d.log"
wait_pid "$D" 20 || fail "python echo server (phase D) exit status"
cat "$TMP/d_echo.log"

echo "== udp_tap.sh: $([ $STATUS -eq 0 ] && echo PASSED || echo FAILED) in $((SECONDS - T0)) s"
exit $STATUS
