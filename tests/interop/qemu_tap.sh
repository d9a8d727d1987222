#!/usr/bin/env bash
# Interop under emulation: the zsock firmware for QEMU's mps2-an386
# (apps/embedded/qemu, a Cortex-M4 with a LAN9118 driven by
# src/net/drivers/lan9118.c) as a host on a Linux TAP device, inside a
# private network namespace. qemu-system-arm runs the ELF with the board's
# LAN9118 on the TAP and UART0 in a file; from Linux:
#   (a) ping 192.0.2.2, 10 packets, no loss;
#   (b) UDP echo (port 7): COUNT datagrams of 1..1472 bytes, each checked;
#   (c) TCP echo (port 7): BYTES each way, checked by SHA-256, with the rate;
#   (d) the firmware's UART log shows the interface, the datagrams, the
#       connection and the pings answered, and no fault.
# Usage: qemu_tap.sh ZSOCK_QEMU_ELF [BYTES [COUNT]]. The ELF comes from the
# cross build (cmake --preset cortex-m4-qemu; scripts/test.sh's stage
# "Cortex-M4 firmware under QEMU"). Needs root, /dev/net/tun and
# qemu-system-arm, and the ELF (else exits 77, "skipped"). Traffic stays
# inside the namespace, on 192.0.2.0/24.
set -u

ELF=${1:?usage: qemu_tap.sh ZSOCK_QEMU_ELF [BYTES [COUNT]]}
BYTES=${2:-1048576}
COUNT=${3:-100}
NS_TAG=qemu
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/echo_peer.py"
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require qemu-system-arm python3 ping
[ -f "$ELF" ] || skip "no firmware at $ELF (build it: cmake --preset cortex-m4-qemu && cmake --build build-qemu)"
ns_setup

UART="$TMP/uart.log"
# The machine's built-in LAN9118 takes the first NIC: -nic with its model.
# No display, no monitor: UART0 to a file. QEMU inherits the namespace.
bg "$TMP/qemu.log" qemu-system-arm -M mps2-an386 -display none -monitor none \
    -serial "file:$UART" -kernel "$ELF" \
    -nic "tap,ifname=$TAP,script=no,downscript=no,model=lan9118"
QEMU=$BG_PID
if ! wait_line "$UART" "ready:" 20; then
    echo "--- UART:"
    cat "$UART" 2>/dev/null
    echo "--- QEMU:"
    cat "$TMP/qemu.log"
    fail "the firmware did not come up"
    finish
fi
ok "firmware up: $(grep -m1 'mac ' "$UART" | sed 's/^\[[^]]*\] //')"

# (a) ping
if in_ns timeout 30 ping -n -c 10 -i 0.2 -W 2 "$ZSOCK_IP" >"$TMP/ping.txt" 2>&1 &&
    grep -q ' 0% packet loss' "$TMP/ping.txt"; then
    ok "ping: $(grep 'packets transmitted' "$TMP/ping.txt"); $(grep '^rtt' "$TMP/ping.txt")"
else
    cat "$TMP/ping.txt"
    fail "ping -c 10 $ZSOCK_IP lost packets"
fi

# (b) UDP echo
if in_ns timeout 60 python3 "$PEER" udp "$ZSOCK_IP" 7 "$COUNT" >"$TMP/udp.txt" 2>&1; then
    ok "$(sed 's/^ok //' "$TMP/udp.txt")"
else
    cat "$TMP/udp.txt"
    fail "UDP echo"
fi

# (c) TCP echo
if in_ns timeout 120 python3 "$PEER" tcp "$ZSOCK_IP" 7 "$BYTES" >"$TMP/tcp.txt" 2>&1; then
    ok "$(sed 's/^ok //' "$TMP/tcp.txt")"
else
    cat "$TMP/tcp.txt"
    fail "TCP echo"
fi

# (d) the firmware's own account: the connection closes after the echo.
wait_line "$UART" "tcp: .* closed after $BYTES bytes" 10 ||
    fail "the UART log does not show the TCP echo of $BYTES bytes closing"
grep -q "udp: datagram $COUNT," "$UART" || [ $((COUNT % 25)) -ne 0 ] ||
    fail "the UART log does not show UDP datagram $COUNT"
# The stats line printed when the connection closed counts the pings.
answered=$(sed -n 's/.*pings answered \([0-9]*\);.*/\1/p' "$UART" | tail -n1)
[ "${answered:-0}" -ge 10 ] || fail "the UART log counts ${answered:-no} pings answered, not 10"
grep -q "\*\*\*" "$UART" && fail "the firmware reported a fault"
kill -0 "$QEMU" 2>/dev/null || fail "qemu-system-arm exited early: $(cat "$TMP/qemu.log")"
echo "--- firmware UART log:"
sed 's/^/   /' "$UART"
stop_pid "$QEMU" 5 2>/dev/null
finish
