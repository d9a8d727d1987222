#!/usr/bin/env bash
# Interop over TAP: CONNS TCP connections from Linux (many_peer.py, in a
# private network namespace) to one zsock echo server (ztcp echo), all open
# at once: each sends a distinct payload and checks its echo while all stay
# open, then all close. The zsock server must have held all CONNS open at
# once (it prints its peak) and served every one; its TCP counters are shown.
# zsock runs with the stack's default configuration (buffer sizes included);
# the listen backlog is 1024.
# Usage: tcp_many.sh ZTCP [CONNS]. Needs root and /dev/net/tun (else exits
# 77). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZTCP=${1:?usage: tcp_many.sh ZTCP [CONNS]}
CONNS=${2:-1000}
NS_TAG=many
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require python3
need_binary "$ZTCP" ztcp
ns_setup
PORT=7200

# The zsock side needs a descriptor per connection too (its TAP, its own
# table is CONFIG_ZVFS_OPEN_MAX); Linux's limit matters only to the peer.
bg "$TMP/z.log" "${ZENV[@]}" timeout 100 "$ZTCP" echo "$PORT" --count "$CONNS" --time-limit 90
Z=$BG_PID
started "$TMP/z.log" "echo server ready" "ztcp echo server" || finish
start=$SECONDS
if in_ns timeout 80 python3 "$HERE/many_peer.py" "$ZSOCK_IP" "$PORT" --conns "$CONNS" \
    --time-limit 70 >"$TMP/p.log" 2>&1; then
    ok "Linux: $CONNS connections opened, echoed and closed in $((SECONDS - start)) s"
else
    fail "Linux peer"
fi
cat "$TMP/p.log"
wait_pid "$Z" 20 || fail "ztcp echo server exit status"
cat "$TMP/z.log"
if grep -q "^ztcp: echo: $CONNS of $CONNS connections served, 0 failed, .* peak $CONNS open at once" \
    "$TMP/z.log"; then
    ok "zsock held all $CONNS connections open at once and served them all"
else
    fail "zsock did not hold $CONNS connections at once: $(grep '^ztcp: echo:' "$TMP/z.log")"
fi
in_ns nstat -az TcpActiveOpens TcpAttemptFails TcpEstabResets TcpRetransSegs TcpExtTCPTimeouts \
    2>/dev/null | sed -n 's/^\(Tcp[A-Za-z]*\) *\([0-9]*\).*/   Linux \1 \2/p'
# Frames the kernel dropped on the TAP's queue (zsock reading too slowly).
in_ns ip -s link show "$TAP" | awk '/TX:/ {getline; print "   Linux TAP tx packets " $2 ", dropped " $4}'
finish
