#!/usr/bin/python3
# Hostile TCP traffic for the interop tests, injected as Ethernet frames on
# the Linux side of zsock's TAP device (AF_PACKET; needs root). Frames are
# built with scapy (Debian's python3-scapy, hence /usr/bin/python3).
#
#   flood: a bounded SYN flood at zsock's listening port: --count SYNs at
#     --rate per second for at most --seconds, from random ports of random
#     unconfigured (spoofed) addresses of --net (their SYN-ACKs are never
#     answered), and a share (--own-share) from Linux's own address on random
#     ports (Linux answers those SYN-ACKs with resets).
#
#   malformed: open a connection to ztcp's server with the kernel's TCP, send
#     the first half of the tcp_peer.py stream, then inject, in its sequence
#     space, segments zsock must drop: bad data offsets, an offset beyond the
#     segment, truncated, overlong and zero-length options, bad checksums
#     (also on an exact RST), an IP length that cuts the header, SYN+FIN,
#     no flags, FIN without ACK; and segments it may accept: an urgent
#     pointer without data, and urgent data carrying the stream's own next
#     bytes. Every rejected segment carries garbage at the receiver's next
#     sequence number, so accepting one would corrupt the stream. Then
#     malformed and invalid segments go to the listener from fresh ports (bad
#     offset, options, checksum; SYN+FIN, SYN+RST, no flags, URG): none may
#     open a connection (a SYN-ACK); zsock's answers are printed. A second
#     connection (queued behind the first at the sequential server) gets
#     SYN+RST in its window, off the next sequence number. Finally each connection
#     sends the rest of its stream, shuts down writing and checks the
#     server's reply (byte count and checksum). Prints "tcp_attack:
#     malformed sent N": the number of segments zsock's tcp.drop_malformed
#     must have counted.
import argparse
import fcntl
import os
import random
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcp_peer  # noqa: E402  (the stream and checksum of apps/tools/ztcp.c)

from scapy.all import IP, Ether, Raw, raw  # noqa: E402
from scapy.utils import checksum  # noqa: E402

ETH_P_ALL = 0x0003
SIOCOUTQ = 0x5411
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def packet_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    s.bind((iface, 0))
    return s


def mac_of(iface):
    with open("/sys/class/net/%s/address" % iface) as f:
        return f.read().strip()


def tcp_checksum(src, dst, seg):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    return checksum(pseudo + seg)


def tcp_segment(src, dst, sport, dport, seq, ack, flags, options=b"", payload=b"", doff=None,
                window=65535, urg=0, bad_csum=False):
    """A TCP segment as bytes: the header (data offset `doff` words, default
    the real one), `options` as given (no padding added), then `payload`;
    its checksum correct unless `bad_csum`."""
    real = (20 + len(options)) // 4
    off = real if doff is None else doff
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (off & 0xF) << 4, flags, window, 0, urg) + options
    seg = bytearray(hdr + payload)
    c = tcp_checksum(src, dst, bytes(seg))
    if bad_csum:
        c ^= 0x5A5A
    struct.pack_into("!H", seg, 16, c)
    return bytes(seg)


def frame(src_mac, dst_mac, src, dst, seg, ip_len=None):
    ip = IP(src=src, dst=dst, proto=6, ttl=64, id=random.getrandbits(16))
    if ip_len is not None:
        ip.len = ip_len
    return raw(Ether(src=src_mac, dst=dst_mac) / ip / Raw(seg))


# ---- flood -------------------------------------------------------------------------------------

