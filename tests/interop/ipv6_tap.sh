#!/usr/bin/env bash
# Interop over TAP: zsock's IPv6 network layer as a host on a Linux virtual
# Ethernet inside a private network namespace. zsock (zudp, whose sockets are
# IPv4: the stack itself answers ICMPv6) configures its link-local address
# from its MAC and a manual one from ZSOCK_IPV6; Linux pings both; a router advertisement for 2001:db8:1::/64,
# crafted with scapy in the namespace, gives zsock a SLAAC address, which
# Linux pings too, with 3000-byte pings fragmented both ways; Linux's
# neighbour entries hold zsock's MAC; the capture zsock wrote shows its DAD
# probes, MLDv2 reports, router solicitation and answers to Linux's
# solicitations. Usage: ipv6_tap.sh ZUDP [BIG] (BIG: the large pings' payload,
# 3000 by default; less for a stack without a buffer heap). Needs root, /dev/net/tun, ping,
# tshark and python3-scapy (else exits 77, "skipped").
set -u

ZUDP=${1:?usage: ipv6_tap.sh ZUDP [BIG]}
BIG=${2:-3000}
NS_TAG=v6
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require ping tshark
ns_require_scapy
need_binary "$ZUDP" zudp
ns_setup

PREFIX=2001:db8:1
LINUX_IP6=$PREFIX::1
# Linux's own duplicate address detection would hold its addresses back for
# a second or two: not what is tested here.
in_ns sysctl -qw "net.ipv6.conf.$TAP.accept_dad=0"
in_ns ip -6 addr add "$LINUX_IP6/64" dev "$TAP" nodad
# A manual address from the environment, in a second prefix.
ZMANUAL=2001:db8:2::2
in_ns ip -6 addr add 2001:db8:2::1/64 dev "$TAP" nodad

mac_of() { sed -n 's/^zudp: interface .* mac \([0-9a-f:]*\) .*/\1/p' "$1" | head -n1; }

# The modified EUI-64 interface identifier of a MAC, as "xxxx:xxxx:xxxx:xxxx".
eui64() {
    "$SCAPY_PY" - "$1" <<'EOF'
import sys
m = [int(x, 16) for x in sys.argv[1].split(":")]
b = [m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
print(":".join("%x" % (b[i] << 8 | b[i + 1]) for i in range(0, 8, 2)))
EOF
}

# neigh6 ADDR: the MAC Linux's neighbour entry for ADDR holds (empty: none).
neigh6() {
    in_ns ip -6 neigh show "$1" dev "$TAP" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}

# ping6 WHAT ARGS...: ping -6 from the namespace, reported as WHAT.
ping6() {
    local what=$1
    shift
    if in_ns timeout 20 ping -6 -n -W 2 "$@" >"$TMP/ping.txt" 2>&1; then
        ok "$what: $(grep 'packets transmitted' "$TMP/ping.txt")"
    else
        cat "$TMP/ping.txt"
        fail "$what: ping -6 $*"
    fi
}

bg "$TMP/z.log" "${ZENV[@]}" ZSOCK_IPV6="$ZMANUAL/64" ZSOCK_CAPTURE="$TMP/zsock.pcap" "$ZUDP" echo-server 7000 \
    --start-timeout 60000 --idle-timeout 60000 --time-limit 60
Z=$BG_PID
started "$TMP/z.log" "echo-server ready" zudp || finish
ZMAC=$(mac_of "$TMP/z.log")
[ -n "$ZMAC" ] || {
    cat "$TMP/z.log"
    fail "no MAC in zudp's output"
    finish
}
IID=$(eui64 "$ZMAC")
ZLL=fe80::$IID
ZGA=$PREFIX:0:$IID
echo "   zsock MAC $ZMAC: link-local $ZLL, SLAAC address to be $ZGA"

# (a) The link-local address, once its DAD second has passed.
sleep 1.5
ping6 "ping link-local $ZLL" -c 3 "$ZLL%$TAP"
NMAC=$(neigh6 "$ZLL")
if [ "$NMAC" = "$ZMAC" ]; then
    ok "Linux neighbour $ZLL is zsock's MAC $ZMAC"
else
    fail "Linux neighbour $ZLL has MAC '$NMAC', zsock's is '$ZMAC'"
fi

ping6 "ping manual address $ZMANUAL (ZSOCK_IPV6)" -c 2 "$ZMANUAL"

# (b) A router advertisement from the namespace: zsock forms 2001:db8:1::IID.
TAPMAC=$(in_ns cat "/sys/class/net/$TAP/address")
LINUX_LL=$(in_ns ip -6 addr show dev "$TAP" scope link | awk '/inet6/ {sub("/.*", "", $2); print $2; exit}')
if ! in_ns "$SCAPY_PY" - "$TAP" "$TAPMAC" "$LINUX_LL" "$PREFIX::" >"$TMP/ra.log" 2>&1 <<'EOF'; then
import sys
from scapy.all import Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptPrefixInfo, ICMPv6NDOptMTU, sendp
tap, mac, ll, prefix = sys.argv[1:5]
ra = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=ll, dst="ff02::1", hlim=255)
      / ICMPv6ND_RA(routerlifetime=1800, chlim=64)
      / ICMPv6NDOptSrcLLAddr(lladdr=mac) / ICMPv6NDOptMTU(mtu=1500)
      / ICMPv6NDOptPrefixInfo(prefix=prefix, prefixlen=64, L=1, A=1,
                              validlifetime=3600, preferredlifetime=1800))
