#!/usr/bin/env bash
# Interop over TAP: zsock's AF_INET6 sockets (ztcp, zudp) against Linux's in
# a private network namespace. zsock has 2001:db8::2/64 (ZSOCK_IPV6) and its
# link-local address; Linux 2001:db8::1/64 and its own. Checked:
#   (a) TCP over IPv6, BIG bytes each way (byte count and checksum of a seeded
#       stream, apps/tools/ztcp.c): Linux client -> zsock server (--ipv6),
#       zsock client -> Linux server; an IPv4 connection to the IPv6-only
#       listener is refused;
#   (b) UDP over IPv6 both ways, datagrams of 1..UDPBIG bytes (fragmented at
#       MTU 1500 when UDPBIG is above 1452), each echoed whole and compared;
#   (c) one dual-stack zsock socket (AF_INET6, IPV6_V6ONLY off), TCP and UDP,
#       reached by Linux over IPv4 and over IPv6, each peer seen by zsock with
#       its own address (::ffff:192.0.2.1 and 2001:db8::1);
#   (d) link-local: Linux connects to zsock's fe80:: address with %dev, zsock
#       to Linux's with a scope id (TCP, and UDP echoes), peers seen with them;
#   (e) ping -6 from Linux to zsock's global and link-local addresses.
# Usage: ipv6_sock_tap.sh ZTCP ZUDP [BIG [UDPBIG]] (BIG: TCP bytes each way,
# 1 GiB by default; UDPBIG: the largest datagram, 8000 by default). Needs
# root, /dev/net/tun, ping and python3 (else exits 77, "skipped").
set -u

ZTCP=${1:?usage: ipv6_sock_tap.sh ZTCP ZUDP [BIG [UDPBIG]]}
ZUDP=${2:?usage: ipv6_sock_tap.sh ZTCP ZUDP [BIG [UDPBIG]]}
BIG=${3:-1073741824}
UDPBIG=${4:-8000}
# Seconds for one big transfer: 30 plus the time at 4 MiB/s.
LIMIT=$((30 + BIG / 4194304))
NS_TAG=v6s
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require ping python3
need_binary "$ZTCP" ztcp
need_binary "$ZUDP" zudp
ns_setup

L6=2001:db8::1
Z6=2001:db8::2
# Linux's DAD would hold its addresses back for a second: not what is tested.
# Set before zsock opens the TAP (carrier up), so the link-local skips it too.
in_ns sysctl -qw "net.ipv6.conf.$TAP.accept_dad=0"
in_ns ip -6 addr add "$L6/64" dev "$TAP" nodad
ZENV6=("${ZENV[@]}" ZSOCK_IPV6="$Z6/64")

# The Linux side: TCP server, UDP echo and UDP client on AF_INET6 sockets,
# with the stream and checksum of tcp_peer.py.
cat >"$TMP/peer6.py" <<'EOF'
import random, select, socket, sys, time
sys.path.insert(0, sys.argv[1])
import tcp_peer

mode = sys.argv[2]


def addr(a):
    # Python keeps a link-local address's scope apart, as an index.
    return a[0] + ("%" + socket.if_indextoname(a[3]) if len(a) > 3 and a[3] else "")


if mode == "tcp-server":  # PORT COUNT SECONDS: ztcp's server protocol
    port, count, secs = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    end = time.monotonic() + secs
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    ls.bind(("::", port))
    ls.listen(4)
    print("peer6: server ready on port %d" % port, flush=True)
    buf = bytearray(1 << 18)
    view = memoryview(buf)
    for n in range(1, count + 1):
        ls.settimeout(tcp_peer.left(end))
        s, peer = ls.accept()
        t0 = time.monotonic()
        k = tcp_peer.Checksum()
        while True:
            s.settimeout(tcp_peer.left(end))
            got = s.recv_into(buf)
            if got == 0:
                break
            k.update(view[:got])
        dt = time.monotonic() - t0
        s.sendall(tcp_peer.reply_line(k.len, k.value()).encode("ascii"))
        s.close()
        print("peer6: connection %d from [%s]:%d: received %d bytes checksum %016x in %.2f s, "
              "%.1f MiB/s" % (n, addr(peer), peer[1], k.len, k.value(), dt,
                              tcp_peer.mib_s(k.len, dt)), flush=True)
