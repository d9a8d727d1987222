#!/usr/bin/env python3
"""A small zperf TCP server (Linux kernel sockets), so that lwip_zperf can run
standalone: the wire protocol of apps/zperf, described in bench/lwip/README.md.

Usage: zperf_server.py [--bind ADDR] [-p PORT] [--once] [--time-limit S]

Prints "zperf server ready" once listening, then for each connection the
summary line both zperf implementations print:
  zperf: summary stream=ID dir=up|down bytes=N seconds=S gbps=G retrans=R errors=E
(dir is the client's direction; retrans is the kernel's count of segments
this connection retransmitted, from TCP_INFO). With --once it serves one
connection and exits 0 if the transfer completed (and verified, if asked).
"""
import argparse
import socket
import struct
import sys
import threading
import time

MAGIC = b"ZPRF"
HDR_LEN = 32
MOD = 251
CHUNK = 256 * 1024
# Any CHUNK-byte run of the payload starts in the first MOD bytes of PATTERN.
PATTERN = bytes(i % MOD for i in range(MOD)) * (CHUNK // MOD + 2)
TCP_INFO_TOTAL_RETRANS = 100  # offset of tcpi_total_retrans in struct tcp_info


def total_retrans(sock):
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return struct.unpack_from("I", info, TCP_INFO_TOTAL_RETRANS)[0]
    except (OSError, struct.error):
        return -1


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def mismatches(data, off):
    """Bytes of data (at stream offset off) that differ from the pattern."""
    bad = 0
    pos = 0
    while pos < len(data):
        n = min(len(data) - pos, CHUNK)
        start = (off + pos) % MOD
        piece = bytes(data[pos:pos + n])
        ref = PATTERN[start:start + n]
        if piece != ref:
            bad += sum(1 for a, b in zip(piece, ref) if a != b)
        pos += n
    return bad


def serve_upload(sock, verify):
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    bad = 0
    while True:
        n = sock.recv_into(view)
        if n == 0:
            break
        if verify:
            bad += mismatches(view[:n], total)
        total += n
    sock.sendall(struct.pack(">QQ", total, bad))
    return total, bad


def serve_download(sock, byte_limit, deadline):
    view = memoryview(PATTERN)
    total = 0
    while True:
        if byte_limit and total >= byte_limit:
            break
        if deadline and time.monotonic() >= deadline:
            break
        n = CHUNK if not byte_limit else min(CHUNK, byte_limit - total)
        start = total % MOD
        total += sock.send(view[start:start + n])
    return total, 0


def handle(conn, peer, results):
    ok = False
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        hdr = recv_exact(conn, HDR_LEN)
        if len(hdr) != HDR_LEN or hdr[:4] != MAGIC or hdr[4] != 1 or hdr[5] > 1:
            print(f"zperf_server: bad header from {peer[0]}:{peer[1]}", flush=True)
            return
        download = hdr[5] == 1
        verify = bool(hdr[6] & 1)
        stream, = struct.unpack_from(">I", hdr, 8)
        byte_limit, ms = struct.unpack_from(">QQ", hdr, 16)
        if byte_limit == 0 and ms == 0:
            ms = 10000
        t0 = time.monotonic()
        if download:
            deadline = t0 + ms / 1000.0 if ms else 0
            total, bad = serve_download(conn, byte_limit, deadline)
            conn.shutdown(socket.SHUT_WR)
            # Wait for the client's end of stream, so the data is delivered
            # and the close does not reset the connection.
            conn.settimeout(30)
            while conn.recv(65536):
                pass
        else:
            total, bad = serve_upload(conn, verify)
        secs = time.monotonic() - t0
        gbps = total * 8 / secs / 1e9 if secs > 0 else 0.0
        line = (f"stream={stream} dir={'down' if download else 'up'} bytes={total} "
                f"seconds={secs:.3f} gbps={gbps:.3f} retrans={total_retrans(conn)} errors={bad}")
        print(f"zperf: summary {line}", flush=True)
        ok = bad == 0
    except OSError as e:
        print(f"zperf_server: connection from {peer[0]}:{peer[1]}: {e}", flush=True)
    finally:
        conn.close()
        results.append(ok)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("-p", "--port", type=int, default=5201)
    ap.add_argument("--once", action="store_true", help="serve one connection, then exit")
    ap.add_argument("--time-limit", type=float, default=0,
                    help="exit (status 1) after this many seconds")
    args = ap.parse_args()
    if args.time_limit > 0:
        timer = threading.Timer(args.time_limit, lambda: (print(
            "zperf_server: time limit reached", flush=True), sys.stdout.flush(),
            __import__("os")._exit(1)))
        timer.daemon = True
        timer.start()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.bind, args.port))
    lsock.listen(16)
    print(f"zperf server ready on {args.bind}:{args.port}", flush=True)
    results = []
    while True:
        conn, peer = lsock.accept()
        if args.once:
            handle(conn, peer, results)
            return 0 if results and results[0] else 1
        threading.Thread(target=handle, args=(conn, peer, results), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
