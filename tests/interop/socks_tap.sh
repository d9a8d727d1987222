#!/usr/bin/env bash
# Interop over TAP: SO_SOCKS5 through Debian's microsocks. In a private
# network namespace, microsocks listens on 192.0.2.1 and 2001:db8::1 port
# 1080 and a Linux echo server on the namespace's loopback (127.0.0.1 and
# ::1 port 7007), which zsock (192.0.2.2, 2001:db8::2 on the TAP) can reach
# only through the proxy. Checked with `ztcp client --socks ... --echoed`:
#   - IPv4: BYTES bytes to 127.0.0.1:7007 through 192.0.2.1:1080, the echo
#     equal in length and checksum;
#   - IPv6: the same to [::1]:7007 through [2001:db8::1]:1080 (a CONNECT
#     with an IPv6 address);
#   - a destination port nobody listens on: the proxy's "connection
#     refused" reply makes connect() fail with ECONNREFUSED;
#   - with ZTLS (and openssl): `ztls client --socks` GETs / from openssl
#     s_server on 127.0.0.1:8443, the TLS handshake (certificate checked
#     for server.test) through the tunnel.
# Usage: socks_tap.sh ZTCP [BYTES [ZTLS]]. Needs root, /dev/net/tun,
# microsocks and python3 (else exits 77). Traffic stays inside the namespace.
set -u

ZTCP=${1:?usage: socks_tap.sh ZTCP [BYTES [ZTLS]]}
BYTES=${2:-4194304}
ZTLS=${3:-}
NS_TAG=socks
HERE=$(cd "$(dirname "$0")" && pwd)
PKI=$(cd "$HERE/../tls/pki" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require microsocks python3
need_binary "$ZTCP" ztcp
ns_setup
L6=2001:db8::1
Z6=2001:db8::2
in_ns ip -6 addr add "$L6/64" dev "$TAP" nodad
ZENV6=("${ZENV[@]}" ZSOCK_IPV6="$Z6/64")
ECHO_PORT=7007

# The destination: an echo server on the namespace's loopback, both versions.
bg "$TMP/echo.log" timeout 60 python3 -c '
import socket, socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)
class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
srv = Server(("::", int(sys.argv[1])), Echo)
print("echo ready", flush=True)
srv.serve_forever()
' "$ECHO_PORT"
started "$TMP/echo.log" "echo ready" "the echo server" || finish
bg "$TMP/socks4.log" timeout 60 microsocks -i "$LINUX_IP" -p 1080
bg "$TMP/socks6.log" timeout 60 microsocks -i "$L6" -p 1080
ns_bound tcp 1080 || fail "microsocks is not listening"

# client DEST PROXY: ztcp through the proxy to DEST:ECHO_PORT, echo checked.
client() {
    in_ns "${ZENV6[@]}" timeout 40 "$ZTCP" client "$1" "$ECHO_PORT" --socks "$2" --echoed \
        --bytes "$BYTES" --time-limit 30
}

if client 127.0.0.1 "$LINUX_IP:1080" >"$TMP/c4.log" 2>&1 &&
    grep -q "^ztcp: sent $BYTES bytes, echo verified" "$TMP/c4.log"; then
    ok "IPv4: $(grep "echo verified" "$TMP/c4.log")"
else
    cat "$TMP/c4.log" "$TMP/socks4.log"
    fail "IPv4 through microsocks"
fi

if client ::1 "[$L6]:1080" >"$TMP/c6.log" 2>&1 &&
    grep -q "^ztcp: sent $BYTES bytes, echo verified" "$TMP/c6.log"; then
    ok "IPv6: $(grep "echo verified" "$TMP/c6.log")"
else
    cat "$TMP/c6.log" "$TMP/socks6.log"
    fail "IPv6 through microsocks"
fi

# Nobody listens on ECHO_PORT + 1: microsocks answers "connection refused".
if in_ns "${ZENV6[@]}" timeout 20 "$ZTCP" client 127.0.0.1 $((ECHO_PORT + 1)) --socks "$LINUX_IP:1080" \
    --echoed --bytes 1 --time-limit 10 >"$TMP/cr.log" 2>&1; then
    fail "a refused destination connected: $(cat "$TMP/cr.log")"
elif grep -q "Connection refused" "$TMP/cr.log"; then
    ok "refused destination: $(grep "Connection refused" "$TMP/cr.log")"
else
    cat "$TMP/cr.log"
    fail "a refused destination did not give ECONNREFUSED"
fi

# TLS through the tunnel, to openssl s_server on the namespace's loopback.
if [ -n "$ZTLS" ] && command -v openssl >/dev/null; then
    need_binary "$ZTLS" ztls
    # s_server quits at the end of its standard input: one that never ends.
    mkfifo "$TMP/hold"
    exec 9<>"$TMP/hold"
    ip netns exec "$NS" timeout 30 openssl s_server -accept 127.0.0.1:8443 -tls1_2 -naccept 1 \
        -www -cert "$PKI/server-rsa.crt" -key "$PKI/server-rsa.key" <&9 >"$TMP/s_server.log" 2>&1 &
    PIDS+=($!)
    ns_bound tcp 8443 || fail "openssl s_server did not start"
    if in_ns "${ZENV[@]}" timeout 30 "$ZTLS" client 127.0.0.1 8443 --socks "$LINUX_IP:1080" \
        --get / --hostname server.test --ca "$PKI/ca.crt" --time-limit 20 >"$TMP/tls.log" 2>&1 &&
        grep -q "http status 200" "$TMP/tls.log"; then
        ok "TLS: $(grep -o 'handshake done.*' "$TMP/tls.log" | head -n1), $(grep 'http status' "$TMP/tls.log")"
    else
        cat "$TMP/tls.log" "$TMP/s_server.log"
        fail "TLS through microsocks"
    fi
else
    echo "TLS case not run: no ztls or no openssl"
fi
finish
