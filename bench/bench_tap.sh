#!/usr/bin/env bash
# TCP throughput over TAP: zsock (zperf --tap) against the Linux kernel
# (zperf-linux -s) in a private network namespace, upload and download, at
# MTU 1500 and 9000; optionally lwIP (bench/lwip/lwip_zperf) on a TAP of
# its own the same way; and as a reference Linux to Linux over a veth pair between
# two namespaces at the same MTUs; zsock once more over IPv6 (2001:db8::2 to
# the kernel's 2001:db8::1 on the same TAP, with offloads). Prints Gbit/s per run and a table with
# the ratios. Figures on a shared machine are noisy: compare runs of one
# invocation, not across invocations.
#
# Usage: bench_tap.sh ZPERF ZPERF_LINUX [LWIP_ZPERF]
#   ZPERF_BENCH_SECONDS (default 5) sets the length of each run; the whole
#   script stays within ZPERF_BENCH_BUDGET seconds (default 180): a run that
#   hangs is cut short, and runs that no longer fit are left out ("-").
#   zsock runs twice: with the TAP's checksum and segmentation offloads (as
#   on a virtual NIC; TCP hands the kernel 64 KiB packets), and without them
#   (ZSOCK_TAP_OFFLOAD=0: every frame at most the MTU, as lwIP sends).
# Needs root and /dev/net/tun (else exits 77, "skipped"). Traffic stays in
# the namespaces it creates: 192.0.2.0/25 on zsock's TAP, 192.0.2.128/25 on
# lwIP's, 198.51.100.0/24 on the veth pair.
# zsock and lwIP get a TAP each: zsock turns the device's offloads on
# (TUNSETOFFLOAD), and a device left that way hands 64 KiB segments to the
# next program that opens it without a virtio-net header.
set -u

ZPERF=${1:?usage: bench_tap.sh ZPERF ZPERF_LINUX [LWIP_ZPERF]}
ZLINUX=${2:?usage: bench_tap.sh ZPERF ZPERF_LINUX [LWIP_ZPERF]}
LWIP=${3:-}
SECS=${ZPERF_BENCH_SECONDS:-5}
BUDGET=${ZPERF_BENCH_BUDGET:-180}
MTUS="1500 9000"
NS="zperf-a-$$"  # the TAPs, the Linux server, zsock and lwIP
NSC="zperf-b-$$" # the Linux client of the veth reference
TAP="zpt$$"  # zsock's
LTAP="zpl$$" # lwIP's
VA="zpa$$"
VB="zpb$$"
LINUX_LIP=192.0.2.129
LWIP_IP=192.0.2.130
VETH_SRV=198.51.100.1
VETH_CLI=198.51.100.2
LINUX_IP6=2001:db8::1
ZSOCK_IP6=2001:db8::2
PORT=5201
NS_TAG=bench
HERE=$(cd "$(dirname "$0")" && pwd)
# LINUX_IP and ZSOCK_IP (192.0.2.1, .2), skip, in_ns, bg, started, cleanup.
# shellcheck source=../tests/interop/ns_lib.sh
. "$HERE/../tests/interop/ns_lib.sh"

ns_require awk
for bin in "$ZPERF" "$ZLINUX"; do
    [ -x "$bin" ] || { echo "bench_tap.sh: no executable $bin"; exit 1; }
done
if [ -n "$LWIP" ] && [ ! -x "$LWIP" ]; then
    echo "bench_tap.sh: no executable $LWIP; lwIP is left out"
    LWIP=""
fi

run_setup
# ns_cleanup stops the server and removes zsock's TAP, NS and TMP.
cleanup() {
    in_ns ip link del "$LTAP" 2>/dev/null
    in_ns ip link del "$VA" 2>/dev/null
    ns_cleanup
    ip netns del "$NSC" 2>/dev/null
}
trap cleanup EXIT

ns_remove_stale '^zperf-[ab]-[0-9]+$'

