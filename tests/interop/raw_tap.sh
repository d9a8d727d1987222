#!/usr/bin/env bash
# Interop over TAP: raw IP sockets and the echo-reply switch, between Linux
# and zsock in a private network namespace. zping (zsock's ping on raw
# sockets) pings the kernel over IPv4 and IPv6; the kernel's ping gets no
# answer from zsock with SO_IP_ECHO_REPLY/SO_IPV6_ECHO_REPLY off (zping
# serve --echo-reply off, whose raw sockets still see the requests), an
# answer with them on, and an answer written by the application on its raw
# sockets (zping serve --answer).
# Usage: raw_tap.sh ZPING. Needs root, /dev/net/tun and ping (else exits 77,
# "skipped"). Traffic stays inside the namespace (192.0.2.0/24, 2001:db8::/64).
set -u

ZPING=${1:?usage: raw_tap.sh ZPING}
NS_TAG=raw
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require ping
need_binary "$ZPING" zping
ns_setup
LINUX_IP6=2001:db8::1
ZSOCK_IP6=2001:db8::2
in_ns sysctl -qw "net.ipv6.conf.$TAP.accept_dad=0"
in_ns ip -6 addr add "$LINUX_IP6/64" dev "$TAP" nodad
ZPING_RUN=(in_ns "${ZENV[@]}" timeout 20 "$ZPING" --ip6 "$ZSOCK_IP6/64")

# expect_summary LOG WHAT SENT RECEIVED: LOG has ping's summary line with
# these counts.
expect_summary() {
    if grep -q "^$3 packets transmitted, $4 received" "$1"; then
        ok "$2: $3 sent, $4 received"
    else
        cat "$1"
        fail "$2: expected $3 sent, $4 received"
    fi
}

# zping of the kernel.
"${ZPING_RUN[@]}" --count 3 --interval 200 "$LINUX_IP" >"$TMP/p4.log" 2>&1
expect_summary "$TMP/p4.log" "zping $LINUX_IP" 3 3
grep -q "bytes from $LINUX_IP: icmp_seq=1 ttl=64" "$TMP/p4.log" || fail "no reply line in zping's output"
"${ZPING_RUN[@]}" --count 3 --interval 200 --size 1400 "$LINUX_IP6" >"$TMP/p6.log" 2>&1
expect_summary "$TMP/p6.log" "zping $LINUX_IP6 (1400 bytes)" 3 3

# serve MODE ARGS...: zping serve in the background, log $TMP/MODE.log.
serve() {
    local mode=$1
    shift
    bg "$TMP/$mode.log" "${ZENV[@]}" timeout 20 "$ZPING" --ip6 "$ZSOCK_IP6/64" "$@" serve
    started "$TMP/$mode.log" "serving" "zping serve $mode"
}

# kernel_ping LOG ADDR: two pings from the namespace.
kernel_ping() {
    in_ns ping -n -c 2 -i 0.2 -W 1 "$2" >"$1" 2>&1
}

# The stack's replies off: nothing answers, but the raw socket saw them.
serve off --echo-reply off
kernel_ping "$TMP/k-off.log" "$ZSOCK_IP"
expect_summary "$TMP/k-off.log" "kernel ping, echo replies off" 2 0
kernel_ping "$TMP/k-off6.log" "$ZSOCK_IP6"
expect_summary "$TMP/k-off6.log" "kernel ping6, echo replies off" 2 0
stop_pid "$BG_PID" 5
n=$(grep -c "request from" "$TMP/off.log")
[ "$n" -ge 4 ] && ok "zping's raw sockets saw $n requests" || fail "raw sockets saw $n requests: $(cat "$TMP/off.log")"

# On again.
serve on --echo-reply on
kernel_ping "$TMP/k-on.log" "$ZSOCK_IP"
expect_summary "$TMP/k-on.log" "kernel ping, echo replies on" 2 2
stop_pid "$BG_PID" 5

# The application answers from its raw sockets.
serve answer --answer
kernel_ping "$TMP/k-app.log" "$ZSOCK_IP"
expect_summary "$TMP/k-app.log" "kernel ping, answered by the application" 2 2
kernel_ping "$TMP/k-app6.log" "$ZSOCK_IP6"
expect_summary "$TMP/k-app6.log" "kernel ping6, answered by the application" 2 2
stop_pid "$BG_PID" 5
grep -q "answered" "$TMP/answer.log" || fail "zping did not answer: $(cat "$TMP/answer.log")"
# Exactly one reply per request: the stack's own replies stayed off.
grep -q "DUP" "$TMP/k-app.log" "$TMP/k-app6.log" && fail "duplicate replies (the stack answered too)"

finish
