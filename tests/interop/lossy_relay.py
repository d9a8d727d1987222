#!/usr/bin/env python3
# A UDP relay that loses and reorders datagrams, for the DTLS interop test
# (Linux has no netem here): datagrams to LISTEN go to TARGET from the
# relay's own socket, the answers go back to whoever sent last. Each
# datagram is dropped with probability --loss, or held back until the next
# one in the same direction has gone (at most --hold seconds) with
# probability --reorder; the decisions come from a seeded generator. Runs
# for --time-limit seconds or until SIGTERM, then prints
# "relay: forwarded N dropped N reordered N".
import argparse
import random
import select
import signal
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("listen_host")
    p.add_argument("listen_port", type=int)
    p.add_argument("target_host")
    p.add_argument("target_port", type=int)
    p.add_argument("--loss", type=float, default=0.1)
    p.add_argument("--reorder", type=float, default=0.1)
    p.add_argument("--hold", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=30)
    a = p.parse_args()

    rng = random.Random(a.seed)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind((a.listen_host, a.listen_port))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect((a.target_host, a.target_port))
    client = None
    held = {}  # socket -> (datagram, since)
    count = {"forwarded": 0, "dropped": 0, "reordered": 0}

    def report(*_):
        print("relay: forwarded %(forwarded)d dropped %(dropped)d reordered %(reordered)d" % count,
              flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    print("relay ready", flush=True)

    def send(src, data):
        if src is front:
            back.send(data)
        elif client is not None:
            front.sendto(data, client)
        count["forwarded"] += 1

    end = time.monotonic() + a.time_limit
    while time.monotonic() < end:
        ready, _, _ = select.select([front, back], [], [], 0.01)
        for s in ready:
            try:
                data, addr = s.recvfrom(65535)
            except OSError:
                continue  # an ICMP error from one side
            if s is front:
                client = addr
            r = rng.random()
            if r < a.loss:
                count["dropped"] += 1
                continue
            if r < a.loss + a.reorder and s not in held:
                held[s] = (data, time.monotonic())
                count["reordered"] += 1
                continue
            send(s, data)
            if s in held:
                send(s, held.pop(s)[0])
        now = time.monotonic()
        for s in [s for s, (_, since) in held.items() if now - since > a.hold]:
            send(s, held.pop(s)[0])
    report()


if __name__ == "__main__":
    main()
