#!/usr/bin/env bash
# Interop over TAP: zperf (zsock) against zperf-linux (the kernel) in a
# private network namespace, every byte verified by the receiver:
#   TCP, zsock client -> Linux server, upload and download (-R), 2 streams;
#   TCP, Linux client -> zsock server, upload and download;
#   UDP, zsock client <-> Linux server, upload and download at 200 Mbit/s.
# A run passes when the client exits 0 and its total line reports the bytes
# asked for (TCP) or a UDP summary from the receiver, with no mismatched byte.
# Usage: zperf_tap.sh ZPERF ZPERF_LINUX [BYTES]. Needs root and /dev/net/tun
# (else exits 77, "skipped"). Traffic stays inside the namespace, on
# 192.0.2.0/24.
set -u

ZPERF=${1:?usage: zperf_tap.sh ZPERF ZPERF_LINUX [BYTES]}
ZLINUX=${2:?usage: zperf_tap.sh ZPERF ZPERF_LINUX [BYTES]}
BYTES=${3:-33554432}
NS_TAG=zperf
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require
need_binary "$ZPERF" zperf
need_binary "$ZLINUX" zperf-linux
ns_setup

ZNET=(--tap "$TAP" --ip "$ZSOCK_IP/24")

# start_server NAME PORT CMD...: a one-off server in the namespace; waits
# until it listens (else fails the test). Sets SERVER_PID.
start_server() {
    local name=$1 port=$2
    shift 2
    bg "$TMP/$name.s.log" timeout 40 "$@" -s -1 -p "$port"
    SERVER_PID=$BG_PID
    started "$TMP/$name.s.log" "listening" "$name: server"
}

# check NAME WANT_BYTES PORT SERVER_CMD -- CLIENT_CMD...: run one test.
# WANT_BYTES "udp": a UDP run, judged on its receiver summary.
check() {
    local name=$1 want=$2 port=$3 rc line dash=1
    shift 3
    while [ "${!dash}" != "--" ]; do
        dash=$((dash + 1))
    done
    local server=("${@:1:dash-1}")
    shift "$dash"
    start_server "$name" "$port" "${server[@]}" || return
    in_ns timeout 40 "$@" -p "$port" --verify >"$TMP/$name.c.log" 2>&1
    rc=$?
    wait_pid "$SERVER_PID" 5 2>/dev/null
    line=$(grep "^zperf: summary stream=all" "$TMP/$name.c.log")
    local ok=1
    [ "$rc" -eq 0 ] || ok=0
    [[ "$line" == *" errors=0" ]] || ok=0
    if [ "$want" = udp ]; then
        grep -q "^zperf: udp stream=all .* received=[1-9]" "$TMP/$name.c.log" || ok=0
    else
        [[ "$line" == *" bytes=$want "* ]] || ok=0
    fi
    grep -q "^zperf: summary stream=all" "$TMP/$name.s.log" || ok=0
    if [ $ok -eq 1 ]; then
        ok "$name: ${line#zperf: summary }"
        grep "^zperf: udp stream=all" "$TMP/$name.c.log" | sed 's/^/    /'
    else
        fail "$name (client exit $rc)"
        sed 's/^/    client | /' "$TMP/$name.c.log"
        sed 's/^/    server | /' "$TMP/$name.s.log"
    fi
}

echo "== $BYTES bytes per TCP run"
check "tcp zsock->linux" "$BYTES" 7201 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -n "$BYTES" -P 2
check "tcp linux->zsock (-R)" "$BYTES" 7202 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -n "$BYTES" -R
check "tcp linux client, zsock server, up" "$BYTES" 7203 "$ZPERF" "${ZNET[@]}" -- \
    "$ZLINUX" -c "$ZSOCK_IP" -n "$BYTES"
check "tcp linux client, zsock server, down" "$BYTES" 7204 "$ZPERF" "${ZNET[@]}" -- \
    "$ZLINUX" -c "$ZSOCK_IP" -n "$BYTES" -R
check "udp zsock->linux" udp 7205 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -u -b 200M -t 1
check "udp linux->zsock (-R)" udp 7206 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -u -b 200M -t 1 -R

finish