def flood(a):
    s = packet_socket(a.iface)
    own_mac = mac_of(a.iface)
    net = a.net.rsplit(".", 1)[0]
    lo, hi = (int(x) for x in a.hosts.split("-"))
    rnd = random.Random(a.seed)
    # One template per spoofed address (scapy builds it); ports and sequence
    # numbers are then patched in and the TCP checksum recomputed.
    opts = struct.pack("!BBH", 2, 4, 1460) + b"\x01\x03\x03\x07"  # MSS 1460, NOP, WS 7
    templates = []
    for h in range(lo, hi + 1):
        src = "%s.%d" % (net, h)
        mac = "02:5e:%02x:%02x:%02x:%02x" % (h, rnd.randrange(256), rnd.randrange(256),
                                              rnd.randrange(256))
        templates.append((src, frame(mac, a.dst_mac, src, a.dst,
                                     tcp_segment(src, a.dst, 1, a.dport, 0, 0, SYN, opts))))
    own = frame(own_mac, a.dst_mac, a.own_ip, a.dst,
                tcp_segment(a.own_ip, a.dst, 1, a.dport, 0, 0, SYN, opts))
    frames = []
    n_own = 0
    for _ in range(a.count):
        if rnd.random() < a.own_share:
            src, f = a.own_ip, own
            n_own += 1
        else:
            src, f = templates[rnd.randrange(len(templates))]
        f = bytearray(f)
        struct.pack_into("!H", f, 34, rnd.randrange(1024, 65536))  # source port
        struct.pack_into("!I", f, 38, rnd.getrandbits(32))  # sequence number
        f[50:52] = b"\0\0"
        struct.pack_into("!H", f, 50, tcp_checksum(src, a.dst, bytes(f[34:])))
        frames.append(bytes(f))
    print("tcp_attack: flood: %d SYNs to %s:%d (%d from %d spoofed addresses %s.%d-%d, %d from "
          "%s), %d/s for at most %.0f s" % (a.count, a.dst, a.dport, a.count - n_own,
                                             len(templates), net, lo, hi, n_own, a.own_ip,
                                             a.rate, a.seconds), flush=True)
    t0 = time.monotonic()
    sent = 0
    errors = 0
    for f in frames:
        now = time.monotonic() - t0
        if now >= a.seconds:
            break
        ahead = sent / a.rate - now
        if ahead > 0:
            time.sleep(ahead)
        try:
            s.send(f)
            sent += 1
        except OSError:
            errors += 1  # the TAP's queue is full: zsock is not reading fast enough
    dt = time.monotonic() - t0
    print("tcp_attack: flood: sent %d SYNs in %.2f s (%.0f/s), %d not queued" %
          (sent, dt, sent / dt if dt > 0 else 0, errors), flush=True)
    return 0


# ---- malformed ---------------------------------------------------------------------------------

class Capture:
    """Frames seen on the TAP, both directions, parsed as IPv4/TCP."""

    def __init__(self, iface):
        self.s = packet_socket(iface)
        self.s.setblocking(False)
        self.segs = []

    def poll(self):
        while True:
            try:
                f = self.s.recv(65536)
            except BlockingIOError:
                return
            if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6:
                continue
            ihl = (f[14] & 0xF) * 4
            t = f[14 + ihl:]
            if len(t) < 20:
                continue
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", t[:14])
            hl = (off >> 4) * 4
            tot = struct.unpack("!H", f[16:18])[0]
            plen = max(0, tot - ihl - hl)
            tsval = tsecr = None
            o = t[20:hl]
            i = 0
            while i < len(o):
                if o[i] == 0:
                    break
                if o[i] == 1:
                    i += 1
                    continue
                if i + 1 >= len(o) or o[i + 1] < 2:
                    break
                if o[i] == 8 and o[i + 1] == 10 and i + 10 <= len(o):
                    tsval, tsecr = struct.unpack("!II", o[i + 2:i + 10])
                i += o[i + 1]
            self.segs.append(dict(src=socket.inet_ntoa(f[26:30]), dst=socket.inet_ntoa(f[30:34]),
                                  smac=f[6:12].hex(":"), sport=sport, dport=dport, seq=seq,
                                  ack=ack, flags=flags, plen=plen, tsval=tsval, tsecr=tsecr))


def seq_end(g):
    return (g["seq"] + g["plen"] + (1 if g["flags"] & SYN else 0) +
            (1 if g["flags"] & FIN else 0)) & 0xFFFFFFFF


def wait_acked(sock, end):
    while True:
        q = struct.unpack("i", fcntl.ioctl(sock.fileno(), SIOCOUTQ, b"\0\0\0\0"))[0]
        if q == 0:
            return
        if time.monotonic() > end:
            raise TimeoutError("time limit reached waiting for the peer's ACKs")
        time.sleep(0.01)


