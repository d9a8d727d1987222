#!/usr/bin/env bash
# Interop over TAP: znet (apps/tools/znet.c) running a zsock stack on a TAP
# device in a private network namespace, scripted with -c: it pings Linux,
# lists Linux in its neighbor cache with the TAP device's MAC address, lists
# a TCP connection Linux opens to its listener, its interface and routes;
# Linux pings it meanwhile.
# Usage: znet_tap.sh ZNET. Needs root, /dev/net/tun and ping (else exits
# 77). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZNET=${1:?usage: znet_tap.sh ZNET}
NS_TAG=znet
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
ns_require ping
need_binary "$ZNET" znet
ns_setup

expect() {
    if grep -qE -- "$2" "$TMP/znet.log"; then ok "$1"; else fail "$1: no line matching '$2'"; fi
}

# znet listens, pings Linux, then waits while Linux pings it and connects.
# Each ping waits 3 s: the first ARP request can go out before Linux's end of
# the TAP has carrier, and ARP asks again after a second.
bg "$TMP/znet.log" timeout 60 "$ZNET" --tap "$TAP" --ip "$ZSOCK_IP/24" --gateway "$LINUX_IP" \
    -c "iface; route; tcp listen 8000; ping -c 3 -i 50 -W 3000 $LINUX_IP; sleep 2500; neigh; conn;
        stats $TAP"
PID=$BG_PID
started "$TMP/znet.log" "packets transmitted" "znet" || finish
if in_ns ping -c 2 -i 0.2 -W 2 "$ZSOCK_IP" >"$TMP/ping.log"; then
    ok "Linux pings zsock: $(grep 'packets transmitted' "$TMP/ping.log")"
else
    fail "Linux cannot ping zsock"
fi
# A connection from Linux, held open while znet lists its connections.
in_ns timeout 5 bash -c "exec 3<>/dev/tcp/$ZSOCK_IP/8000; sleep 3" &
wait_pid "$PID" 30 || fail "znet exit status"
wait
cat "$TMP/znet.log"

linux_mac=$(in_ns cat "/sys/class/net/$TAP/address")
expect "znet pings Linux" '^3 packets transmitted, 3 received, 0% packet loss'
expect "iface: the TAP interface with its address" "^    inet $ZSOCK_IP/24\$"
expect "route: the prefix" "^192\.0\.2\.0/24 dev $TAP\$"
expect "route: the default gateway" "^default via $LINUX_IP dev $TAP\$"
expect "neigh: Linux with its MAC, REACHABLE" "^$LINUX_IP dev $TAP lladdr $linux_mac REACHABLE"
expect "conn: the listener" '^tcp +0\.0\.0\.0:8000 +\*:\* +LISTEN'
expect "conn: Linux's connection, ESTABLISHED" \
    "^tcp +$ZSOCK_IP:8000 +$LINUX_IP:[0-9]+ +ESTABLISHED"
expect "stats of the TAP interface" "^$TAP: rx [1-9][0-9]* packets"
finish