elif mode == "udp-echo":  # PORT IDLE: echo until IDLE seconds pass quietly
    port, idle = int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("::", port))
    print("peer6: echo ready on port %d" % port, flush=True)
    seen = set()
    n = 0
    while select.select([s], [], [], idle)[0]:
        data, src = s.recvfrom(65536)
        if addr(src) not in seen:
            seen.add(addr(src))
            print("peer6: peer [%s]:%d" % (addr(src), src[1]), flush=True)
        s.sendto(data, src)
        n += 1
    print("peer6: echoed %d datagrams" % n)
elif mode == "udp-client":  # HOST PORT COUNT MAX SEED: checked echoes
    host, port, count, big, seed = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), \
        int(sys.argv[6]), int(sys.argv[7])
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    s.connect(ai[4])
    rng = random.Random(seed)
    verified = retries = 0
    for i in range(count):
        # Every fourth datagram is the largest: fragments in both directions.
        data = rng.randbytes(big if i % 4 == 0 else rng.randint(1, big))
        ok = False
        for attempt in range(20):
            retries += attempt > 0
            try:
                s.send(data)
            except OSError:
                time.sleep(0.1)
                continue
            while select.select([s], [], [], 0.5)[0]:
                if s.recv(65536) == data:
                    ok = True
                    break
            if ok:
                break
        if not ok:
            print("peer6: datagram %d (%d bytes) not echoed" % (i, len(data)))
            break
        verified += 1
    print("peer6: udp from %s to %s: verified %d of %d, retries %d"
          % (s.getsockname()[0], host, verified, count, retries))
    sys.exit(0 if verified == count else 1)
elif mode == "refused":  # HOST PORT: a TCP connection must be refused
    try:
        socket.create_connection((sys.argv[3], int(sys.argv[4])), timeout=5).close()
    except ConnectionRefusedError:
        print("peer6: connection to %s port %s refused" % (sys.argv[3], sys.argv[4]))
        sys.exit(0)
    except OSError as e:
        print("peer6: connection to %s port %s: %s" % (sys.argv[3], sys.argv[4], e))
        sys.exit(1)
    print("peer6: connection to %s port %s accepted" % (sys.argv[3], sys.argv[4]))
    sys.exit(1)
EOF
peer6() { in_ns python3 "$TMP/peer6.py" "$HERE" "$@"; }
bg_peer6() {
    local log=$1
    shift
    bg "$log" python3 "$TMP/peer6.py" "$HERE" "$@"
}

# expect LOG PATTERN WHAT: ok if LOG has a line matching PATTERN, else fail.
expect() {
    if grep -q -- "$2" "$1"; then
        ok "$3: $(grep -m1 -- "$2" "$1")"
    else
        fail "$3 (no line matching '$2')"
    fi
}
# frag_check LOG WHAT: zudp's IPv6 counters in LOG show fragments sent and
# received and datagrams reassembled (when UDPBIG needs fragments at all).
frag_check() {
    local frag frx ftx rok
    [ "$UDPBIG" -gt 1452 ] || return 0
    frag=$(sed -n 's/^zudp: stats ipv6 .* frag-rx \([0-9]*\) frag-tx \([0-9]*\) reasm-ok \([0-9]*\) .*/\1 \2 \3/p' "$1")
    read -r frx ftx rok <<<"${frag:-0 0 0}"
    if [ "$frx" -gt 0 ] && [ "$ftx" -gt 0 ] && [ "$rok" -gt 0 ]; then
        ok "$2: IPv6 frag-rx $frx frag-tx $ftx reasm-ok $rok"
    else
        fail "$2: no IPv6 fragments both ways in zudp's counters: '$frag'"
    fi
}
# The MiB/s figure of the line matching PATTERN in LOG.
rate_of() { sed -n "s/.*$2.* \([0-9.]*\) MiB\/s.*/\1/p" "$1" | head -n1; }

