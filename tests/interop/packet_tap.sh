#!/usr/bin/env bash
# Interop over TAP: zsock AF_PACKET sockets (the packet sample) against the
# Linux kernel in a private network namespace.
#  1. Linux pings zsock and sends it a UDP datagram; zsock's ETH_P_ALL
#     socket captures the IPv4 frames: Ethernet type, both MACs, the ICMP
#     echo and the UDP payload are checked.
#  2. zsock sends frames of type 88b5 to Linux's MAC, whole (SOCK_RAW) and
#     as payloads (SOCK_DGRAM); a Linux AF_PACKET socket (python) on the TAP
#     receives them.
#  3. zsock sends an ARP request built by hand; the kernel answers it and
#     zsock's packet socket sees the reply.
# Usage: packet_tap.sh PACKET_SAMPLE. Needs root and /dev/net/tun (else
# exits 77). Traffic stays inside the namespace, on 192.0.2.0/24.
# ok and fail always succeed, so "test && ok || fail" is an if-then-else here.
# shellcheck disable=SC2015
set -u

SAMPLE=${1:?usage: packet_tap.sh PACKET_SAMPLE}
NS_TAG=pkt
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require python3 ping
need_binary "$SAMPLE" "packet sample"
ns_setup

LMAC=$(in_ns cat "/sys/class/net/$TAP/address")
zmac_of() { sed -n 's/^packet: interface .* mac \([0-9a-f:]*\)$/\1/p' "$1" | head -n1; }

# check_frames LOG: the frames a sample printed, as python sees them (one
# line per frame: "src dst type hex-payload").
frames_of() {
    python3 - "$1" <<'EOF'
import sys
for line in open(sys.argv[1]):
    if line.startswith("recv "):
        f = bytes.fromhex(line.rsplit(": ", 1)[1].replace(" ", ""))
        print(f[6:12].hex(":"), f[0:6].hex(":"), f[12:14].hex(), f[14:].hex())
EOF
}

# ---- 1. Linux -> zsock: ping and UDP, captured by an ETH_P_ALL socket ---------------------
bg "$TMP/rx.log" "${ZENV[@]}" timeout 20 "$SAMPLE" -c 0 -r 3 -t 0800 -w 10000
RX=$BG_PID
started "$TMP/rx.log" "receiving on" "packet sample (receiver)" || finish
ZMAC=$(zmac_of "$TMP/rx.log")
in_ns ping -n -c 2 -W 2 "$ZSOCK_IP" >"$TMP/ping.txt" 2>&1 || fail "ping: $(tail -n 2 "$TMP/ping.txt")"
in_ns bash -c "printf zsock-packet-udp-mark >/dev/udp/$ZSOCK_IP/9999" || fail "UDP send"
wait_pid "$RX" 15 || fail "receiver: $(tail -n 3 "$TMP/rx.log")"
frames_of "$TMP/rx.log" >"$TMP/rx.frames"
# IPv4 (0800), Linux -> zsock; ICMP (protocol 01) echo request (type 08);
# UDP (11) whose payload ends with the mark.
n_icmp=$(grep -c "^$LMAC $ZMAC 0800 45................01....................08" "$TMP/rx.frames")
mark=$(printf zsock-packet-udp-mark | od -An -tx1 | tr -d ' \n')
n_udp=$(grep -c "^$LMAC $ZMAC 0800 45................11.*$mark\$" "$TMP/rx.frames")
[ "$n_icmp" = 2 ] && ok "2 ICMP echo requests captured ($LMAC -> $ZMAC)" ||
    fail "$n_icmp echo requests captured, want 2: $(cat "$TMP/rx.frames")"
[ "$n_udp" = 1 ] && ok "the UDP datagram captured, payload intact" ||
    fail "UDP datagram not captured: $(cat "$TMP/rx.frames")"

# ---- 2. zsock -> Linux: raw frames and SOCK_DGRAM payloads --------------------------------
cat >"$TMP/cap.py" <<'EOF'
import socket, sys
tap, want = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind((tap, 0))
s.settimeout(10)
print("ready", flush=True)
for _ in range(want):
    f, addr = s.recvfrom(2048)
    print(f[6:12].hex(":"), f[0:6].hex(":"), f[12:14].hex(), f[14:].rstrip(b"\0").decode("ascii", "replace"),
          "pkttype", addr[2], flush=True)
EOF
bg "$TMP/cap.log" timeout 15 python3 "$TMP/cap.py" "$TAP" 5
CAP=$BG_PID
started "$TMP/cap.log" "^ready" "Linux capture" || finish
in_ns "${ZENV[@]}" timeout 10 "$SAMPLE" -c 3 -r 0 -d "$LMAC" >"$TMP/tx1.log" 2>&1 ||
    fail "sample (SOCK_RAW): $(tail -n 2 "$TMP/tx1.log")"
in_ns "${ZENV[@]}" timeout 10 "$SAMPLE" -c 2 -r 0 --dgram -d "$LMAC" >"$TMP/tx2.log" 2>&1 ||
    fail "sample (SOCK_DGRAM): $(tail -n 2 "$TMP/tx2.log")"
wait_pid "$CAP" 10 || fail "Linux capture: $(tail -n 3 "$TMP/cap.log")"
for i in 0 1 2; do
    grep -q "^$(zmac_of "$TMP/tx1.log") $LMAC 88b5 zsock packet sample frame $i" "$TMP/cap.log" ||
        fail "raw frame $i not seen by Linux: $(cat "$TMP/cap.log")"
done
for i in 0 1; do
    grep -q "^$(zmac_of "$TMP/tx2.log") $LMAC 88b5 zsock packet sample frame $i" "$TMP/cap.log" ||
        fail "SOCK_DGRAM frame $i not seen by Linux"
done
[ "$(grep -c 'pkttype 0$' "$TMP/cap.log")" = 5 ] && ok "Linux received 5 frames (3 raw, 2 SOCK_DGRAM)" ||
    fail "Linux capture: $(cat "$TMP/cap.log")"

# ---- 3. a hand-built ARP request, answered by the kernel ----------------------------------
in_ns "${ZENV[@]}" timeout 15 "$SAMPLE" --arp "$ZSOCK_IP:$LINUX_IP" -r 1 -t 0806 >"$TMP/arp.log" 2>&1 ||
    fail "ARP sample: $(tail -n 2 "$TMP/arp.log")"
ZMAC=$(zmac_of "$TMP/arp.log")
frames_of "$TMP/arp.log" >"$TMP/arp.frames"
# A reply (op 2) from Linux's MAC and 192.0.2.1 to zsock's MAC and 192.0.2.2.
want="0001080006040002${LMAC//:/}c0000201${ZMAC//:/}c0000202"
if grep -q "^$LMAC $ZMAC 0806 $want" "$TMP/arp.frames"; then
    ok "the kernel answered zsock's ARP request"
else
    fail "no ARP reply: $(cat "$TMP/arp.frames" "$TMP/arp.log")"
fi
finish
