#!/usr/bin/env python3
# The Linux side of the many-connections interop test: open CONNS TCP
# connections at once to an echo server (ztcp echo), then, with all of them
# still open, send each a distinct payload and check that exactly it comes
# back, and only then close them all: shut down writing, expect the server's
# end of stream with nothing more, close. Bounded in time; exits 0 only if
# every connection did all of that.
#
#   many_peer.py HOST PORT [--conns N] [--seed S] [--time-limit SEC]
#
# Raises RLIMIT_NOFILE (soft, and hard when allowed) to fit N sockets.
import argparse
import errno
import random
import resource
import selectors
import socket
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def payload(seed, i):
    """Connection i's bytes: its number, then 64..4159 seeded random bytes."""
    rnd = random.Random(seed * 1000003 + i)
    return b"connection %d " % i + rnd.randbytes(64 + rnd.randrange(4096))


class Conn:
    def __init__(self, i, sock, data):
        self.i = i
        self.sock = sock
        self.data = data
        self.sent = 0
        self.got = bytearray()
        self.state = "connecting"


def run(a):
    limit = raise_nofile(a.conns + 64)
    if limit < a.conns + 16:
        print("many_peer: RLIMIT_NOFILE is %d, too low for %d connections" % (limit, a.conns))
        return 1
    end = time.monotonic() + a.time_limit
    sel = selectors.DefaultSelector()
    conns = []
    t0 = time.monotonic()

    def wait(what, pending):
        """Drive the selector until no connection is in `pending` states."""
        while any(c.state in pending for c in conns):
            left = end - time.monotonic()
            if left <= 0:
                counts = {}
                for c in conns:
                    counts[c.state] = counts.get(c.state, 0) + 1
                raise TimeoutError("time limit reached while %s: %s" % (what, counts))
            for key, ev in sel.select(min(left, 1.0)):
                step(key.data, ev)

    def step(c, ev):
        s = c.sock
        if c.state == "connecting":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                raise OSError(err, "connection %d: connect: %s" % (c.i, errno.errorcode.get(err)))
            c.state = "open"
            sel.modify(s, selectors.EVENT_READ, c)
        elif c.state == "sending":
            if ev & selectors.EVENT_WRITE and c.sent < len(c.data):
                c.sent += s.send(c.data[c.sent:])
                if c.sent == len(c.data):
                    sel.modify(s, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                read_echo(c)
        elif c.state in ("open", "echoed"):
            # Nothing may arrive now: the server echoes only what we send.
            extra = s.recv(65536)
            raise OSError("connection %d: unexpected %r while %s" % (c.i, extra[:40], c.state))
        elif c.state == "closing":
            got = s.recv(65536)
            if got:
                raise OSError("connection %d: %d bytes after the echo" % (c.i, len(got)))
            c.state = "done"
            sel.unregister(s)
            s.close()

    def read_echo(c):
        got = c.sock.recv(65536)
        if not got:
            raise OSError("connection %d: end of stream before the echo" % c.i)
        c.got += got
        if len(c.got) > len(c.data) or c.data[: len(c.got)] != c.got:
            raise OSError("connection %d: echo differs at byte %d" % (c.i, len(c.got)))
        if len(c.got) == len(c.data):
            c.state = "echoed"

    # 1. Open every connection, all at once.
    for i in range(a.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((a.host, a.port))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, "connection %d: connect: %s" % (i, errno.errorcode.get(rc)))
        c = Conn(i, s, payload(a.seed, i))
        conns.append(c)
        sel.register(s, selectors.EVENT_WRITE, c)
    wait("connecting", ("connecting",))
    t_open = time.monotonic()
    print("many_peer: %d connections open in %.2f s" % (a.conns, t_open - t0), flush=True)

    # 2. Every connection sends its payload and reads it back; none closes.
    for c in conns:
        c.state = "sending"
        sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    wait("echoing", ("sending",))
    t_echo = time.monotonic()
    total = sum(len(c.data) for c in conns)
    print("many_peer: %d distinct payloads (%d bytes) echoed intact over %d open connections "
          "in %.2f s" % (a.conns, total, a.conns, t_echo - t_open), flush=True)

    # 3. Close them all: our FIN, the server's FIN with nothing before it.
    for c in conns:
        c.state = "closing"
        c.sock.shutdown(socket.SHUT_WR)
        sel.modify(c.sock, selectors.EVENT_READ, c)
    wait("closing", ("closing",))
    t_done = time.monotonic()
    print("many_peer: %d connections closed cleanly in %.2f s; %.2f s in all"
          % (a.conns, t_done - t_echo, t_done - t0), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=60)
    a = p.parse_args()
    try:
        return run(a)
    except (OSError, TimeoutError) as e:
        print("many_peer: FAILED: %s" % e, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