# stream_check WHAT BYTES LOG NAME CMD...: run a stream client (tcp_peer.py
# or ztcp, NAME as it prints itself) into LOG; ok when it sent BYTES, every
# one verified by the server. The log is shown either way.
stream_check() {
    local what=$1 bytes=$2 log=$3 name=$4 start=$SECONDS
    shift 4
    if "$@" >"$log" 2>&1 && grep -q "^$name: sent $bytes, verified" "$log"; then
        ok "$what $bytes bytes verified in $((SECONDS - start)) s," \
            "$(rate_of "$log" "client details") MiB/s"
    else
        fail "$what $bytes bytes"
    fi
    cat "$log"
}

# ping6_check ADDR: Linux pings zsock's ADDR (e).
ping6_check() {
    if in_ns ping -6 -n -c 2 -W 2 "$1" >"$TMP/ping.txt" 2>&1; then
        ok "(e) ping -6 $1: $(grep 'packets transmitted' "$TMP/ping.txt")"
    else
        cat "$TMP/ping.txt"
        fail "(e) ping -6 $1"
    fi
}

# Each zsock process has a MAC of its own: Linux forgets the last one's.
flush_neigh() {
    in_ns ip neigh flush dev "$TAP" 2>/dev/null
    in_ns ip -6 neigh flush dev "$TAP" 2>/dev/null
}

# ---- (a), (d), (e) against one zsock TCP server (IPv6 only) --------------------------------
bg "$TMP/a.z.log" "${ZENV6[@]}" timeout $((2 * LIMIT + 40)) "$ZTCP" server 7200 --ipv6 --count 2 \
    --time-limit $((2 * LIMIT + 30)) --linger 300
ZA=$BG_PID
started "$TMP/a.z.log" "server ready" "ztcp server" || finish
# Linux's link-local address appears once zsock holds the TAP (carrier up).
LINUX_LL=""
for ((i = 0; i < 50; i++)); do
    LINUX_LL=$(in_ns ip -6 addr show dev "$TAP" scope link | awk '/inet6/ {sub("/.*", "", $2); print $2; exit}')
    [ -n "$LINUX_LL" ] && break
    sleep 0.1
done
# zsock's link-local address, from the tool's list, with its interface name.
ZLL=$(sed -n 's/^ztcp: ipv6 \(fe80:[0-9a-f:]*\)\/64 on \([^ ]*\) preferred.*/\1/p' "$TMP/a.z.log" | head -n1)
ZIF=$(sed -n 's/^ztcp: ipv6 fe80:[0-9a-f:]*\/64 on \([^ ]*\) .*/\1/p' "$TMP/a.z.log" | head -n1)
echo "   zsock $Z6 and $ZLL on its interface $ZIF; Linux $L6 and $LINUX_LL on $TAP"
[ -n "$ZLL" ] || fail "no preferred link-local address in ztcp's output"
expect "$TMP/a.z.log" "^ztcp: server ready on port 7200 on \[::\]:7200$" "(a) listener on [::]"

ping6_check "$Z6"
ping6_check "$ZLL%$TAP"

# IPV6_V6ONLY is on (set explicitly by --ipv6): IPv4 finds no listener.
if peer6 refused "$ZSOCK_IP" 7200 >"$TMP/refused.log" 2>&1; then
    ok "(a) IPv4 to the IPv6-only listener: $(cat "$TMP/refused.log")"
else
    fail "(a) IPv4 to the IPv6-only listener: $(cat "$TMP/refused.log")"
fi

stream_check "(a) Linux -> zsock [$Z6]" "$BIG" "$TMP/a.p.log" tcp_peer \
    in_ns timeout $((LIMIT + 10)) python3 "$HERE/tcp_peer.py" client "$Z6" 7200 --bytes "$BIG" \
    --seed 201 --time-limit "$LIMIT"
