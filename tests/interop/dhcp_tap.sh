#!/usr/bin/env bash
# Interop over TAP: zsock's DHCPv4 client (zdhcp) against dnsmasq inside a
# private network namespace. zdhcp gets a lease (address in the range, /24,
# router and DNS 192.0.2.1, its host name in dnsmasq's lease file), Linux
# pings the leased address, the lease is renewed at T1 (10 s, unicast to the
# server), then released (dnsmasq logs DHCPRELEASE and forgets the lease).
# Then the other ways in: zudp with --dhcp, and zudp configured by
# ZSOCK_TAP + ZSOCK_DHCP=1 alone, each echoing Linux's datagrams on the
# address it leased.
# Usage: dhcp_tap.sh ZDHCP ZUDP. Needs root, /dev/net/tun, dnsmasq and
# python3 (else exits 77, "skipped"). Traffic stays inside the namespace,
# on 192.0.2.0/24.
set -u

ZDHCP=${1:?usage: dhcp_tap.sh ZDHCP ZUDP}
ZUDP=${2:?usage: dhcp_tap.sh ZDHCP ZUDP}
NS_TAG=dhcp
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
PATH=$PATH:/usr/sbin # Debian's dnsmasq-base installs it there
ns_require dnsmasq ping python3
need_binary "$ZDHCP" zdhcp
need_binary "$ZUDP" zudp
ns_setup

HOST="zdhcp-$$"
T1=10
T2=20
LEASES="$TMP/dnsmasq.leases"

# dnsmasq in the foreground, logging every DHCP exchange to its log; 2 min
# is the shortest lease it grants, T1 and T2 are passed as options (dnsmasq
# sends them as given, counting down as the lease ages).
bg "$TMP/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
    --log-facility=- --log-dhcp --interface="$TAP" --bind-interfaces \
    --dhcp-range=192.0.2.50,192.0.2.99,255.255.255.0,2m --dhcp-leasefile="$LEASES" \
    --dhcp-option=option:router,"$LINUX_IP" --dhcp-option=option:T1,"$T1" \
    --dhcp-option=option:T2,"$T2"
DNSMASQ=$BG_PID
started "$TMP/dnsmasq.log" "DHCP, sockets bound" dnsmasq || finish

CAPTURE=()
command -v tshark >/dev/null && CAPTURE=(--capture "$TMP/zdhcp.pcap")
bg "$TMP/zdhcp.log" timeout 55 "$ZDHCP" --tap "$TAP" --hostname "$HOST" --renewals 1 \
    --hold 1 --timeout 20 --time-limit 45 --linger 1500 "${CAPTURE[@]}"
Z=$BG_PID

# ---- the lease ------------------------------------------------------------------------------
if ! wait_line "$TMP/zdhcp.log" "^zdhcp: bound" 25; then
    cat "$TMP/zdhcp.log" "$TMP/dnsmasq.log"
    fail "no lease"
    finish
