#!/usr/bin/env bash
# Standalone lwIP throughput run over TAP: lwip_zperf (Debian's lwIP on a TAP
# device, our driver) against zperf_server.py (Linux kernel sockets) inside a
# private network namespace, upload and download at each MTU given.
# Usage: lwip_tap.sh LWIP_ZPERF [SECONDS [MTU...]]   (default: 5 s, MTU 1500 9000)
# Extra lwip_zperf options (e.g. "--api socket --verify") come from LWIP_ZPERF_OPTS.
# Prints the summary lines of both ends. Needs root and /dev/net/tun (else
# exits 77, "skipped"). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

LWIP_ZPERF=${1:?usage: lwip_tap.sh LWIP_ZPERF [SECONDS [MTU...]]}
SECS=${2:-5}
shift $(($# >= 2 ? 2 : 1))
MTUS=("$@")
[ ${#MTUS[@]} -gt 0 ] || MTUS=(1500 9000)
read -r -a OPTS <<<"${LWIP_ZPERF_OPTS:-}"
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER="$HERE/zperf_server.py"
NS="zsock-lwip-$$"
TAP="zl$$"
LINUX_IP=192.0.2.1
LWIP_IP=192.0.2.2
PORT=5201

skip() {
    echo "SKIPPED lwip_tap.sh: $*"
    exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and a TAP device)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip python3 timeout; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (see scripts/install-deps.sh)"
done
[ -x "$LWIP_ZPERF" ] || { echo "FAIL: no lwip_zperf binary at $LWIP_ZPERF"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsock-lwip-tap.XXXXXX")
SRV=""
cleanup() {
    if [ -n "$SRV" ]; then
        kill "$SRV" 2>/dev/null
        wait "$SRV" 2>/dev/null
    fi
    ip netns exec "$NS" ip link del "$TAP" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" 2>"$TMP/netns.err" || skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
in_ns ip tuntap add dev "$TAP" mode tap || skip "cannot create a TAP device"
in_ns ip addr add "$LINUX_IP/24" dev "$TAP"
in_ns ip link set "$TAP" up

# Not through in_ns: $! must be the server itself (ip netns exec execs it).
ip netns exec "$NS" python3 "$SERVER" --bind "$LINUX_IP" -p "$PORT" >"$TMP/server.log" 2>&1 &
SRV=$!
for _ in $(seq 50); do
    grep -qs "server ready" "$TMP/server.log" && break
    sleep 0.1
done
grep -qs "server ready" "$TMP/server.log" || { cat "$TMP/server.log"; echo "FAIL: server did not start"; exit 1; }

STATUS=0
for mtu in "${MTUS[@]}"; do
    in_ns ip link set "$TAP" mtu "$mtu" || { echo "FAIL: cannot set MTU $mtu"; STATUS=1; continue; }
    for dir in up down; do
        flag=()
        [ "$dir" = down ] && flag=(-R)
        lines_before=$(wc -l <"$TMP/server.log")
        echo "== mtu=$mtu dir=$dir"
        if ! in_ns timeout $((${SECS%.*} + 60)) "$LWIP_ZPERF" --tap "$TAP" --ip "$LWIP_IP/24" --mtu "$mtu" \
            -c "$LINUX_IP" -p "$PORT" -t "$SECS" "${flag[@]}" "${OPTS[@]}"; then
            echo "FAIL: lwip_zperf mtu=$mtu dir=$dir"
            STATUS=1
        fi
        sleep 0.5
        tail -n +"$((lines_before + 1))" "$TMP/server.log" | sed 's/^/server: /'
    done
done
exit $STATUS
