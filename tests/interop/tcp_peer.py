#!/usr/bin/env python3
# The Linux side of the TCP interop tests: the protocol of apps/tools/ztcp.c on
# the kernel's sockets, bounded in time.
#
#   client HOST PORT --bytes N --seed S: connect, send N bytes of the stream of
#     seed S, shut down writing, read the one-line summary up to end of stream,
#     check that it names N bytes and the checksum of what was sent.
#   server PORT --count N: accept N connections one after another; read each to
#     end of stream and answer "ztcp: received BYTES checksum HEX\n", then close.
#
# Stream word j (bytes 8j..8j+7, little-endian) = sm(seed, j mod 8192) XOR j,
# sm(seed, t) being splitmix64 output t + 1 from state seed. Checksum =
# (zlib.crc32 << 32) | zlib.adler32 of the bytes, as 16 hex digits.
import argparse
import socket
import sys
import time
import zlib

PAD_WORDS = 8192
CHUNK = PAD_WORDS * 8
M64 = (1 << 64) - 1
REPLY_MAX = 256


def splitmix_pad(seed):
    """Integer whose 64-bit little-endian words are sm(seed, t) ^ t."""
    out = bytearray()
    st = seed & M64
    for t in range(PAD_WORDS):
        st = (st + 0x9E3779B97F4A7C15) & M64
        z = st
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        out += (z ^ t).to_bytes(8, "little")
    return int.from_bytes(out, "little")


# A 1 in every word: multiplied by c << 13 it puts that value in each word.
ONES = int.from_bytes((1).to_bytes(8, "little") * PAD_WORDS, "little")


def chunks(seed, nbytes):
    """The stream of `seed`, nbytes long, in pieces of up to CHUNK bytes."""
    pad = splitmix_pad(seed)
    c = 0
    while c * CHUNK < nbytes:
        # Word j = c * 8192 + t: sm ^ t ^ (c << 13) == sm ^ j.
        data = (pad ^ ((c << 13) * ONES)).to_bytes(CHUNK, "little")
        yield data[: min(CHUNK, nbytes - c * CHUNK)]
        c += 1


class Checksum:
    def __init__(self):
        self.crc = 0
        self.adler = 1
        self.len = 0

    def update(self, data):
        self.crc = zlib.crc32(data, self.crc)
        self.adler = zlib.adler32(data, self.adler)
        self.len += len(data)

    def value(self):
        return (self.crc << 32) | self.adler


def reply_line(nbytes, value):
    return "ztcp: received %d checksum %016x\n" % (nbytes, value)


def left(end):
    t = end - time.monotonic()
    if t <= 0:
        raise TimeoutError("time limit reached")
    return t


def mib_s(n, dt):
    return n / (1 << 20) / dt if dt > 0 else 0.0


def retrans(s):
    """tcpi_total_retrans from TCP_INFO (offset 100 on Linux), or -1."""
    try:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return int.from_bytes(info[100:104], sys.byteorder)
    except OSError:
        return -1


def client(a):
    t0 = time.monotonic()
    end = t0 + a.time_limit
    s = socket.create_connection((a.host, a.port), timeout=left(end))
    t_conn = time.monotonic()
    k = Checksum()
    for data in chunks(a.seed, a.bytes):
        k.update(data)
        s.settimeout(left(end))
        s.sendall(data)
    t_sent = time.monotonic()
    s.shutdown(socket.SHUT_WR)
    # The half-close: writing is over, reading goes on until the server's FIN.
    reply = b""
    while True:
        s.settimeout(left(end))
        got = s.recv(REPLY_MAX)  # ConnectionResetError on a reset: a failure
        if not got:
            break
        reply += got
        if len(reply) > REPLY_MAX:
            break
    t_done = time.monotonic()
    rt = retrans(s)
    s.close()
    want = reply_line(k.len, k.value())
    dt = t_done - t_conn
    print("tcp_peer: client details: %d bytes, seed %d, checksum %016x, connect %.3f s, send "
          "%.2f s, until reply %.2f s, %.1f MiB/s, retransmitted segments %d"
          % (k.len, a.seed, k.value(), t_conn - t0, t_sent - t_conn, dt, mib_s(k.len, dt), rt))
    if reply.decode("ascii", "replace") != want:
        print("tcp_peer: MISMATCH: expected %r, got %r" % (want, reply), file=sys.stderr)
        return 1
    print("tcp_peer: half-close: shut down writing after %d bytes, then read the %d-byte reply "
          "and a clean end of stream" % (k.len, len(reply)))
    print("tcp_peer: sent %d, verified" % k.len)
    return 0


def server(a):
    end = time.monotonic() + a.time_limit
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(4)
    print("tcp_peer: server ready on port %d" % a.port, flush=True)
    buf = bytearray(1 << 18)
    view = memoryview(buf)
    for n in range(1, a.count + 1):
        ls.settimeout(left(end))
        s, peer = ls.accept()
        t0 = time.monotonic()
        k = Checksum()
        while True:
            s.settimeout(left(end))
            got = s.recv_into(buf)
            if got == 0:
                break
            k.update(view[:got])
        dt = time.monotonic() - t0
        s.settimeout(left(end))
        s.sendall(reply_line(k.len, k.value()).encode("ascii"))
        s.close()
        print("tcp_peer: connection %d from %s:%d: received %d bytes checksum %016x in %.2f s, "
              "%.1f MiB/s" % (n, peer[0], peer[1], k.len, k.value(), dt, mib_s(k.len, dt)),
              flush=True)
    ls.close()
    print("tcp_peer: server: %d connections served" % a.count)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("client")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--bytes", type=int, default=1 << 20)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--time-limit", type=float, default=120)
    s = sub.add_parser("server")
    s.add_argument("port", type=int)
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--time-limit", type=float, default=120)
    a = p.parse_args()
    try:
        return client(a) if a.mode == "client" else server(a)
    except (OSError, TimeoutError) as e:
        print("tcp_peer: %s failed: %s" % (a.mode, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