stream_check "(d) Linux -> zsock [$ZLL%$TAP]" 1000003 "$TMP/d1.p.log" tcp_peer \
    in_ns timeout 30 python3 "$HERE/tcp_peer.py" client "$ZLL%$TAP" 7200 --bytes 1000003 \
    --seed 202 --time-limit 20
wait_pid "$ZA" 15 || fail "(a) ztcp server exit status"
cat "$TMP/a.z.log"
expect "$TMP/a.z.log" "^ztcp: connection 1 from \[$L6\]:[0-9]*: received $BIG bytes" \
    "(a) zsock saw Linux's global address"
expect "$TMP/a.z.log" "^ztcp: connection 2 from \[$LINUX_LL%$ZIF\]:[0-9]*: received 1000003 bytes" \
    "(d) zsock saw Linux's link-local address with its scope"

# ---- (a), (d): zsock clients -> Linux server --------------------------------------------------
flush_neigh
bg_peer6 "$TMP/b.p.log" tcp-server 7201 2 $((LIMIT + 40))
PB=$BG_PID
started "$TMP/b.p.log" "server ready" "Linux server" || finish
stream_check "(a) zsock -> Linux [$L6]" "$BIG" "$TMP/b.z.log" ztcp \
    in_ns "${ZENV6[@]}" timeout $((LIMIT + 10)) "$ZTCP" client "$L6" 7201 --bytes "$BIG" \
    --seed 203 --time-limit "$LIMIT"
expect "$TMP/b.z.log" "^ztcp: connected from \[$Z6\]:[0-9]* to \[$L6\]:7201$" \
    "(a) zsock's source address"
stream_check "(d) zsock -> Linux [$LINUX_LL%$TAP]" 1000003 "$TMP/d2.z.log" ztcp \
    in_ns "${ZENV6[@]}" timeout 30 "$ZTCP" client "[$LINUX_LL%$TAP]" 7201 --bytes 1000003 \
    --seed 204 --time-limit 20
expect "$TMP/d2.z.log" "^ztcp: connected from \[fe80:[0-9a-f:]*%$TAP\]:[0-9]* to \[$LINUX_LL%$TAP\]:7201$" \
    "(d) zsock's link-local source"
wait_pid "$PB" 15 || fail "Linux server exit status"
cat "$TMP/b.p.log"
expect "$TMP/b.p.log" "^peer6: connection 1 from \[$Z6\]:[0-9]*: received $BIG bytes" \
    "(a) Linux saw zsock's global address"
expect "$TMP/b.p.log" "^peer6: connection 2 from \[fe80:[0-9a-f:]*%$TAP\]:[0-9]*: received 1000003 bytes" \
    "(d) Linux saw zsock's link-local address"

# ---- (c) TCP: one dual-stack listener, IPv4 and IPv6 peers ------------------------------------
flush_neigh
bg "$TMP/c.z.log" "${ZENV6[@]}" timeout 40 "$ZTCP" server 7202 --dual --count 2 --time-limit 30 \
    --linger 300
ZC=$BG_PID
if started "$TMP/c.z.log" "server ready" "ztcp dual-stack server"; then
    for host in "$ZSOCK_IP" "$Z6"; do
        if ! in_ns timeout 30 python3 "$HERE/tcp_peer.py" client "$host" 7202 --bytes 100000 \
            --seed 205 --time-limit 20 >"$TMP/c.p.log" 2>&1 ||
            ! grep -q "^tcp_peer: sent 100000, verified" "$TMP/c.p.log"; then
            fail "(c) Linux -> zsock dual-stack listener via $host: $(cat "$TMP/c.p.log")"
        fi
    done
    wait_pid "$ZC" 15 || fail "(c) ztcp dual-stack server exit status"
    cat "$TMP/c.z.log"
    expect "$TMP/c.z.log" "^ztcp: server ready on port 7202 on \[::\]:7202 (dual stack)$" \
        "(c) one listener on [::], IPV6_V6ONLY off"
    expect "$TMP/c.z.log" "^ztcp: connection 1 from \[::ffff:$LINUX_IP\]:[0-9]*: received 100000 " \
        "(c) TCP over IPv4: a v4-mapped peer"
    expect "$TMP/c.z.log" "^ztcp: connection 2 from \[$L6\]:[0-9]*: received 100000 " \
        "(c) TCP over IPv6: the IPv6 peer"
