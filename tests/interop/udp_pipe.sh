#!/usr/bin/env bash
# Interop between two zsock processes joined by a frame pipe (Ethernet frames
# over Unix datagram sockets, no privilege): echo runs each way and a one-way
# send/recv run, every datagram verified byte for byte.
# Usage: udp_pipe.sh ZUDP [MAX_SIZE [COUNT]]. Addresses 192.0.2.1 and .2 exist
# only inside the two zsock stacks; nothing reaches the host's network.
set -u

ZUDP=${1:?usage: udp_pipe.sh ZUDP [MAX_SIZE [COUNT]]}
MAX=${2:-65507}
COUNT=${3:-2000}
NS_TAG=udp-pipe
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
command -v timeout >/dev/null || skip "timeout (coreutils) is not installed"
need_binary "$ZUDP" zudp
run_setup # no namespace: the frame pipe needs no privilege
A_SOCK="$TMP/a.sock"
B_SOCK="$TMP/b.sock"

# Side A is 192.0.2.1 on a.sock, side B 192.0.2.2 on b.sock.
side_a() { ZSOCK_PIPE="$A_SOCK:$B_SOCK" ZSOCK_IPV4=192.0.2.1/24 timeout 150 "$ZUDP" "$@"; }
side_b() { ZSOCK_PIPE="$B_SOCK:$A_SOCK" ZSOCK_IPV4=192.0.2.2/24 timeout 150 "$ZUDP" "$@"; }

# run NAME SERVER_SIDE READY_TEXT SERVER_ARGS -- CLIENT_SIDE CLIENT_ARGS
run() {
    local name=$1 sside=$2 ready=$3
    shift 3
    local sargs=()
    while [ "$1" != "--" ]; do
        sargs+=("$1")
        shift
    done
    shift
    local cside=$1
    shift
    spawn "$TMP/$name.server.log" "$sside" "${sargs[@]}"
    local spid=$BG_PID start
    started "$TMP/$name.server.log" "$ready" "$name: server" || return
    start=$SECONDS
    if "$cside" "$@" >"$TMP/$name.client.log" 2>&1; then
        ok "$name in $((SECONDS - start)) s: $(grep -E '^zudp: sent' "$TMP/$name.client.log")"
    else
        fail "$name: client"
    fi
    wait_pid "$spid" 20 || fail "$name: server exit status"
    echo "-- $name client"
    cat "$TMP/$name.client.log"
    echo "-- $name server"
    cat "$TMP/$name.server.log"
}

echo "== frame pipe in $TMP: sizes up to $MAX, $COUNT datagrams per run"

run a_to_b side_b "echo-server ready" echo-server 7000 --idle-timeout 2000 --time-limit 140 \
    -- side_a client 192.0.2.2 7000 --count "$COUNT" --max-size "$MAX" --seed 101 --time-limit 120

run b_to_a side_a "echo-server ready" echo-server 7001 --idle-timeout 2000 --time-limit 140 \
    -- side_b client 192.0.2.1 7001 --count "$COUNT" --max-size "$MAX" --seed 202 --time-limit 120

# One way with nothing to slow the sender but a short pause between datagrams:
# the receiver verifies every byte and counts what is missing. UDP has no flow
# control, so a receive buffer may overflow (the embedded limits give 16 KiB);
# up to 1% may be lost, none may be corrupt.
LOSS=$((COUNT / 100))
run oneway side_b "recv ready" recv 7002 --count "$COUNT" --max-size "$MAX" --seed 303 \
    --allow-loss "$LOSS" --idle-timeout 5000 --time-limit 140 \
    -- side_a send 192.0.2.2 7002 --count "$COUNT" --max-size "$MAX" --seed 303 \
    --allow-loss "$LOSS" --interval-us 200 --time-limit 120

finish