sendp(ra, iface=tap, verbose=False)
print("ra sent from", ll)
EOF
    cat "$TMP/ra.log"
    fail "scapy could not send the router advertisement"
fi
cat "$TMP/ra.log"
sleep 1.5
ping6 "ping SLAAC address $ZGA" -c 3 "$ZGA"
NMAC=$(neigh6 "$ZGA")
if [ "$NMAC" = "$ZMAC" ]; then
    ok "Linux neighbour $ZGA is zsock's MAC $ZMAC"
else
    fail "Linux neighbour $ZGA has MAC '$NMAC', zsock's is '$ZMAC'"
fi

# (c) Fragments both ways: large pings to each address.
ping6 "ping -s $BIG $ZGA" -c 2 -s "$BIG" "$ZGA"
ping6 "ping -s $BIG $ZLL" -c 2 -s "$BIG" "$ZLL%$TAP"

stop_pid "$Z" 10
cat "$TMP/z.log"

# (d) What zsock did on the wire, from its own capture.
count_frames() {
    tshark -n -r "$TMP/zsock.pcap" -Y "$1" 2>"$TMP/tshark.err" | grep -c .
}
n=$(count_frames '_ws.malformed || _ws.expert.severity == error || icmpv6.checksum.status != "Good"')
[ "$n" = 0 ] || fail "zsock.pcap: $n malformed, erroneous or badly checksummed frames"
check() {
    local n
    n=$(count_frames "$2")
    if [ "$n" -gt 0 ] 2>/dev/null; then
        ok "$1: $n frames ($2)"
    else
        fail "$1: no frame matches '$2'"
    fi
}
check "DAD probe for the link-local address" "icmpv6.type == 135 && ipv6.src == :: && icmpv6.nd.ns.target_address == $ZLL"
check "DAD probe for the manual address" "icmpv6.type == 135 && ipv6.src == :: && icmpv6.nd.ns.target_address == $ZMANUAL"
check "DAD probe for the SLAAC address" "icmpv6.type == 135 && ipv6.src == :: && icmpv6.nd.ns.target_address == $ZGA"
check "MLDv2 reports with a router alert" "icmpv6.type == 143 && eth.src == $ZMAC && ipv6.hlim == 1 && ipv6.hopopts"
check "router solicitation" "icmpv6.type == 133 && eth.src == $ZMAC"
check "Linux's solicitations answered (solicited NA)" "icmpv6.type == 136 && eth.src == $ZMAC && icmpv6.nd.na.flag.s == 1"
check "echo replies from the SLAAC address" "icmpv6.type == 129 && ipv6.src == $ZGA"
check "fragments from Linux" "ipv6.fragment && eth.src == $TAPMAC"
check "fragments from zsock" "ipv6.fragment && eth.src == $ZMAC"
echo "   zsock.pcap: $(tshark -n -r "$TMP/zsock.pcap" 2>/dev/null | grep -c .) frames"

finish
