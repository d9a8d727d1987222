#!/usr/bin/env python3
# The Linux side of the UDP interop tests: a verifying client and an echo
# server on the kernel's sockets, bounded in datagrams, retries and time.
import argparse
import random
import select
import socket
import sys
import time

STALE_WINDOW = 8  # late echoes of this many earlier datagrams are ignored


def client(a):
    rng = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((a.host, a.port))
    t0 = time.monotonic()
    end = t0 + a.time_limit
    verified = retries = stale = corrupt = errors = most = 0
    total = 0
    recent = []
    failure = None
    for seq in range(a.count):
        data = rng.randbytes(rng.randint(a.min_size, a.max_size))
        ok = False
        attempt = 0
        while not ok and failure is None:
            if attempt > a.retries:
                failure = "datagram %d (%d bytes) not echoed after %d retries" % (
                    seq, len(data), a.retries)
                break
            if time.monotonic() >= end:
                failure = "time limit reached at datagram %d" % seq
                break
            if attempt > 0:
                retries += 1
                most = max(most, attempt)
            attempt += 1
            try:
                s.send(data)
            except OSError as e:
                # ECONNREFUSED from an earlier ICMP error, ENOBUFS...: retry.
                errors += 1
                time.sleep(0.1)
                continue
            until = min(time.monotonic() + a.timeout, end)
            while not ok:
                left = until - time.monotonic()
                if left <= 0 or not select.select([s], [], [], left)[0]:
                    break
                try:
                    got = s.recv(65536)
                except OSError:
                    errors += 1
                    break
                if got == data:
                    ok = True
                elif got in recent:
                    stale += 1
                else:
                    if corrupt < 10:
                        n = min(len(got), len(data))
                        at = next((i for i in range(n) if got[i] != data[i]), n)
                        print("udp_peer: datagram %d: echo of %d bytes does not match the %d "
                              "sent (first difference at byte %d)" % (seq, len(got), len(data), at),
                              file=sys.stderr)
                    corrupt += 1
        if failure is not None:
            break
        verified += 1
        total += len(data)
        recent = (recent + [data])[-STALE_WINDOW:]
    dt = time.monotonic() - t0
    print("udp_peer: sent %d, verified %d, retries %d" % (a.count, verified, retries))
    print("udp_peer: client details: %d bytes verified, %.2f s, %.1f Mbit/s each way, most retries "
          "of one datagram %d, late echoes %d, corrupt %d, socket errors %d"
          % (total, dt, total * 8 / dt / 1e6 if dt > 0 else 0, most, stale, corrupt, errors))
    if failure is not None:
        print("udp_peer: client failed: " + failure, file=sys.stderr)
    return 0 if failure is None and corrupt == 0 and verified == a.count else 1


def echo(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.host, a.port))
    print("udp_peer: echo ready on %s port %d" % (a.host, a.port), flush=True)
    t0 = time.monotonic()
    end = t0 + a.time_limit
    last = None
    echoed = total = errors = 0
    why = "time limit"
    while time.monotonic() < end:
        quiet = (last + a.idle) if last is not None else (t0 + a.start)
        left = min(quiet, end) - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            if time.monotonic() >= quiet:
                why = "idle timeout" if last is not None else "nothing received"
                break
            continue
        data, src = s.recvfrom(65536)
        last = time.monotonic()
        try:
            s.sendto(data, src)
        except OSError:
            errors += 1
        echoed += 1
        total += len(data)
    print("udp_peer: echoed %d datagrams, %d bytes, send errors %d, %.2f s (%s)"
          % (echoed, total, errors, time.monotonic() - t0, why), flush=True)
    return 0 if last is not None else 1


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("mode", choices=["client", "echo"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--min-size", type=int, default=1)
    p.add_argument("--max-size", type=int, default=1472)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=0.5, help="seconds to wait for one echo")
    p.add_argument("--retries", type=int, default=20, help="resends allowed per datagram")
    p.add_argument("--idle", type=float, default=5.0, help="echo: stop after this quiet time")
    p.add_argument("--start", type=float, default=30.0, help="echo: wait for the first datagram")
    p.add_argument("--time-limit", type=float, default=120.0)
    a = p.parse_args()
    return client(a) if a.mode == "client" else echo(a)


if __name__ == "__main__":
    sys.exit(main())
