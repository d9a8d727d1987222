#!/usr/bin/env bash
# Interop over TAP: curl (Linux, in a private network namespace) against the
# http_server sample (apps/samples/http_server.c) in each of its modes:
# thread per connection and poll, plain HTTP and HTTPS (the test PKI; curl
# verifies the certificate against its CA and the name server.test). Each
# mode serves an 8 MiB random file, checked by SHA-256, the index page twice
# over one keep-alive connection, and the 8 MiB file to four clients at once.
# Usage: http_sample_tap.sh HTTP_SERVER [PKI_DIR]. Needs root, /dev/net/tun,
# curl and sha256sum (else exits 77). Traffic stays inside the namespace, on
# 192.0.2.0/24.
set -u

SERVER=${1:?usage: http_sample_tap.sh HTTP_SERVER [PKI_DIR]}
PKI=${2:-$(cd "$(dirname "$0")/../tls/pki" && pwd)}
NS_TAG=hsample
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
ns_require curl sha256sum
need_binary "$SERVER" http_server
ns_setup

WWW="$TMP/www"
mkdir -p "$WWW"
head -c 8388608 /dev/urandom >"$WWW/big.bin"
echo "<html><body>zsock http_server sample</body></html>" >"$WWW/index.html"
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)

# mode NAME SERVER-OPTIONS...: serve, fetch with curl, check, stop.
mode() {
    local name=$1 port=8080 scheme=http curlopts=()
    shift
    if [[ " $* " == *" --tls "* ]]; then
        port=8443
        scheme=https
        curlopts=(--cacert "$PKI/ca.crt" --resolve "server.test:$port:$ZSOCK_IP")
    fi
    local url="$scheme://$ZSOCK_IP:$port"
    [ "$scheme" = https ] && url="https://server.test:$port"
    bg "$TMP/$name.log" "${ZENV[@]}" timeout 60 "$SERVER" -p "$port" -n 6 "$@" "$WWW"
    local pid=$BG_PID
    started "$TMP/$name.log" "http_server: serving" "$name: http_server" || return
    if in_ns curl --noproxy '*' -sS --max-time 30 "${curlopts[@]}" -o "$TMP/big.bin" \
        "$url/big.bin"; then
        got=$(sha256sum <"$TMP/big.bin" | cut -d' ' -f1)
        if [ "$got" = "$want" ]; then
            ok "$name: curl got big.bin, sha256 $got"
        else
            fail "$name: big.bin sha256 $got, want $want"
        fi
    else
        fail "$name: curl big.bin"
    fi
    # Two requests, one connection (curl reuses it: keep-alive).
    if in_ns curl --noproxy '*' -sS -v --max-time 10 "${curlopts[@]}" -o "$TMP/i1" "$url/" \
        -o "$TMP/i2" "$url/index.html" 2>"$TMP/$name.curl" &&
        cmp -s "$TMP/i1" "$WWW/index.html" && cmp -s "$TMP/i2" "$WWW/index.html" &&
        grep -q "Re-using existing connection" "$TMP/$name.curl"; then
        ok "$name: index twice over one keep-alive connection"
    else
        fail "$name: keep-alive index"
        cat "$TMP/$name.curl"
    fi
    # Four clients at once: four curl processes, four connections served
    # together (by four threads, or by the one poll loop).
    local pids=() i good=0
    for i in 1 2 3 4; do
        in_ns curl --noproxy '*' -sS --max-time 30 "${curlopts[@]}" -o "$TMP/p$i.bin" \
            "$url/big.bin" &
        pids+=($!)
    done
    for i in 1 2 3 4; do
        if wait "${pids[$((i - 1))]}" && [ "$(sha256sum <"$TMP/p$i.bin" | cut -d' ' -f1)" = "$want" ]; then
            good=$((good + 1))
        fi
        rm -f "$TMP/p$i.bin"
    done
    if [ "$good" = 4 ]; then
        ok "$name: 4 concurrent downloads of big.bin, every sha256 right"
    else
        fail "$name: $good of 4 concurrent downloads right"
    fi
    wait_pid "$pid" 10 || fail "$name: http_server exit status (after its 6 connections)"
    rm -f "$TMP/big.bin"
}

mode threads
mode poll --poll
mode tls-threads --tls --pki "$PKI"
mode tls-poll --tls --poll --pki "$PKI"
finish
