#!/usr/bin/env bash
# Interop over TAP: curl (Linux, in a private network namespace) against
# zhttpd (apps/tools/zhttpd.c, on zsock):
#   (a) a BIG-byte file of random bytes, checked by SHA-256;
#   (b) four small files over one keep-alive connection (curl reuses it, and
#       zhttpd logs the four requests on one connection), contents compared;
#       two pipelined requests (nc) answered in order;
#   (c) HEAD: status, Content-Length, no body;
#   (d) 404 for a missing file, a directory, and a symbolic link;
#   (e) path traversal refused (400): "/../", percent-encoded "%2e%2e", and
#       "a/../../" forms, sent as-is; the file outside the root never leaks;
#   (f) 405 for POST, 501 for an unknown method, 400 for garbage (nc);
#   (g) zhttpd ends cleanly on SIGTERM and its counts agree.
# Usage: http_tap.sh ZHTTPD [BIG]. Needs root, /dev/net/tun, curl, nc (else
# exits 77). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZHTTPD=${1:?usage: http_tap.sh ZHTTPD [BIG]}
BIG=${2:-104857600}
NS_TAG=http
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
ns_require curl nc sha256sum
need_binary "$ZHTTPD" zhttpd
ns_setup

PORT=8080
URL="http://$ZSOCK_IP:$PORT"
WWW="$TMP/www"
mkdir -p "$WWW/sub" "$TMP/out"
head -c "$BIG" /dev/urandom >"$WWW/big.bin"
echo "<html><body>zsock index</body></html>" >"$WWW/index.html"
echo "hello from zsock" >"$WWW/a.txt"
head -c 20000 /dev/urandom >"$WWW/b.bin"
seq 1 3000 >"$WWW/sub/c.txt"
echo "SECRET-OUTSIDE-THE-ROOT" >"$TMP/secret.txt"
ln -s "$TMP/secret.txt" "$WWW/link.txt"
CURL=(in_ns curl --noproxy '*' -sS --max-time 60)

bg "$TMP/z.log" "${ZENV[@]}" timeout 300 "$ZHTTPD" --port "$PORT" --time-limit 280 "$WWW"
Z=$BG_PID
started "$TMP/z.log" "zhttpd: serving" zhttpd || finish

# ---- (a) the big file --------------------------------------------------------------------
start=$SECONDS
if w=$("${CURL[@]}" -o "$TMP/out/big.bin" -w '%{http_code} %{size_download} %{speed_download}' \
    "$URL/big.bin") && [ "${w%% *}" = 200 ]; then
    want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
    got=$(sha256sum <"$TMP/out/big.bin" | cut -d' ' -f1)
    read -r _ size speed <<<"$w"
    if [ "$want" = "$got" ]; then
        ok "(a) GET big.bin: $size bytes in $((SECONDS - start)) s," \
            "$(awk -v s="$speed" 'BEGIN {printf "%.1f", s / 1048576}') MiB/s, sha256 $got"
    else
        fail "(a) big.bin sha256 $got, want $want ($size bytes)"
    fi
else
    fail "(a) GET big.bin: curl answered '${w:-nothing}'"
fi
rm -f "$TMP/out/big.bin"

# ---- (b) small files over one connection -------------------------------------------------
if "${CURL[@]}" -v "$URL/a.txt" -o "$TMP/out/a.txt" "$URL/b.bin" -o "$TMP/out/b.bin" \
    "$URL/sub/c.txt" -o "$TMP/out/c.txt" "$URL/" -o "$TMP/out/index.html" 2>"$TMP/b.err"; then
    same=1
    for f in a.txt b.bin sub/c.txt index.html; do
        cmp -s "$WWW/$f" "$TMP/out/$(basename "$f")" || {
            same=0
            fail "(b) $f differs"
        }
    done
    reused=$(grep -c "Re-using existing connection" "$TMP/b.err")
    # The four requests in zhttpd's log, and the connection each came on.
    conns=$(grep -E '"GET /(a.txt|b.bin|sub/c.txt|) HTTP/1.1" 200' "$TMP/z.log" |
        awk '{print $3}' | sort -u)
    nreq=$(grep -cE '"GET /(a.txt|b.bin|sub/c.txt|) HTTP/1.1" 200' "$TMP/z.log")
    if [ "$same" = 1 ] && [ "$reused" = 3 ] && [ "$nreq" = 4 ] && [ "$(echo "$conns" | wc -l)" = 1 ]; then
        ok "(b) 4 small files on one keep-alive connection (zhttpd conn $conns," \
            "curl reused it $reused times)"
    else
        fail "(b) keep-alive: curl reused the connection $reused times (want 3), zhttpd saw" \
            "$nreq requests on connections: $(echo "$conns" | tr '\n' ' ')"
        cat "$TMP/b.err"
    fi
