#!/usr/bin/env bash
# Interop over TAP: half-close with Linux's own netcat (netcat-openbsd, -N)
# against a zsock server (ztcp server, in a private network namespace). For
# files of 0, 1, 65536 and SIZE bytes, nc sends the file, shuts down writing
# at its end (-N), and must still receive the server's reply, which the
# server sends only after seeing that end of stream: "ztcp: received BYTES
# checksum HEX" with the byte count and checksum of the file (CRC-32 and
# Adler-32, as apps/tools/ztcp.c defines them), then a clean end of stream.
# Usage: nc_halfclose.sh ZTCP [SIZE]. Needs root, /dev/net/tun, nc (OpenBSD)
# and python3 (else exits 77). Traffic stays inside the namespace.
set -u

ZTCP=${1:?usage: nc_halfclose.sh ZTCP [SIZE]}
SIZE=${2:-4000037}
NS_TAG=nc
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
ns_require nc python3
nc -h 2>&1 | grep -q OpenBSD || skip "nc is not OpenBSD netcat (netcat-openbsd, for -N)"
need_binary "$ZTCP" ztcp
ns_setup
PORT=7300
SIZES=(0 1 65536 "$SIZE")

bg "$TMP/z.log" "${ZENV[@]}" timeout 100 "$ZTCP" server "$PORT" --count ${#SIZES[@]} \
    --time-limit 90 --linger 200
Z=$BG_PID
started "$TMP/z.log" "server ready" "ztcp server" || finish
for n in "${SIZES[@]}"; do
    head -c "$n" /dev/urandom >"$TMP/in.$n"
    want=$(python3 -c 'import sys, zlib
d = open(sys.argv[1], "rb").read()
print("ztcp: received %d checksum %016x" % (len(d), zlib.crc32(d) << 32 | zlib.adler32(d)))' "$TMP/in.$n")
    start=$SECONDS
    # -N: shutdown(SHUT_WR) at the end of the file; nc then reads until the
    # server's end of stream.
    if in_ns timeout 40 nc -N "$ZSOCK_IP" "$PORT" <"$TMP/in.$n" >"$TMP/out.$n" 2>"$TMP/nc.err" &&
        [ "$(cat "$TMP/out.$n")" = "$want" ] && [ "$(tail -c 1 "$TMP/out.$n" | od -An -c | tr -d ' ')" = '\n' ]; then
        ok "$n bytes: nc sent them, shut down writing and received \"$want\" in $((SECONDS - start)) s"
    else
        fail "$n bytes: nc received '$(head -c 200 "$TMP/out.$n")' $(cat "$TMP/nc.err"), want '$want'"
    fi
done
wait_pid "$Z" 15 || fail "ztcp server exit status"
cat "$TMP/z.log"
grep -q "^ztcp: server: ${#SIZES[@]} of ${#SIZES[@]} connections served$" "$TMP/z.log" ||
    fail "the ztcp server did not serve ${#SIZES[@]} connections"
finish