# The TAPs live in NS, where the Linux server runs; zsock and lwIP are
# started inside NS too and attach to theirs by name (as tests/interop/tcp_tap.sh
# does). The veth pair joins NS and NSC.
ip netns add "$NS" 2>"$TMP/err" || skip "cannot create a network namespace: $(cat "$TMP/err")"
ip netns add "$NSC" 2>"$TMP/err" || skip "cannot create a network namespace: $(cat "$TMP/err")"
in_nsc() { ip netns exec "$NSC" "$@"; }
in_ns ip link set lo up
in_nsc ip link set lo up
in_ns ip tuntap add dev "$TAP" mode tap 2>"$TMP/err" || skip "cannot create a TAP device: $(cat "$TMP/err")"
in_ns ip addr add "$LINUX_IP/25" dev "$TAP"
# No duplicate address detection on Linux's side: its address is usable at once.
in_ns sysctl -qw "net.ipv6.conf.$TAP.accept_dad=0"
in_ns ip -6 addr add "$LINUX_IP6/64" dev "$TAP" nodad
in_ns ip link set "$TAP" up
if [ -n "$LWIP" ]; then
    in_ns ip tuntap add dev "$LTAP" mode tap 2>"$TMP/err" || skip "cannot create a TAP device: $(cat "$TMP/err")"
    in_ns ip addr add "$LINUX_LIP/25" dev "$LTAP"
    in_ns ip link set "$LTAP" up
fi
if ! { in_ns ip link add "$VA" type veth peer name "$VB" &&
    in_ns ip link set "$VB" netns "$NSC" &&
    in_ns ip addr add "$VETH_SRV/24" dev "$VA" && in_ns ip link set "$VA" up &&
    in_nsc ip addr add "$VETH_CLI/24" dev "$VB" && in_nsc ip link set "$VB" up; } 2>"$TMP/err"; then
    echo "bench_tap.sh: veth setup failed: $(cat "$TMP/err")"
    exit 1
fi

# The Linux server, for every run: it listens on all of NS's addresses.
# (bg starts it with ip netns exec, which execs it: cleanup kills the server.)
bg "$TMP/server.log" timeout 600 "$ZLINUX" -s -p "$PORT"
started "$TMP/server.log" "listening" server || exit 1

echo "== bench_tap.sh: $SECS s per run; namespace $NS: TAP $TAP (Linux $LINUX_IP, zsock $ZSOCK_IP)," \
    "$([ -n "$LWIP" ] && echo "TAP $LTAP (Linux $LINUX_LIP, lwIP $LWIP_IP),")" \
    "veth $VA-$VB ($VETH_CLI -> $VETH_SRV)"

# gbps_of LOG: the client's total Gbit/s, or "-".
gbps_of() {
    local g
    g=$(sed -n 's/^zperf: summary stream=all .* gbps=\([0-9.]*\) .*/\1/p' "$1" | tail -n1)
    echo "${g:--}"
}
# server_retrans: retransmissions the Linux server counted in its last test.
server_retrans() {
    sed -n 's/^zperf: summary stream=all .* retrans=\([-0-9]*\) .*/\1/p' "$TMP/server.log" | tail -n1
}

# run NAME CMD...: run one client, print its figure, store it in R[NAME].
declare -A R
run() {
    local name=$1 log="$TMP/$1.log" before after
    shift
    local left=$((BUDGET - (SECONDS - T0) - 3)) limit=$((SECS + 10))
    if [ "$left" -lt $((SECS + 2)) ]; then
        R[$name]="-"
        printf '%-22s %8s         (left out: the %d s budget is spent)\n' "$name" - "$BUDGET"
        return
    fi
    [ "$limit" -le "$left" ] || limit=$left
    before=$(grep -c "^zperf: summary stream=all" "$TMP/server.log")
    timeout "$limit" "$@" >"$log" 2>&1
    local rc=$?
    R[$name]=$(gbps_of "$log")
    # The server reports a test 0.3 s after its last stream ends.
    for ((i = 0; i < 20; i++)); do
        after=$(grep -c "^zperf: summary stream=all" "$TMP/server.log")
        [ "$after" -gt "$before" ] && break
        sleep 0.1
    done
    local srv="-"
    [ "$after" -gt "$before" ] && srv=$(server_retrans)
    printf '%-22s %8s Gbit/s  (exit %d, Linux server retrans %s)\n' "$name" "${R[$name]}" "$rc" "$srv"
    if [ "$rc" -ne 0 ] || [ "${R[$name]}" = "-" ]; then
        sed 's/^/    | /' "$log" | tail -n 15
    fi
}