def flag_names(f):
    return "".join(n for b, n in ((SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (ACK, "A"),
                                  (URG, "U")) if f & b) or "none"


class Victim:
    """A kernel TCP connection to the server whose sequence space we inject
    into: `first` bytes of `stream` are sent and acknowledged, then the
    next sequence numbers both ways and the timestamps are read from the
    capture."""

    def __init__(self, a, cap, stream, first, end):
        self.stream = stream
        self.first = first
        self.s = socket.create_connection((a.dst, a.dport), timeout=a.time_limit)
        self.sport = self.s.getsockname()[1]
        self.s.sendall(stream[:first])
        wait_acked(self.s, end)
        time.sleep(0.2)  # let zsock's delayed ACK and window updates go out
        cap.poll()
        out = [g for g in cap.segs if g["sport"] == self.sport and g["dport"] == a.dport]
        back = [g for g in cap.segs if g["sport"] == a.dport and g["dport"] == self.sport]
        if not out or not back:
            raise RuntimeError("the connection was not captured")
        self.zmac = back[0]["smac"]
        self.snd_nxt = seq_end(out[-1])  # Linux's next sequence number: zsock's rcv_nxt
        if self.snd_nxt != (out[0]["seq"] + 1 + first) & 0xFFFFFFFF:
            raise RuntimeError("captured sequence numbers disagree with the bytes sent")
        self.z_nxt = max((seq_end(g) for g in back),
                         key=lambda x: (x - back[0]["seq"]) & 0xFFFFFFFF)
        tsval = [g["tsval"] for g in out if g["tsval"] is not None]
        tsecr = back[-1]["tsval"]
        self.ts = b""
        if tsval and tsecr is not None:
            self.ts = b"\x01\x01" + struct.pack("!BBII", 8, 10, tsval[-1], tsecr)
        print("tcp_attack: connection %s:%d -> %s:%d, %d bytes sent, Linux next seq %u, "
              "zsock next seq %u, timestamps %s" % (a.src, self.sport, a.dst, a.dport, first,
                                                     self.snd_nxt, self.z_nxt,
                                                     "on" if self.ts else "off"), flush=True)

    def finish(self, end):
        """Send the rest, shut down writing, check the server's reply. None
        or what went wrong."""
        k = tcp_peer.Checksum()
        k.update(self.stream)
        try:
            self.s.settimeout(max(0.1, end - time.monotonic()))
            self.s.sendall(self.stream[self.first:])
            self.s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                self.s.settimeout(max(0.1, end - time.monotonic()))
                got = self.s.recv(256)
                if not got:
                    break
                reply += got
        except OSError as e:
            return "the connection broke: %s" % e
        finally:
            self.s.close()
        want = tcp_peer.reply_line(k.len, k.value())
        if reply.decode(errors="replace") != want:
            return "server replied %r, want %r" % (reply, want)
        return None


def malformed(a):
    end = time.monotonic() + a.time_limit
    cap = Capture(a.iface)
    my_mac = mac_of(a.iface)
    stream = b"".join(tcp_peer.chunks(a.seed, a.bytes))
    half = len(stream) // 2
    v = Victim(a, cap, stream, half, end)

    def inject(name, seg, counted, ip_len=None):
        cap.s.send(frame(my_mac, v.zmac, a.src, a.dst, seg, ip_len))
        time.sleep(0.02)
        print("tcp_attack: sent %-36s (%d bytes%s)" % (name, len(seg),
                                                       ", malformed" if counted else ""),
              flush=True)
        return 1 if counted else 0

    junk = b"GARBAGE-MUST-NOT-ENTER-THE-STREAM" * 3
    est = dict(sport=v.sport, seq=v.snd_nxt, ack=v.z_nxt, ts=v.ts)

    def seg(flags=ACK | PSH, options=None, payload=junk, **kw):
        return tcp_segment(a.src, a.dst, est["sport"], a.dport, est["seq"], est["ack"], flags,
                           est["ts"] if options is None else options, payload, **kw)

    ts = v.ts
    n = 0
    # Rejected by the parser: counted as malformed.
    n += inject("data offset 4", seg(doff=4, options=b""), True)
    n += inject("data offset 0", seg(doff=0, options=b""), True)
    n += inject("data offset beyond the segment", seg(doff=15, options=b"", payload=junk[:8]),
                True)
    n += inject("offset past the IP length", seg(options=b"", payload=b""), True, ip_len=20 + 12)
    n += inject("truncated timestamp option", seg(options=b"\x08\x0a\x00\x00"), True)
    n += inject("option longer than the header", seg(options=ts + b"\x02\x28\x05\xb4"), True)
    n += inject("option of length 0", seg(options=b"\x1e\x00\x00\x00" + ts), True)
    n += inject("option of length 1", seg(options=ts + b"\x1e\x01\x00\x00"), True)
    n += inject("bad checksum (data)", seg(bad_csum=True), True)
    n += inject("bad checksum (exact RST)", seg(flags=RST | ACK, payload=b"", bad_csum=True), True)
    # Well-formed but invalid here: dropped (or answered by an ACK), never data.
    n += inject("SYN+FIN with data", seg(flags=SYN | FIN), False)
    n += inject("SYN+FIN+ACK with data", seg(flags=SYN | FIN | ACK), False)
    n += inject("no flags with data", seg(flags=0), False)
    n += inject("FIN without ACK", seg(flags=FIN), False)
    n += inject("urgent pointer, no data", seg(flags=ACK | URG, payload=b"", urg=0xFFFF), False)
    # Urgent data made of the stream's own next bytes: zsock has no urgent
    # mode, so they are ordinary data; Linux later resends them (a duplicate).
    urgent = stream[half:half + 100]
    n += inject("urgent data (the stream's own bytes)",
                seg(flags=ACK | PSH | URG, payload=urgent, urg=40), False)

    # The listener: fresh ports; nothing may open a connection. Besides what
    # the parser rejects, zsock counts as malformed what a listener drops
    # without a reply (RFC 9293 3.10.7.2): SYN+FIN and segments with none of
    # SYN, ACK and RST.
    lis = []

    def to_listener(name, counted, flags=SYN, options=b"\x02\x04\x05\xb4", payload=b"",
                    **kw):
        p = random.randrange(20000, 30000)
        lis.append((name, p))
        segm = tcp_segment(a.src, a.dst, p, a.dport, random.getrandbits(32), 0, flags, options,
                           payload, **kw)
        return inject("listener: " + name, segm, counted)

    n += to_listener("SYN, data offset 3", True, doff=3, options=b"")
    n += to_listener("SYN, offset beyond", True, doff=12)
    n += to_listener("SYN, truncated MSS option", True, options=b"\x01\x01\x02\x04")
    n += to_listener("SYN, option of length 0", True, options=b"\x03\x00\x00\x00")
    n += to_listener("SYN, bad checksum", True, bad_csum=True)
    n += to_listener("SYN+FIN", True, flags=SYN | FIN)
    n += to_listener("SYN+RST", False, flags=SYN | RST)
    n += to_listener("no flags", True, flags=0, payload=junk)
    n += to_listener("URG only, urgent pointer", True, flags=URG, urg=5, payload=junk)

    # SYN+RST inside the window but not at the next sequence number, on a
    # second connection (the server takes it after the first): RFC 5961
    # allows only a challenge ACK. (At exactly the next sequence number the
    # RST bit resets the connection, in Linux as in RFC 9293: not tested.)
    w = Victim(a, cap, stream[:a.bytes // 4], 16384, end)  # 16 KiB: within any first window
    est.update(sport=w.sport, seq=w.snd_nxt + 1000, ack=w.z_nxt, ts=w.ts)
    n += inject("second connection: SYN+RST in window", seg(flags=SYN | RST, payload=b""), False)
    n += inject("second connection: SYN+RST+ACK", seg(flags=SYN | RST | ACK, payload=b""), False)
    time.sleep(0.5)
    cap.poll()
    opened = []
    for name, p in lis:
        ans = [flag_names(g["flags"]) for g in cap.segs if g["sport"] == a.dport and
               g["dport"] == p]
        print("tcp_attack: listener answered %-28s with %s" % (name, ", ".join(ans) or "nothing"))
        if any(x.startswith("S") for x in ans):
            opened.append(name)
    for c, what in ((v, "first"), (w, "second")):
        resets = [g for g in cap.segs if g["sport"] == a.dport and g["dport"] == c.sport and
                  g["flags"] & RST]
        print("tcp_attack: zsock sent %d resets on the %s connection" % (len(resets), what))

    ok = True
    for c, what in ((v, "first connection"), (w, "second connection (SYN+RST)")):
        err = c.finish(end)
        if err is None:
            print("tcp_attack: %s intact: %d bytes verified by the server" %
                  (what, len(c.stream)), flush=True)
        else:
            print("tcp_attack: FAILED: %s: %s" % (what, err), flush=True)
            ok = False
    if opened:
        print("tcp_attack: FAILED: the listener opened connections for: %s" % ", ".join(opened))
        ok = False
    print("tcp_attack: malformed sent %d" % n, flush=True)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description="hostile TCP traffic for the zsock interop tests")
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--iface", required=True)
    f.add_argument("--dst", required=True)
    f.add_argument("--dst-mac", required=True)
    f.add_argument("--dport", type=int, required=True)
    f.add_argument("--net", default="192.0.2.0")
    f.add_argument("--hosts", default="10-250", help="spoofed host numbers in --net")
    f.add_argument("--own-ip", default="192.0.2.1")
    f.add_argument("--own-share", type=float, default=0.1)
    f.add_argument("--count", type=int, default=20000)
    f.add_argument("--rate", type=float, default=2500)
    f.add_argument("--seconds", type=float, default=10)
    f.add_argument("--seed", type=int, default=1)
    m = sub.add_parser("malformed")
    m.add_argument("--iface", required=True)
    m.add_argument("--src", default="192.0.2.1")
    m.add_argument("--dst", required=True)
    m.add_argument("--dport", type=int, required=True)
    m.add_argument("--bytes", type=int, default=4 << 20)
    m.add_argument("--seed", type=int, default=7)
    m.add_argument("--time-limit", type=float, default=60)
    a = p.parse_args()
    try:
        return flood(a) if a.cmd == "flood" else malformed(a)
    except (OSError, RuntimeError, TimeoutError) as e:
        print("tcp_attack: FAILED: %s" % e, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
