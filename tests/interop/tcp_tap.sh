#!/usr/bin/env bash
# Interop over TAP: TCP between zsock (ztcp) and Linux (tcp_peer.py) inside a
# private network namespace. Every transfer is verified end to end (byte count
# and checksum of a seeded stream, see apps/tools/ztcp.c):
#   (a) Linux client -> zsock server, BIG bytes, with throughput;
#   (b) zsock client -> Linux server, BIG bytes, with throughput;
#   (c) both again, LOSSY bytes each, with 2% loss: netem on the TAP's egress
#       (Linux -> zsock) and an nftables random drop at its ingress (zsock ->
#       Linux); on a kernel without netem, Linux sits on a veth bridged with
#       the TAP and nftables drops 2% on both bridge ports;
#   (d) half-close: Linux clients send 0, 1 and 1000003 bytes, shut down
#       writing and still read the reply and a clean end of stream.
# Usage: tcp_tap.sh ZTCP [BIG [LOSSY]] (bytes; CTest passes the cache variables
# ZSOCK_INTEROP_TCP_BIG and ZSOCK_INTEROP_TCP_LOSSY). Needs root, /dev/net/tun
# and tc (else exits 77, "skipped"); (c) also needs netem or nft (else it alone
# is skipped).
# Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZTCP=${1:?usage: tcp_tap.sh ZTCP [BIG [LOSSY]]}
BIG=${2:-67108864}
LOSSY=${3:-16777216}
# Seconds for one transfer: a minute plus the time at a floor rate (2 MiB/s on
# the clean link, 0.5 MiB/s with loss), so BIG and LOSSY can be any size.
LIMIT=$((60 + BIG / 2097152))
NS_TAG=tcp
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/tcp_peer.py"
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require tc python3
need_binary "$ZTCP" ztcp
ns_setup

# Linux's retransmitted segments in the namespace so far.
retrans() { in_ns nstat -az TcpRetransSegs 2>/dev/null | awk '$1 == "TcpRetransSegs" {print $2}'; }
# The MiB/s figure of a "details" or "connection" line of a log.
rate_of() { sed -n "s/.*$2.* \([0-9.]*\) MiB\/s.*/\1/p" "$1" | head -n1; }

# linux_to_zsock NAME BYTES SEED PORT: Linux client -> ztcp server.
linux_to_zsock() {
    local name=$1 bytes=$2 seed=$3 port=$4 z r0 start
    bg "$TMP/$name.z.log" "${ZENV[@]}" timeout $((LIMIT + 20)) "$ZTCP" server "$port" \
        --time-limit $((LIMIT + 10)) --linger 500
    z=$BG_PID
    started "$TMP/$name.z.log" "server ready" "$name: ztcp server" || return
    r0=$(retrans)
    start=$SECONDS
    if in_ns timeout $((LIMIT + 10)) python3 "$PEER" client "$ZSOCK_IP" "$port" --bytes "$bytes" \
        --seed "$seed" --time-limit "$LIMIT" >"$TMP/$name.p.log" 2>&1; then
        ok "$name: Linux -> zsock $bytes bytes verified in $((SECONDS - start)) s," \
            "$(rate_of "$TMP/$name.p.log" "client details") MiB/s," \
            "Linux retransmitted $(($(retrans) - r0)) segments"
    else
        fail "$name: Linux -> zsock $bytes bytes"
    fi
    cat "$TMP/$name.p.log"
    wait_pid "$z" 15 || fail "$name: ztcp server exit status"
    cat "$TMP/$name.z.log"
}

# zsock_to_linux NAME BYTES SEED PORT: ztcp client -> Linux server.
zsock_to_linux() {
    local name=$1 bytes=$2 seed=$3 port=$4 p start
    bg "$TMP/$name.p.log" timeout $((LIMIT + 20)) python3 "$PEER" server "$port" --bind "$LINUX_IP" \
        --time-limit $((LIMIT + 10))
    p=$BG_PID
    started "$TMP/$name.p.log" "server ready" "$name: Python server" || return
    start=$SECONDS
    if in_ns "${ZENV[@]}" timeout $((LIMIT + 10)) "$ZTCP" client "$LINUX_IP" "$port" \
        --bytes "$bytes" --seed "$seed" --time-limit "$LIMIT" >"$TMP/$name.z.log" 2>&1 &&
        grep -q "^ztcp: sent $bytes, verified" "$TMP/$name.z.log"; then
        ok "$name: zsock -> Linux $bytes bytes verified in $((SECONDS - start)) s," \
            "$(rate_of "$TMP/$name.z.log" "client details") MiB/s"
    else
        fail "$name: zsock -> Linux $bytes bytes"
    fi
    cat "$TMP/$name.z.log"
    wait_pid "$p" 15 || fail "$name: Python server exit status"
    cat "$TMP/$name.p.log"
}