else
    cat "$TMP/b.err"
    fail "(b) curl failed"
fi

# Two pipelined requests in one write; the second asks to close.
printf 'GET /a.txt HTTP/1.1\r\nHost: zsock\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: zsock\r\nConnection: close\r\n\r\n' |
    in_ns timeout 10 nc -N "$ZSOCK_IP" "$PORT" >"$TMP/pipelined.txt"
n=$(grep -c "^hello from zsock" "$TMP/pipelined.txt")
if [ "$n" = 2 ] && grep -q "^Connection: close" "$TMP/pipelined.txt"; then
    ok "(b) 2 pipelined requests answered in order, the second closing"
else
    fail "(b) pipelined requests: $n bodies"
    cat "$TMP/pipelined.txt"
fi

# ---- (c) HEAD -----------------------------------------------------------------------------
if "${CURL[@]}" -I "$URL/big.bin" -o "$TMP/head.txt" &&
    grep -q "^HTTP/1.1 200" "$TMP/head.txt" &&
    grep -qi "^Content-Length: $BIG" "$TMP/head.txt" &&
    grep -q '"HEAD /big.bin HTTP/1.1" 200 0$' "$TMP/z.log"; then
    ok "(c) HEAD big.bin: 200, Content-Length $BIG, no body"
else
    cat "$TMP/head.txt"
    fail "(c) HEAD big.bin"
fi

# ---- (d), (e), (f) error statuses ---------------------------------------------------------
# status WANT WHAT CURL-ARGS...: the status of one request, and no secret in the body.
status() {
    local want=$1 what=$2 code
    shift 2
    code=$("${CURL[@]}" -o "$TMP/body" -w '%{http_code}' "$@")
    if [ "$code" = "$want" ] && ! grep -q SECRET "$TMP/body"; then
        ok "$what: $code"
    else
        fail "$what: status ${code:-none}, want $want; body: $(head -c 200 "$TMP/body")"
    fi
}
status 404 "(d) missing file" "$URL/nope.txt"
status 404 "(d) directory" "$URL/sub"
status 404 "(d) symbolic link" "$URL/link.txt"
status 400 "(e) /../secret.txt" --path-as-is "$URL/../secret.txt"
status 400 "(e) /sub/../../secret.txt" --path-as-is "$URL/sub/../../secret.txt"
status 400 "(e) /%2e%2e/secret.txt" --path-as-is "$URL/%2e%2e/secret.txt"
status 400 "(e) /sub/%2E%2E/%2e%2E/secret.txt" --path-as-is "$URL/sub/%2E%2E/%2e%2E/secret.txt"
status 405 "(f) POST" -X POST -d data "$URL/a.txt"
status 501 "(f) BREW" -X BREW "$URL/a.txt"
reply=$(printf 'this is not http\r\n\r\n' | in_ns timeout 10 nc -N "$ZSOCK_IP" "$PORT" | head -n1)
if [ "${reply%$'\r'}" = "HTTP/1.1 400 Bad Request" ]; then
    ok "(f) garbage: $reply"
else
    fail "(f) garbage: '$reply', want 400"
fi

# ---- (g) clean end -------------------------------------------------------------------------
stop_pid "$Z" 10 || fail "(g) zhttpd exit status"
cat "$TMP/z.log"
# a, b x6, HEAD, 3 x 404, 4 x 400 (traversal), 405, 501, 400 (garbage).
if grep -q "^zhttpd: 18 requests (2xx 8, 4xx 9, 5xx 1)" "$TMP/z.log"; then
    ok "(g) zhttpd counted the 18 requests"
else
    fail "(g) zhttpd's counts differ from the 18 requests made"
fi
finish