fi
BOUND=$(grep -m1 '^zdhcp: bound' "$TMP/zdhcp.log")
echo "   $BOUND"
ADDR=$(sed -n 's|^zdhcp: bound \([0-9.]*\)/.*|\1|p' <<<"$BOUND")
PREFIX=$(sed -n 's|^zdhcp: bound [0-9.]*/\([0-9]*\) .*|\1|p' <<<"$BOUND")
LAST=${ADDR##*.}
if [[ $ADDR == 192.0.2.* ]] && [ "$LAST" -ge 50 ] && [ "$LAST" -le 99 ] && [ "$PREFIX" = 24 ]; then
    ok "leased $ADDR/$PREFIX from the range"
else
    fail "leased '$ADDR/$PREFIX', not in 192.0.2.50-99/24"
fi
for want in "router $LINUX_IP" "server $LINUX_IP" "dns $LINUX_IP" "lease 120" "t1 $T1" "t2 $T2"; do
    if grep -q " $want " <<<"$BOUND "; then
        ok "lease has $want"
    else
        fail "lease lacks '$want'"
    fi
done
ZMAC=$(sed -n 's/^zdhcp: interface .* mac \([0-9a-f:]*\) .*/\1/p' "$TMP/zdhcp.log" | head -n1)
if wait_line "$LEASES" "$ZMAC $ADDR $HOST" 5; then
    ok "dnsmasq lease file: $(grep "$ADDR" "$LEASES")"
else
    cat "$LEASES"
    fail "dnsmasq's lease file lacks '$ZMAC $ADDR $HOST'"
fi

# ---- Linux reaches the leased address -------------------------------------------------------
if in_ns timeout 20 ping -n -c 3 -W 2 "$ADDR" >"$TMP/ping.txt" 2>&1; then
    ok "ping $ADDR: $(grep 'packets transmitted' "$TMP/ping.txt")"
else
    cat "$TMP/ping.txt"
    fail "ping $ADDR"
fi

# ---- renewal at T1 --------------------------------------------------------------------------
if wait_line "$TMP/zdhcp.log" "^zdhcp: renewed" $((T1 + 15)); then
    RENEWED=$(grep -m1 '^zdhcp: renewed' "$TMP/zdhcp.log")
    echo "   $RENEWED"
    if grep -q " renewals 1" <<<"$RENEWED" && grep -q "^zdhcp: renewed $ADDR/24 " <<<"$RENEWED"; then
        ok "lease renewed for $ADDR"
    else
        fail "renewal line: $RENEWED"
    fi
else
    fail "no renewal within $((T1 + 15)) s"
fi
NREQ=$(grep -c "DHCPREQUEST($TAP) $ADDR $ZMAC" "$TMP/dnsmasq.log")
NACK=$(grep -c "DHCPACK($TAP) $ADDR $ZMAC" "$TMP/dnsmasq.log")
if [ "$NREQ" -ge 2 ] && [ "$NACK" -ge 2 ]; then
    ok "dnsmasq logged $NREQ DHCPREQUEST and $NACK DHCPACK for $ADDR"
else
    fail "dnsmasq logged $NREQ DHCPREQUEST and $NACK DHCPACK for $ADDR (want 2 each)"
fi

# ---- release ----------------------------------------------------------------------------------
if wait_pid "$Z" 30; then
    ok "zdhcp ended well"
else
    fail "zdhcp exit status"
fi
cat "$TMP/zdhcp.log"
grep -q '^zdhcp: released' "$TMP/zdhcp.log" || fail "zdhcp did not release"
if wait_line "$TMP/dnsmasq.log" "DHCPRELEASE($TAP) $ADDR $ZMAC" 5; then
    ok "dnsmasq logged DHCPRELEASE for $ADDR"
else
    fail "dnsmasq logged no DHCPRELEASE for $ADDR"
fi
sleep 0.5
if grep -q " $ADDR " "$LEASES"; then
    fail "dnsmasq still holds the lease: $(cat "$LEASES")"
else
    ok "dnsmasq's lease file dropped $ADDR"
fi
grep -q 'zdhcp: stats dhcp .* malformed 0 foreign 0 ' "$TMP/zdhcp.log" ||
    fail "zdhcp dropped replies: $(grep 'stats dhcp' "$TMP/zdhcp.log")"

# ---- what went over the wire (when tshark is there) -----------------------------------------
if [ ${#CAPTURE[@]} -gt 0 ]; then
    tshark -n -r "$TMP/zdhcp.pcap" -Y dhcp -T fields -e frame.time_relative -e ip.src -e ip.dst \
        -e dhcp.option.dhcp >"$TMP/dhcp.txt" 2>"$TMP/tshark.err" || fail "tshark: $(cat "$TMP/tshark.err")"
    echo "   DHCP in the capture (time, source, destination, type):"
    sed 's/^/     /' "$TMP/dhcp.txt"
    # Type 3 (REQUEST) unicast from the lease to the server: the renewal.
    if awk -v a="$ADDR" -v s="$LINUX_IP" '$2 == a && $3 == s && $4 == 3 {f = 1} END {exit !f}' "$TMP/dhcp.txt"; then
        ok "the renewal went unicast from $ADDR to $LINUX_IP"
    else
        fail "no unicast REQUEST from $ADDR to $LINUX_IP in the capture"
    fi
    if awk -v a="$ADDR" -v s="$LINUX_IP" '$2 == a && $3 == s && $4 == 7 {f = 1} END {exit !f}' "$TMP/dhcp.txt"; then
        ok "the RELEASE went unicast to the server"
    else
        fail "no RELEASE from $ADDR to $LINUX_IP in the capture"
    fi
fi

# ---- zudp --dhcp, and zudp with ZSOCK_DHCP=1 -------------------------------------------------
# echo_run TAG PORT OPTS [VAR=VALUE...]: a zudp echo server on PORT with the
# options OPTS (a word list), in that environment; find the address it
# leased on its interface line and echo a few datagrams from Linux to it.
echo_run() {
    local tag=$1 port=$2 opts=$3 addr pid
    shift 3
    # shellcheck disable=SC2086 # OPTS is a word list
    bg "$TMP/$tag.log" env "$@" timeout 60 "$ZUDP" echo-server "$port" $opts \
        --idle-timeout 2000 --time-limit 40
    pid=$BG_PID
    if ! wait_line "$TMP/$tag.log" "echo-server ready" 30; then
        cat "$TMP/$tag.log"
        fail "$tag: zudp did not start"
        return
    fi
    grep -E '^zudp: (dhcp|interface)' "$TMP/$tag.log" | sed 's/^/   /'
    addr=$(sed -n 's|^zudp: interface .* ipv4 \(192\.0\.2\.[0-9]*\)/24.*|\1|p' "$TMP/$tag.log" | head -n1)
    if [ -z "$addr" ]; then
        fail "$tag: no leased address on zudp's interface"
        return
    fi
    if in_ns timeout 30 python3 "$HERE/udp_peer.py" client "$addr" "$port" --count 20 \
        --max-size 1000 --seed 7 --time-limit 20 >"$TMP/$tag.peer" 2>&1; then
        ok "$tag: zudp leased $addr and echoed $(grep -o 'verified [0-9]*' "$TMP/$tag.peer")"
    else
        cat "$TMP/$tag.peer"
        fail "$tag: echo from $addr"
    fi
    wait_pid "$pid" 20 || fail "$tag: zudp exit status"
}

echo_run "--dhcp" 7000 "--tap $TAP --dhcp"
echo_run "ZSOCK_DHCP=1" 7001 "" ZSOCK_TAP="$TAP" ZSOCK_DHCP=1

stop_pid "$DNSMASQ" 5
echo "   dnsmasq's DHCP log:"
grep -E 'DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE|DECLINE)' "$TMP/dnsmasq.log" | sed 's/^/     /'
finish
