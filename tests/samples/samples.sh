#!/usr/bin/env bash
# Runs the samples of apps/samples against each other: each server in one
# process and its client in another, the two zsock stacks joined by a frame
# pipe (Ethernet frames over Unix datagram sockets: no privilege, nothing
# reaches the host's network; the addresses exist only inside the stacks).
#
# Usage: samples.sh BINDIR CASE [FAMILY]
#   BINDIR  the build directory of apps/samples
#   CASE    echo_tcp, echo_tcp_poll, echo_udp, echo_udp_poll, echo_tls,
#           echo_tls_poll, echo_dtls, echo_dtls_poll, http, http_poll, http_tls,
#           http_tls_poll, packet
#   FAMILY  4 (default) or 6: IPv6 addresses on the pipe and -6 on both sides
# ok and fail always succeed, so "test && ok || fail" is an if-then-else here.
# shellcheck disable=SC2015
set -u

BIN=${1:?usage: samples.sh BINDIR CASE [FAMILY]}
CASE=${2:?usage: samples.sh BINDIR CASE [FAMILY]}
FAMILY=${3:-4}
NS_TAG=sample
NAME="samples $CASE (IPv$FAMILY)"
# shellcheck source=../interop/ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/../interop/ns_lib.sh"
command -v timeout >/dev/null || skip "timeout (coreutils) is not installed"
command -v sha256sum >/dev/null || skip "sha256sum (coreutils) is not installed"
run_setup

if [ "$FAMILY" = 6 ]; then
    S_ADDR=fd00:5a::2
    C_ADDR=fd00:5a::1
    S_ENV=(ZSOCK_IPV6="$S_ADDR/64")
    C_ENV=(ZSOCK_IPV6="$C_ADDR/64")
    FLAG=(-6)
    URL_HOST="[$S_ADDR]"
else
    S_ADDR=192.0.2.2
    C_ADDR=192.0.2.1
    S_ENV=(ZSOCK_IPV4="$S_ADDR/24")
    C_ENV=(ZSOCK_IPV4="$C_ADDR/24")
    FLAG=()
    URL_HOST=$S_ADDR
fi
# MTU 1500, as on Ethernet (SAMPLE_MTU to try others). A Unix datagram
# socket queues only net.unix.max_dgram_qlen (10) frames: the pipe driver
# says it is full and the frames wait in the interface's transmit queue
# until the peer reads (docs/networking.md, "Transmit queues").
PIPE_MTU=${SAMPLE_MTU:-1500}
server_side() {
    env ZSOCK_PIPE="$TMP/s.sock:$TMP/c.sock" ZSOCK_MTU="$PIPE_MTU" "${S_ENV[@]}" timeout 60 "$@"
}
client_side() {
    env ZSOCK_PIPE="$TMP/c.sock:$TMP/s.sock" ZSOCK_MTU="$PIPE_MTU" "${C_ENV[@]}" timeout 30 "$@"
}

# start_server READY CMD...: run the server side in the background until
# its log has READY. The log of a previous server goes first: the new one
# is truncated by the background shell, maybe after the first look at it.
start_server() {
    local ready=$1
    shift
    rm -f "$TMP/server.log"
    spawn "$TMP/server.log" server_side "$@"
    SPID=$BG_PID
    started "$TMP/server.log" "$ready" "$CASE server" || {
        finish
    }
}

# client WHAT CMD...: run one client; it must exit 0.
client() {
    local what=$1
    shift
    if client_side "$@" >"$TMP/client.out" 2>"$TMP/client.err"; then
        ok "$what: $(tail -n 1 "$TMP/client.out" "$TMP/client.err" | grep -v '^==>' | grep . | tail -n 1)"
    else
        fail "$what: client exit status $?"
        cat "$TMP/client.out" "$TMP/client.err"
    fi
}

# end_server: the server exits 0 by itself (its -n count is reached).
end_server() {
    if wait_pid "$SPID" 20; then
        ok "server done: $(grep -c . "$TMP/server.log") log lines"
    else
        fail "server exit status"
    fi
    echo "-- server log"
    cat "$TMP/server.log"
}

case $CASE in
echo_tcp | echo_tcp_poll | echo_tls | echo_tls_poll | echo_udp | echo_udp_poll | echo_dtls | echo_dtls_poll)
    opts=("${FLAG[@]}")
    [[ $CASE == *_poll ]] && opts+=(--poll)
    [[ $CASE == echo_tls* || $CASE == echo_dtls* ]] && opts+=(--tls)
    [[ $CASE == echo_udp* || $CASE == echo_dtls* ]] && opts+=(-u)
    copts=("${FLAG[@]}")
    [[ $CASE == echo_tls* || $CASE == echo_dtls* ]] && copts+=(--tls)
    [[ $CASE == echo_udp* || $CASE == echo_dtls* ]] && copts+=(-u)
    if [[ $CASE == echo_udp* || $CASE == echo_dtls* ]]; then
        # Datagrams: one of 16 bytes, then 64 KiB in 1 KiB datagrams.
        start_server "listening" "$BIN/echo_server" -p 7007 -n 65 "${opts[@]}"
        client "greeting" "$BIN/echo_client" "$S_ADDR" -p 7007 -m "hello over a pipe" "${copts[@]}"
        grep -q "^echo_client: echo: hello over a pipe$" "$TMP/client.out" ||
            fail "greeting not echoed"
        client "64 KiB in datagrams" "$BIN/echo_client" "$S_ADDR" -p 7007 -s 65536 "${copts[@]}"
    else
        # Four connections one after the other (one pipe end per process:
        # a second client process cannot share it): a greeting, 1 MiB and
        # 256 KiB checked byte for byte, and a last greeting.
        start_server "listening" "$BIN/echo_server" -p 7007 -n 4 "${opts[@]}"
        client "greeting" "$BIN/echo_client" "$S_ADDR" -p 7007 -m "hello over a pipe" "${copts[@]}"
        grep -q "^echo_client: echo: hello over a pipe$" "$TMP/client.out" ||
            fail "greeting not echoed"
        client "1 MiB" "$BIN/echo_client" "$S_ADDR" -p 7007 -s 1048576 "${copts[@]}"
        client "256 KiB" "$BIN/echo_client" "$S_ADDR" -p 7007 -s 262144 "${copts[@]}"
        client "last greeting" "$BIN/echo_client" "$S_ADDR" -p 7007 "${copts[@]}"
    fi
    end_server
    ;;