fi

# ---- (b), (c) UDP: Linux clients -> one dual-stack zsock echo server --------------------------
flush_neigh
bg "$TMP/u.z.log" "${ZENV6[@]}" timeout 60 "$ZUDP" echo-server 7300 --dual --idle-timeout 3000 \
    --time-limit 50
ZU=$BG_PID
if started "$TMP/u.z.log" "echo-server ready" "zudp dual-stack echo server"; then
    if peer6 udp-client "$Z6" 7300 200 "$UDPBIG" 206 >"$TMP/u6.p.log" 2>&1; then
        ok "(b) Linux -> zsock over IPv6, 1..$UDPBIG bytes: $(tail -n1 "$TMP/u6.p.log")"
    else
        fail "(b) Linux -> zsock over IPv6: $(cat "$TMP/u6.p.log")"
    fi
    if peer6 udp-client "$ZSOCK_IP" 7300 50 1400 207 >"$TMP/u4.p.log" 2>&1; then
        ok "(c) Linux -> zsock over IPv4 to the dual-stack socket: $(tail -n1 "$TMP/u4.p.log")"
    else
        fail "(c) Linux -> zsock over IPv4: $(cat "$TMP/u4.p.log")"
    fi
    wait_pid "$ZU" 15 || fail "(b) zudp echo server exit status"
    cat "$TMP/u.z.log"
    frag_check "$TMP/u.z.log" "(b) zudp echo server reassembled and fragmented"
    expect "$TMP/u.z.log" "^zudp: peer [0-9]* \[$L6\]:[0-9]*$" "(c) UDP over IPv6: the IPv6 peer"
    expect "$TMP/u.z.log" "^zudp: peer [0-9]* \[::ffff:$LINUX_IP\]:[0-9]*$" \
        "(c) UDP over IPv4: a v4-mapped peer"
fi

# ---- (b), (d) UDP: zsock clients -> Linux echo, global and link-local -------------------------
flush_neigh
bg_peer6 "$TMP/e.p.log" udp-echo 7301 5
PE=$BG_PID
if started "$TMP/e.p.log" "echo ready" "Linux UDP echo"; then
    in_ns "${ZENV6[@]}" timeout 60 "$ZUDP" client "$L6" 7301 --count 200 --max-size "$UDPBIG" \
        --seed 208 --time-limit 50 >"$TMP/e.z.log" 2>&1
    cat "$TMP/e.z.log"
    expect "$TMP/e.z.log" "^zudp: sent 200, verified 200," "(b) zsock -> Linux over IPv6, 1..$UDPBIG bytes"
    frag_check "$TMP/e.z.log" "(b) zudp client fragmented and reassembled"
    in_ns "${ZENV6[@]}" timeout 30 "$ZUDP" client "$LINUX_LL%$TAP" 7301 --count 20 \
        --max-size 1200 --seed 209 --time-limit 20 >"$TMP/e2.z.log" 2>&1
    expect "$TMP/e2.z.log" "^zudp: sent 20, verified 20," "(d) zsock -> Linux [$LINUX_LL%$TAP] UDP"
    wait_pid "$PE" 15
    cat "$TMP/e.p.log"
    expect "$TMP/e.p.log" "^peer6: peer \[$Z6\]:" "(b) Linux saw zsock's global address"
    expect "$TMP/e.p.log" "^peer6: peer \[fe80:[0-9a-f:]*%$TAP\]:" "(d) Linux saw zsock's link-local address"
fi

echo "== TCP over IPv6: Linux -> zsock $(rate_of "$TMP/a.p.log" "client details") MiB/s," \
    "zsock -> Linux $(rate_of "$TMP/b.z.log" "client details") MiB/s"
finish
