#!/usr/bin/env bash
# The README's DHCP sample end to end (apps/samples/dhcp_http_get.c): zsock
# on a TAP in a private network namespace gets its address, router and DNS
# server from dnsmasq by DHCP, resolves www.zsock.test through that DNS
# server, fetches a page from a Python HTTP server in the namespace, checks
# it, and releases its lease on the way out.
# Usage: dhcp_http.sh DHCP_HTTP_GET. Needs root, /dev/net/tun, dnsmasq and
# python3 (else exits 77). Traffic stays inside the namespace.
set -u

SAMPLE=${1:?usage: dhcp_http.sh DHCP_HTTP_GET}
NS_TAG=dhttp
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
ns_require dnsmasq python3 sha256sum
need_binary "$SAMPLE" dhcp_http_get
ns_setup

mkdir -p "$TMP/www"
head -c 300000 /dev/urandom | base64 >"$TMP/www/page.txt"
bg "$TMP/http.log" python3 -m http.server 80 --bind "$LINUX_IP" --directory "$TMP/www"
started "$TMP/http.log" "Serving HTTP" "the HTTP server" || finish

bg "$TMP/dnsmasq.log" dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null \
    --no-resolv --no-hosts --bind-interfaces --interface="$TAP" --listen-address="$LINUX_IP" \
    --dhcp-range=192.0.2.50,192.0.2.99,255.255.255.0,2m --dhcp-leasefile="$TMP/leases" \
    --dhcp-option=option:router,"$LINUX_IP" --dhcp-option=option:dns-server,"$LINUX_IP" \
    --local=/zsock.test/ --host-record=www.zsock.test,"$LINUX_IP" --log-queries --log-dhcp
started "$TMP/dnsmasq.log" "started" dnsmasq || finish

if in_ns timeout 60 "$SAMPLE" "$TAP" www.zsock.test /page.txt >"$TMP/out.txt" 2>"$TMP/err.txt"; then
    ok "dhcp_http_get ended with status 0"
else
    fail "dhcp_http_get failed: $(cat "$TMP/err.txt")"
fi
lease=$(grep -m1 '^lease ' "$TMP/out.txt")
if [[ $lease =~ ^lease\ 192\.0\.2\.([0-9]+)/24\ router\ $LINUX_IP\ dns\ $LINUX_IP ]] &&
    ((BASH_REMATCH[1] >= 50 && BASH_REMATCH[1] <= 99)); then
    ok "DHCP: $lease"
else
    fail "DHCP lease line: '${lease:-none}'"
fi
if grep -q "^connected to www.zsock.test ($LINUX_IP)" "$TMP/out.txt"; then
    ok "www.zsock.test resolved through dnsmasq and connected"
else
    fail "no connection to www.zsock.test: $(head -3 "$TMP/out.txt")"
fi
grep -q "query\[A\] www.zsock.test" "$TMP/dnsmasq.log" || fail "dnsmasq saw no A query for www.zsock.test"
# The body is what follows the blank line ending the HTTP header.
sed '1,/^\r\{0,1\}$/d' "$TMP/out.txt" >"$TMP/body.txt"
want=$(sha256sum <"$TMP/www/page.txt" | cut -d' ' -f1)
got=$(sha256sum <"$TMP/body.txt" | cut -d' ' -f1)
if [ "$want" = "$got" ]; then
    ok "page fetched intact ($(wc -c <"$TMP/body.txt") bytes, sha256 ${got:0:16}...)"
else
    fail "page sha256 $got, want $want"
fi
if wait_line "$TMP/dnsmasq.log" "DHCPRELEASE" 5; then
    ok "the lease was released"
else
    fail "dnsmasq saw no DHCPRELEASE"
fi
finish
