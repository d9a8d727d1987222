#!/usr/bin/env python3
"""Client side of an RFC 862 echo check, run by qemu_tap.sh against the zsock
firmware under QEMU (any echo server will do).

  echo_peer.py udp HOST PORT COUNT   COUNT datagrams of sizes 1..1472 (seeded),
                                     one at a time, each reply compared byte
                                     for byte (one resend after 1 s of silence)
  echo_peer.py tcp HOST PORT BYTES   BYTES of seeded data sent while the echo is
                                     read back, then a half-close; the echo
                                     must match by length and SHA-256

Prints one "ok ..." line (with the rate for tcp) or "FAIL ..." and exits 0 or 1.
"""
import hashlib
import random
import socket
import sys
import threading
import time


def udp(host, port, count):
    rng = random.Random(862)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    total = 0
    resent = 0
    for i in range(count):
        size = 1 if i == 0 else 1472 if i == 1 else rng.randint(1, 1472)
        data = rng.randbytes(size)
        for attempt in range(2):
            s.sendto(data, (host, port))
            try:
                while True:
                    reply, src = s.recvfrom(4096)
                    if reply == data:
                        break
                    # A late reply to an earlier resend: skip it.
            except socket.timeout:
                if attempt == 0:
                    resent += 1
                    continue
                print(f"FAIL udp: no matching echo of datagram {i} ({size} bytes), sent twice")
                return 1
            break
        total += size
    print(f"ok udp: {count} datagrams ({total} bytes, 1..1472 each) echoed intact, {resent} resent")
    return 0


def tcp(host, port, nbytes):
    rng = random.Random(7)
    data = rng.randbytes(nbytes)
    want = hashlib.sha256(data).hexdigest()
    s = socket.create_connection((host, port), timeout=30)
    got = hashlib.sha256()
    received = [0]
    err = []

    def reader():
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return
                got.update(chunk)
                received[0] += len(chunk)
        except OSError as e:
            err.append(e)

    t0 = time.monotonic()
    th = threading.Thread(target=reader)
    th.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    th.join(120)
    dt = time.monotonic() - t0
    s.close()
    if err or th.is_alive():
        print(f"FAIL tcp: {err[0] if err else 'timed out'} after {received[0]} of {nbytes} bytes")
        return 1
    if received[0] != nbytes or got.hexdigest() != want:
        print(f"FAIL tcp: {received[0]} of {nbytes} bytes came back, sha256 {got.hexdigest()} != {want}")
        return 1
    rate = nbytes / dt / 1024
    print(f"ok tcp: {nbytes} bytes echoed, sha256 {want[:16]}... matches, "
          f"{dt:.2f} s, {rate:.0f} KiB/s each way")
    return 0


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("udp", "tcp"):
        print(__doc__)
        return 2
    host, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    return udp(host, port, n) if sys.argv[1] == "udp" else tcp(host, port, n)


if __name__ == "__main__":
    sys.exit(main())