http | http_poll | http_tls | http_tls_poll)
    WWW="$TMP/www"
    mkdir -p "$WWW/sub"
    echo "<html><body>zsock sample</body></html>" >"$WWW/index.html"
    head -c 3000000 /dev/urandom >"$WWW/big.bin"
    echo "SECRET" >"$TMP/secret.txt"
    opts=("${FLAG[@]}")
    [[ $CASE == *_poll ]] && opts+=(--poll)
    scheme=http
    get=("$BIN/http_get" "${FLAG[@]}")
    if [[ $CASE == http_tls* ]]; then
        opts+=(--tls)
        scheme=https
        # The certificate names server.test: the client resolves it through
        # its hosts table and verifies that name.
        URL_HOST=server.test
        get+=(--resolve "server.test:$S_ADDR")
    fi
    start_server "serving" "$BIN/http_server" -p 8080 -n 4 "${opts[@]}" "$WWW"
    client "index" "${get[@]}" -o "$TMP/index.html" "$scheme://$URL_HOST:8080/"
    cmp -s "$WWW/index.html" "$TMP/index.html" || fail "index.html differs"
    client "big.bin" "${get[@]}" -o "$TMP/big.bin" "$scheme://$URL_HOST:8080/big.bin"
    want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
    got=$(sha256sum <"$TMP/big.bin" | cut -d' ' -f1)
    if [ "$want" = "$got" ]; then ok "big.bin sha256 $got"; else fail "big.bin sha256 $got, want $want"; fi
    # A missing file and a path out of the root: http_get exits 1 for them.
    if client_side "${get[@]}" -o "$TMP/nope" "$scheme://$URL_HOST:8080/nope.txt" 2>"$TMP/e1"; then
        fail "missing file: exit 0"
    else
        grep -q "status 404" "$TMP/e1" && ok "missing file: 404" || fail "missing file: $(cat "$TMP/e1")"
    fi
    if client_side "${get[@]}" -o "$TMP/secret" "$scheme://$URL_HOST:8080/sub/%2e%2e/../secret.txt" \
        2>"$TMP/e2"; then
        fail "path out of the root: exit 0"
    else
        grep -q "status 400" "$TMP/e2" && ! grep -q SECRET "$TMP/secret" &&
            ok "path out of the root: 400" || fail "path out of the root: $(cat "$TMP/e2")"
    fi
    end_server
    ;;
packet)
    # Zephyr's packet sample on both ends: one waits for 5 frames of type
    # 88b5 (promiscuous, ETH_P_ALL), the other sends them, first whole
    # frames (SOCK_RAW, broadcast), then payloads (SOCK_DGRAM) to a MAC
    # that is neither side's, which only the promiscuous receiver takes.
    # Small frames: an Ethernet MTU, which the embedded limits hold too.
    PIPE_MTU=1500
    start_server "receiving on" "$BIN/packet" -c 0 -r 5
    client "5 raw frames" "$BIN/packet" -c 5 -r 0
    end_server
    n=$(grep -c "^recv 60 bytes pkttype 1 type 0x88b5 src .* dst ff:ff:ff:ff:ff:ff:" "$TMP/server.log")
    [ "$n" = 5 ] && ok "5 broadcast frames received" || fail "$n broadcast frames received, want 5"
    start_server "receiving on" "$BIN/packet" -c 0 -r 5
    client "5 SOCK_DGRAM payloads" "$BIN/packet" -c 5 -r 0 --dgram -d 02:00:5e:00:53:01
    end_server
    n=$(grep -c "^recv 60 bytes pkttype 3 type 0x88b5 src .* dst 02:00:5e:00:53:01:.*88b57a73 6f636b20" \
        "$TMP/server.log")
    [ "$n" = 5 ] && ok "5 frames to another host received" || fail "$n frames to another host, want 5"
    ;;
txtime)
    # Zephyr's txtime sample: 20 datagrams scheduled 5 ms apart with
    # SCM_TXTIME; the sender's transmit stamps must show none left early,
    # and the receiver stamps all 20 arrivals.
    start_server "receiving on" "$BIN/txtime" recv "${FLAG[@]}" -c 20
    client "20 scheduled datagrams" "$BIN/txtime" send "${FLAG[@]}" -c 20 -i 5 "$S_ADDR"
    grep -q "20 of 20 stamped, 0 early" "$TMP/client.out" ||
        fail "sender: $(tail -n 1 "$TMP/client.out")"
    end_server
    n=$(grep -c "^recv [0-9]*: arrived [0-9]* ns" "$TMP/server.log")
    [ "$n" = 20 ] && ok "20 arrivals stamped" || fail "$n arrivals stamped, want 20"
    ;;
*)
    echo "unknown case $CASE"
    exit 2
    ;;
esac
finish
