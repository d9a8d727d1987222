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
T0=$SECONDS
command -v timeout >/dev/null || {
    echo "SKIPPED udp_pipe.sh: timeout (coreutils) is not installed"
    exit 77
}
[ -x "$ZUDP" ] || { echo "FAIL: no zudp binary at $ZUDP"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsock-udp-pipe.XXXXXX")
A_SOCK="$TMP/a.sock"
B_SOCK="$TMP/b.sock"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STATUS=0
fail() {
    echo "FAIL: $*"
    STATUS=1
}
ok() { echo "ok: $*"; }

wait_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

wait_pid() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill "$1" 2>/dev/null
    wait "$1"
}

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
    "$sside" "${sargs[@]}" >"$TMP/$name.server.log" 2>&1 &
    local spid=$!
    PIDS+=("$spid")
    if ! wait_line "$TMP/$name.server.log" "$ready" 10; then
        cat "$TMP/$name.server.log"
        fail "$name: server did not start"
        return
    fi
    local start=$SECONDS
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

echo "== udp_pipe.sh: $([ $STATUS -eq 0 ] && echo PASSED || echo FAILED) in $((SECONDS - T0)) s"
exit $STATUS
