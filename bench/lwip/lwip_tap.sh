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
NS_TAG=lwip
# shellcheck source=../../tests/interop/ns_lib.sh
. "$HERE/../../tests/interop/ns_lib.sh"
LWIP_IP=$ZSOCK_IP
PORT=5201
ns_require python3
need_binary "$LWIP_ZPERF" lwip_zperf
ns_setup

bg "$TMP/server.log" python3 "$SERVER" --bind "$LINUX_IP" -p "$PORT"
started "$TMP/server.log" "server ready" server || exit 1

for mtu in "${MTUS[@]}"; do
    in_ns ip link set "$TAP" mtu "$mtu" || { fail "cannot set MTU $mtu"; continue; }
    for dir in up down; do
        flag=()
        [ "$dir" = down ] && flag=(-R)
        lines_before=$(wc -l <"$TMP/server.log")
        echo "== mtu=$mtu dir=$dir"
        if ! in_ns timeout $((${SECS%.*} + 60)) "$LWIP_ZPERF" --tap "$TAP" --ip "$LWIP_IP/24" --mtu "$mtu" \
            -c "$LINUX_IP" -p "$PORT" -t "$SECS" "${flag[@]}" "${OPTS[@]}"; then
            fail "lwip_zperf mtu=$mtu dir=$dir"
        fi
        sleep 0.5
        tail -n +"$((lines_before + 1))" "$TMP/server.log" | sed 's/^/server: /'
    done
done
exit $STATUS