for mtu in $MTUS; do
    in_ns ip link set "$TAP" mtu "$mtu"
    [ -z "$LWIP" ] || in_ns ip link set "$LTAP" mtu "$mtu"
    in_ns ip link set "$VA" mtu "$mtu"
    in_nsc ip link set "$VB" mtu "$mtu"
    for dir in up down; do
        flag=""
        [ "$dir" = down ] && flag="-R"
        in_ns ip neigh flush dev "$TAP" 2>/dev/null
        run "zsock-$dir-$mtu" ip netns exec "$NS" "$ZPERF" --tap "$TAP" --ip "$ZSOCK_IP/25" \
            --mtu "$mtu" -c "$LINUX_IP" -p "$PORT" -t "$SECS" $flag
        # The same over IPv6: the address comes from the environment (ZSOCK_IPV6).
        in_ns ip -6 neigh flush dev "$TAP" 2>/dev/null
        run "zsock6-$dir-$mtu" ip netns exec "$NS" env ZSOCK_TAP="$TAP" ZSOCK_IPV4="$ZSOCK_IP/25" \
            ZSOCK_IPV6="$ZSOCK_IP6/64" ZSOCK_MTU="$mtu" "$ZPERF" -c "$LINUX_IP6" -p "$PORT" \
            -t "$SECS" $flag
        in_ns ip neigh flush dev "$TAP" 2>/dev/null
        run "zsock-nooff-$dir-$mtu" ip netns exec "$NS" env ZSOCK_TAP_OFFLOAD=0 "$ZPERF" \
            --tap "$TAP" --ip "$ZSOCK_IP/25" --mtu "$mtu" -c "$LINUX_IP" -p "$PORT" -t "$SECS" $flag
        if [ -n "$LWIP" ]; then
            in_ns ip neigh flush dev "$LTAP" 2>/dev/null
            run "lwip-$dir-$mtu" ip netns exec "$NS" "$LWIP" --tap "$LTAP" --ip "$LWIP_IP/25" \
                --mtu "$mtu" -c "$LINUX_LIP" -p "$PORT" -t "$SECS" $flag
        else
            R[lwip-$dir-$mtu]="-"
        fi
        run "veth-$dir-$mtu" ip netns exec "$NSC" "$ZLINUX" -c "$VETH_SRV" -p "$PORT" -t "$SECS" $flag
    done
done

# ratio A B: A/B with two decimals, or "-".
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

echo
[ -n "$LWIP" ] || echo "lwIP: not built"
fmt='%-9s %5s %7s %8s %8s %7s %10s %11s %12s %11s %9s\n'
printf "$fmt" direction MTU zsock zsock-v6 zsock-nt lwIP Linux-veth zsock/lwIP zsock-nt/lwIP \
    zsock/veth v6/v4
for mtu in $MTUS; do
    for dir in up down; do
        z=${R[zsock-$dir-$mtu]} n=${R[zsock-nooff-$dir-$mtu]} l=${R[lwip-$dir-$mtu]}
        v=${R[veth-$dir-$mtu]} z6=${R[zsock6-$dir-$mtu]}
        printf "$fmt" "$([ "$dir" = up ] && echo upload || echo download)" "$mtu" "$z" "$z6" "$n" \
            "$l" "$v" "$(ratio "$z" "$l")" "$(ratio "$n" "$l")" "$(ratio "$z" "$v")" \
            "$(ratio "$z6" "$z")"
    done
done
echo "(Gbit/s; upload: the client sends to the Linux server; download: -R, the server sends;"
echo " zsock-nt: zsock without the TAP's offloads, frames of at most the MTU;"
echo " zsock-v6: zsock over IPv6, with offloads; v6/v4: zsock-v6/zsock)"
echo "== bench_tap.sh done in $((SECONDS - T0)) s"
exit 0
