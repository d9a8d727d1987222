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
NS="zsock-zperf-$$"
TAP="zz$$"
LINUX_IP=192.0.2.1
ZSOCK_IP=192.0.2.2
T0=$SECONDS

skip() {
    echo "SKIPPED zperf_tap.sh: $*"
    exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and a TAP device)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "ip is not installed"
command -v timeout >/dev/null || skip "timeout is not installed"
for bin in "$ZPERF" "$ZLINUX"; do
    [ -x "$bin" ] || { echo "FAIL: no executable $bin"; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsock-zperf-tap.XXXXXX")
PIDS=()
cleanup() {
    local pid
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

for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^zsock-zperf-[0-9]+$'); do
    pid=${old#zsock-zperf-}
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "removing stale namespace $old"
        ip netns del "$old" 2>/dev/null
    fi
done

ip netns add "$NS" 2>"$TMP/err" || skip "cannot create a network namespace: $(cat "$TMP/err")"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
in_ns ip tuntap add dev "$TAP" mode tap 2>"$TMP/err" || skip "cannot create a TAP device: $(cat "$TMP/err")"
in_ns ip addr add "$LINUX_IP/24" dev "$TAP"
in_ns ip link set "$TAP" up

STATUS=0
ZNET=(--tap "$TAP" --ip "$ZSOCK_IP/24")

# start_server NAME PORT CMD...: a one-off server in the namespace; waits
# until it listens. Sets SERVER_PID.
start_server() {
    local name=$1 port=$2 i
    shift 2
    # ip itself, not in_ns, so that $! is the process to kill.
    ip netns exec "$NS" timeout 40 "$@" -s -1 -p "$port" >"$TMP/$name.s.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for ((i = 0; i < 50; i++)); do
        grep -q "listening" "$TMP/$name.s.log" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# check NAME WANT_BYTES PORT SERVER_CMD -- CLIENT_CMD...: run one test.
# WANT_BYTES "udp": a UDP run, judged on its receiver summary.
check() {
    local name=$1 want=$2 port=$3 i rc line
    shift 3
    local server=()
    while [ "$1" != "--" ]; do
        server+=("$1")
        shift
    done
    shift
    if ! start_server "$name" "$port" "${server[@]}"; then
        cat "$TMP/$name.s.log"
        echo "FAIL: $name: server did not start"
        STATUS=1
        return
    fi
    in_ns timeout 40 "$@" -p "$port" --verify >"$TMP/$name.c.log" 2>&1
    rc=$?
    for ((i = 0; i < 50; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
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
        echo "ok: $name: ${line#zperf: summary }"
        grep "^zperf: udp stream=all" "$TMP/$name.c.log" | sed 's/^/    /'
    else
        echo "FAIL: $name (client exit $rc)"
        sed 's/^/    client | /' "$TMP/$name.c.log"
        sed 's/^/    server | /' "$TMP/$name.s.log"
        STATUS=1
    fi
}

echo "== namespace $NS, TAP $TAP: Linux $LINUX_IP, zsock $ZSOCK_IP; $BYTES bytes per TCP run"
check "tcp zsock->linux" "$BYTES" 7201 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -n "$BYTES" -P 2
check "tcp linux->zsock (-R)" "$BYTES" 7202 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -n "$BYTES" -R
check "tcp linux client, zsock server, up" "$BYTES" 7203 "$ZPERF" "${ZNET[@]}" -- \
    "$ZLINUX" -c "$ZSOCK_IP" -n "$BYTES"
check "tcp linux client, zsock server, down" "$BYTES" 7204 "$ZPERF" "${ZNET[@]}" -- \
    "$ZLINUX" -c "$ZSOCK_IP" -n "$BYTES" -R
check "udp zsock->linux" udp 7205 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -u -b 200M -t 1
check "udp linux->zsock (-R)" udp 7206 "$ZLINUX" -- "$ZPERF" "${ZNET[@]}" -c "$LINUX_IP" -u -b 200M -t 1 -R

echo "== zperf_tap.sh: $([ $STATUS -eq 0 ] && echo PASSED || echo FAILED) in $((SECONDS - T0)) s"
exit $STATUS
