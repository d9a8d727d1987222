#!/usr/bin/env bash
# Interop over TAP: Linux's nc (OpenBSD) against the echo_server sample
# (apps/samples/echo_server.c) in a private network namespace: in each TCP
# mode (thread per connection, poll) three clients at once each send 1 MiB
# of random bytes and half-close; each must get exactly its bytes back. Then
# UDP datagrams echoed in both modes.
# Usage: echo_sample_tap.sh ECHO_SERVER. Needs root, /dev/net/tun, nc and
# cmp (else exits 77). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

SERVER=${1:?usage: echo_sample_tap.sh ECHO_SERVER}
NS_TAG=esample
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
ns_require nc cmp
need_binary "$SERVER" echo_server
ns_setup

for i in 1 2 3; do
    head -c 1048576 /dev/urandom >"$TMP/in$i"
done

# tcp_mode NAME OPTIONS...: three concurrent clients, then the server must
# exit 0 by itself (-n 3).
tcp_mode() {
    local name=$1 i pids=() good=0
    shift
    bg "$TMP/$name.log" "${ZENV[@]}" timeout 60 "$SERVER" -p 7007 -n 3 "$@"
    local pid=$BG_PID
    started "$TMP/$name.log" "echo_server: listening" "$name: echo_server" || return
    for i in 1 2 3; do
        in_ns timeout 30 nc -N "$ZSOCK_IP" 7007 <"$TMP/in$i" >"$TMP/out$i" &
        pids+=($!)
    done
    for i in 1 2 3; do
        if wait "${pids[$((i - 1))]}" && cmp -s "$TMP/in$i" "$TMP/out$i"; then
            good=$((good + 1))
        else
            echo "client $i: $(stat -c %s "$TMP/out$i") bytes back"
        fi
    done
    if [ "$good" = 3 ]; then
        ok "$name: 3 concurrent clients each got their 1 MiB back"
    else
        fail "$name: $good of 3 concurrent clients got their bytes back"
    fi
    wait_pid "$pid" 10 || fail "$name: echo_server exit status"
}

udp_mode() {
    local name=$1 reply
    shift
    bg "$TMP/$name.log" "${ZENV[@]}" timeout 60 "$SERVER" -u -p 7008 -n 1 "$@"
    local pid=$BG_PID
    started "$TMP/$name.log" "echo_server: listening" "$name: echo_server" || return
    reply=$(echo "datagram for zsock" | in_ns timeout 5 nc -u -w 1 "$ZSOCK_IP" 7008)
    if [ "$reply" = "datagram for zsock" ]; then
        ok "$name: datagram echoed"
    else
        fail "$name: datagram reply '$reply'"
    fi
    wait_pid "$pid" 10 || fail "$name: echo_server exit status"
}

tcp_mode tcp-threads
tcp_mode tcp-poll --poll
udp_mode udp
udp_mode udp-poll --poll
finish