echo "== $BIG bytes clean, $LOSSY lossy"

# ---- (a), (b): a clean link ----------------------------------------------------------------
linux_to_zsock a "$BIG" 101 7100
zsock_to_linux b "$BIG" 102 7101

# ---- (d): half-close, three connections to one zsock server --------------------------------
bg "$TMP/d.z.log" "${ZENV[@]}" timeout 40 "$ZTCP" server 7102 --count 3 --time-limit 30 --linger 500
D=$BG_PID
if wait_line "$TMP/d.z.log" "server ready" 10; then
    for n in 0 1 1000003; do
        if in_ns timeout 30 python3 "$PEER" client "$ZSOCK_IP" 7102 --bytes "$n" --seed 104 \
            --time-limit 20 >"$TMP/d.p.log" 2>&1 &&
            grep -q "^tcp_peer: half-close: .* clean end of stream" "$TMP/d.p.log"; then
            ok "(d) half-close with $n bytes: $(grep '^tcp_peer: half-close' "$TMP/d.p.log")"
        else
            cat "$TMP/d.p.log"
            fail "(d) half-close with $n bytes"
        fi
    done
    wait_pid "$D" 15 || fail "(d) ztcp server exit status"
    grep -q "^ztcp: server: 3 of 3 connections served$" "$TMP/d.z.log" ||
        fail "(d) the ztcp server did not serve 3 connections"
else
    fail "(d) ztcp server did not start"
fi
cat "$TMP/d.z.log"

# ---- (c): 2% loss ---------------------------------------------------------------------------
# nft_drop DEV...: drop 1 in 50 frames at random as they arrive on each DEV
# (netdev ingress hooks: a real loss for both TCPs).
nft_drop() {
    local rules="table netdev zsock_loss {" d
    for d in "$@"; do
        rules+=" chain in_$d { type filter hook ingress device \"$d\" priority 0;"
        rules+=" numgen random mod 50 == 0 counter drop; };"
    done
    echo "$rules }" | in_ns nft -f - 2>>"$TMP/tc.err"
}
LOSS=""
if in_ns tc qdisc add dev "$TAP" root netem loss 2% 2>"$TMP/tc.err"; then
    LOSS="netem loss 2% on the TAP (Linux -> zsock)"
    if command -v nft >/dev/null && nft_drop "$TAP"; then
        LOSS="$LOSS, nftables 2% drop at its ingress (zsock -> Linux)"
    else
        echo "note: no nftables ingress drop: zsock -> Linux loses only ACKs from netem"
    fi
elif command -v nft >/dev/null; then
    # No netem in this kernel: Linux moves to a veth bridged with the TAP, and
    # each bridge port drops 2% of what enters it.
    echo "note: $(tr '\n' ' ' <"$TMP/tc.err")- no netem; using a bridge with nftables drops instead"
    BR="zb$$" VL="zl$$" VB="zv$$"
    if in_ns ip link add "$VL" type veth peer name "$VB" &&
        in_ns ip link add "$BR" type bridge forward_delay 0 stp_state 0 &&
        in_ns ip addr del "$LINUX_IP/24" dev "$TAP" &&
        in_ns ip link set "$TAP" master "$BR" && in_ns ip link set "$VB" master "$BR" &&
        in_ns ip addr add "$LINUX_IP/24" dev "$VL" &&
        in_ns ip link set "$VB" up && in_ns ip link set "$VL" up && in_ns ip link set "$BR" up &&
        nft_drop "$VB" "$TAP"; then
        LOSS="bridge $VL-$VB/$TAP, nftables 2% drop on each port's ingress (both directions)"
    else
        fail "(c) bridge and nftables setup: $(cat "$TMP/tc.err")"
    fi
else
    echo "************************************************************"
    echo "SKIPPED (c): no netem in this kernel ($(cat "$TMP/tc.err")) and no nft"
    echo "************************************************************"
fi
if [ -n "$LOSS" ]; then
    echo "== (c) $LOSS"
    LIMIT=$((60 + LOSSY / 524288))
    linux_to_zsock c1 "$LOSSY" 105 7103
    zsock_to_linux c2 "$LOSSY" 106 7104
    in_ns tc -s qdisc show dev "$TAP" | grep -A2 netem | sed 's/^/   /'
    in_ns nft list table netdev zsock_loss 2>/dev/null | grep counter | sed 's/^ */   /'
fi

echo "== throughput: (a) Linux -> zsock $(rate_of "$TMP/a.p.log" "client details") MiB/s," \
    "(b) zsock -> Linux $(rate_of "$TMP/b.z.log" "client details") MiB/s;" \
    "2% loss: Linux -> zsock $(rate_of "$TMP/c1.p.log" "client details" 2>/dev/null) MiB/s," \
    "zsock -> Linux $(rate_of "$TMP/c2.z.log" "client details" 2>/dev/null) MiB/s"
finish
