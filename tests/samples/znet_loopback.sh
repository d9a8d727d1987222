#!/usr/bin/env bash
# znet on the in-process loopback, scripted with -c and through stdin:
# interfaces and routes, a TCP connection it opens to itself (LISTEN and two
# ESTABLISHED ends in `conn`, TIME_WAIT after `close`), a UDP socket, ping,
# a name lookup, interface counters, a capture read back, a failing command
# (exit status 1) and --keep-going.
# Usage: znet_loopback.sh ZNET
# ok and fail always succeed, so "test && ok || fail" is an if-then-else here.
# shellcheck disable=SC2015
set -u
ZNET=${1:?usage: znet_loopback.sh ZNET}
NS_TAG=znet
# shellcheck source=../interop/ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/../interop/ns_lib.sh"
need_binary "$ZNET" znet
run_setup

# expect FILE WHAT REGEX: FILE has a line matching REGEX.
expect() {
    if grep -qE -- "$3" "$1"; then ok "$2"; else fail "$2: no line matching '$3'"; fi
}

timeout 30 "$ZNET" -c "iface; route; tcp listen 7000; tcp connect 127.0.0.1 7000; tcp accept;
    udp bind 5353; conn; ping -c 3 -i 10 127.0.0.1; dns localhost; stats lo;
    capture on lo $TMP/lo.pcap; ping -c 1 127.0.0.1; capture off lo; close; conn; stats" \
    >"$TMP/a.out" 2>&1
rc=$?
cat "$TMP/a.out"
[ "$rc" = 0 ] && ok "script ran, exit 0" || fail "exit status $rc"
expect "$TMP/a.out" "iface lists lo" '^1: lo <UP,LOOPBACK> kind loopback mtu [0-9]+ '
expect "$TMP/a.out" "lo has 127.0.0.1/8" '^    inet 127\.0\.0\.1/8$'
expect "$TMP/a.out" "route 127.0.0.0/8" '^127\.0\.0\.0/8 dev lo$'
expect "$TMP/a.out" "conn: the listener" '^tcp +0\.0\.0\.0:7000 +\*:\* +LISTEN'
n=$(grep -cE '^tcp +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:[0-9]+ +ESTABLISHED' "$TMP/a.out")
[ "$n" = 2 ] && ok "conn: both ends ESTABLISHED" || fail "conn: $n ESTABLISHED lines, want 2"
expect "$TMP/a.out" "conn: the UDP socket" '^udp +0\.0\.0\.0:5353 +\*:\*'
expect "$TMP/a.out" "ping: 3 of 3" '^3 packets transmitted, 3 received, 0% packet loss'
expect "$TMP/a.out" "dns localhost" '^localhost A 127\.0\.0\.1$'
expect "$TMP/a.out" "stats lo" '^lo: rx [1-9][0-9]* packets'
expect "$TMP/a.out" "TIME_WAIT after close" '^tcp +127\.0\.0\.1:7000 +127\.0\.0\.1:[0-9]+ +TIME_WAIT'
expect "$TMP/a.out" "tcp counters" '^tcp: rx [1-9]'
expect "$TMP/a.out" "icmp counters: 4 echo requests" '^icmp: rx 8 tx 8 echo-rx 4 '
if command -v tshark >/dev/null; then
    n=$(tshark -r "$TMP/lo.pcap" 2>/dev/null | grep -c "Echo (ping)")
    [ "$n" = 2 ] && ok "capture: request and reply" || fail "capture: $n ICMP echo packets, want 2"
else
    [ -s "$TMP/lo.pcap" ] && ok "capture written" || fail "no capture"
fi

# stdin, a failing command: exit 1, and the rest skipped...
printf 'iface up nosuchif\niface\n' | timeout 30 "$ZNET" >"$TMP/b.out" 2>&1
rc=$?
cat "$TMP/b.out"
[ "$rc" = 1 ] && ! grep -q "^1: lo" "$TMP/b.out" && ok "stdin: a failing command stops, exit 1" ||
    fail "stdin: exit status $rc"
# ...unless --keep-going.
timeout 30 "$ZNET" --keep-going -c "ping -c 1 -W 100 10.255.0.1; bogus; iface" >"$TMP/c.out" 2>&1
rc=$?
cat "$TMP/c.out"
[ "$rc" = 1 ] && grep -q "^1: lo" "$TMP/c.out" && grep -q "unknown command 'bogus'" "$TMP/c.out" &&
    ok "--keep-going runs on, exit 1" || fail "--keep-going: exit status $rc"
finish
