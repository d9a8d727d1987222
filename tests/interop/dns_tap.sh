#!/usr/bin/env bash
# Interop over TAP: zsock's DNS resolver (through zhost) against dnsmasq in a
# private network namespace. dnsmasq serves the zone "test" only (unknown
# names there, and in 2.0.192.in-addr.arpa, are NXDOMAIN) from its command
# line and a hosts file. Checks:
#   (a) A, AAAA and both; a CNAME chain (canonical name); NXDOMAIN
#       (EAI_NONAME); a name without AAAA asked with -6 (EAI_NODATA);
#   (b) 40 A records (8 returned, all of them the server's) and 100 (the
#       answer is truncated, the resolver asks again over TCP: `truncated`);
#   (c) reverse lookups (PTR) of --ptr-record and --host-record addresses,
#       and EAI_NONAME for an address without a name;
#   (d) AI_ADDRCONFIG: zsock has IPv4 only, so no AAAA query is sent;
#   (e) failover: a first server with no host behind it (a timeout, then the
#       second server), and one on a Linux address with no DNS server (ICMP
#       port unreachable: no timeout);
#   (f) every query came from zsock's address (dnsmasq's log);
#   (g) glibc (getent, with a resolv.conf naming dnsmasq) gives the same
#       addresses, canonical name and reverse names as zhost.
# Usage: dns_tap.sh ZHOST. Needs root, /dev/net/tun and dnsmasq (else exits
# 77, "skipped"). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

ZHOST=${1:?usage: dns_tap.sh ZHOST}
NS_TAG=dns
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require dnsmasq
need_binary "$ZHOST" zhost
ns_setup

NO_DNS_IP=192.0.2.3 # a Linux address with no DNS server: ICMP port unreachable
NO_HOST_IP=192.0.2.9 # nobody: ARP goes unanswered, the query times out

# ---- dnsmasq ------------------------------------------------------------------------------------
for i in $(seq 1 40); do echo "10.3.0.$i many.test"; done >"$TMP/hosts"
for i in $(seq 1 100); do echo "10.4.0.$i huge.test"; done >>"$TMP/hosts"
chmod 755 "$TMP" # dnsmasq reads the hosts file after dropping privileges
chmod 644 "$TMP/hosts"
bg "$TMP/dnsmasq.out" dnsmasq --keep-in-foreground --port=53 --no-resolv --no-hosts \
    --conf-file=/dev/null --listen-address="$LINUX_IP" --bind-interfaces --local=/test/ \
    --local=/2.0.192.in-addr.arpa/ \
    --log-queries --log-facility="$TMP/dnsmasq.log" --pid-file="$TMP/dnsmasq.pid" \
    --addn-hosts="$TMP/hosts" \
    --host-record=www.test,192.0.2.10 \
    --host-record=dual.test,192.0.2.11,2001:db8::11 \
    --host-record=v4only.test,192.0.2.12 \
    --host-record=cfg.test,192.0.2.13,2001:db8::13 \
    --host-record=six.test,2001:db8::14 \
    --cname=alias.test,mid.test --cname=mid.test,www.test \
    --ptr-record=50.2.0.192.in-addr.arpa,ptronly.test
started "$TMP/dnsmasq.log" "started, version" dnsmasq || finish
in_ns ip addr add "$NO_DNS_IP/24" dev "$TAP"

# zh OUT SERVERS ARGS...: zhost on the TAP with ZSOCK_DNS=SERVERS, output in
# OUT (shown when a check fails); its exit status.
zh() {
    local out=$1 dns=$2
    shift 2
    in_ns env ZSOCK_DNS="$dns" timeout 30 "$ZHOST" --tap "$TAP" --ip "$ZSOCK_IP/24" "$@" \
        >"$out" 2>&1
}

# The address lines of NAME in OUT, in order.
addrs_of() { awk -v n="$2" '$1 == n && NF == 2 { print $2 }' "$1"; }

# stat OUT NAME: a counter from zhost --stats.
stat() { sed -n "s/^zhost: stats .*\b$2 \([0-9]*\).*/\1/p" "$1"; }

# expect OUT STATUS WANT CHECK: zhost ended with WANT and OUT has lines
# matching each pattern of CHECK (a list of grep -x patterns, one a line).
expect() {
    local out=$1 status=$2 want=$3 what=$4 pat bad=0
    if [ "$status" -ne "$want" ]; then
        bad=1
    fi
    while IFS= read -r pat; do
        [ -z "$pat" ] && continue
        grep -qx -- "$pat" "$out" || bad=1
    done
    if [ "$bad" -eq 0 ]; then
        ok "$what"
    else
        echo "--- zhost output (status $status, $want expected):"
        cat "$out"
        fail "$what"
    fi
}

echo "== (a) A, AAAA, CNAME, NXDOMAIN, NODATA"
zh "$TMP/a1" "$LINUX_IP" -4 www.test
expect "$TMP/a1" $? 0 "A: www.test is 192.0.2.10" <<<"www.test 192.0.2.10"
[ "$(addrs_of "$TMP/a1" www.test | wc -l)" -eq 1 ] || fail "www.test: one address expected"

zh "$TMP/a2" "$LINUX_IP" -6 dual.test six.test
expect "$TMP/a2" $? 0 "AAAA: dual.test and six.test" <<EOF
dual.test 2001:db8::11
six.test 2001:db8::14
EOF
zh "$TMP/a3" "$LINUX_IP" dual.test
st=$?
if [ "$st" -eq 0 ] && [ "$(addrs_of "$TMP/a3" dual.test | tr '\n' ' ')" = "192.0.2.11 2001:db8::11 " ]; then
    ok "both families: dual.test gives 192.0.2.11 then 2001:db8::11"
else
    cat "$TMP/a3"
    fail "dual.test without -4/-6"
fi

zh "$TMP/a4" "$LINUX_IP" -c -4 alias.test
expect "$TMP/a4" $? 0 "CNAME chain alias.test -> mid.test -> www.test" <<EOF
alias.test canonical www.test
alias.test 192.0.2.10
EOF

zh "$TMP/a5" "$LINUX_IP" nx.test
expect "$TMP/a5" $? 2 "NXDOMAIN: nx.test is EAI_NONAME" <<<"nx.test error EAI_NONAME: .*"
zh "$TMP/a6" "$LINUX_IP" -6 v4only.test
expect "$TMP/a6" $? 2 "no AAAA: -6 v4only.test is EAI_NODATA" <<<"v4only.test error EAI_NODATA: .*"
zh "$TMP/a7" "$LINUX_IP" -4 www.test nx.test
expect "$TMP/a7" $? 2 "one name failing of two: status 2, the other answered" <<EOF
www.test 192.0.2.10
nx.test error EAI_NONAME: .*
EOF

echo "== (b) many records, truncation and TCP"
# check_many OUT NAME PREFIX TOTAL TRUNCATED
check_many() {
    local out=$1 name=$2 prefix=$3 total=$4 trunc=$5 n distinct bad=0 a
    n=$(addrs_of "$out" "$name" | wc -l)
    distinct=$(addrs_of "$out" "$name" | sort -u | wc -l)
    [ "$n" -eq 8 ] && [ "$distinct" -eq 8 ] || bad=1
    for a in $(addrs_of "$out" "$name"); do
        [[ $a == "$prefix".* ]] && [ "${a##*.}" -ge 1 ] && [ "${a##*.}" -le "$total" ] || bad=1
    done
    [ "$(stat "$out" truncated)" = "$trunc" ] || bad=1
    if [ "$bad" -eq 0 ]; then
        ok "$name: $total records, 8 distinct of them returned, truncated $trunc"
    else
        cat "$out"
        fail "$name: 8 distinct addresses of $prefix.1-$total and truncated $trunc expected"
    fi
}
zh "$TMP/b1" "$LINUX_IP" -4 --stats many.test || fail "many.test lookup failed"
check_many "$TMP/b1" many.test 10.3.0 40 0
zh "$TMP/b2" "$LINUX_IP" -4 --stats huge.test || fail "huge.test lookup failed"
check_many "$TMP/b2" huge.test 10.4.0 100 1

echo "== (c) reverse lookups"
zh "$TMP/c1" "$LINUX_IP" -x 192.0.2.50 192.0.2.13
expect "$TMP/c1" $? 0 "PTR: 192.0.2.50 (--ptr-record) and 192.0.2.13 (--host-record)" <<EOF
192.0.2.50 ptronly.test
192.0.2.13 cfg.test
EOF
zh "$TMP/c2" "$LINUX_IP" -x -4 www.test
expect "$TMP/c2" $? 0 "forward then reverse: www.test" <<EOF
www.test 192.0.2.10
192.0.2.10 www.test
EOF
zh "$TMP/c3" "$LINUX_IP" -x 192.0.2.77
expect "$TMP/c3" $? 2 "no PTR: 192.0.2.77 is EAI_NONAME with NI_NAMEREQD" <<<"192.0.2.77 error EAI_NONAME: .*"

echo "== (d) AI_ADDRCONFIG"
zh "$TMP/d1" "$LINUX_IP" --addrconfig cfg.test
st=$?
if [ "$st" -eq 0 ] && [ "$(addrs_of "$TMP/d1" cfg.test | tr '\n' ' ')" = "192.0.2.13 " ] &&
    grep -q "query\[A\] cfg.test from $ZSOCK_IP" "$TMP/dnsmasq.log" &&
    ! grep -q "query\[AAAA\] cfg.test" "$TMP/dnsmasq.log"; then
    ok "--addrconfig cfg.test: A asked, AAAA not asked, 192.0.2.13 only"
else
    cat "$TMP/d1"
    grep "cfg.test" "$TMP/dnsmasq.log"
    fail "--addrconfig cfg.test"
fi

echo "== (e) failover"
zh "$TMP/e1" "$NO_HOST_IP,$LINUX_IP" -4 --stats www.test
st=$?
if [ "$st" -eq 0 ] && grep -qx "www.test 192.0.2.10" "$TMP/e1" &&
    [ "$(stat "$TMP/e1" timeouts)" = 1 ] && [ "$(stat "$TMP/e1" failovers)" = 1 ]; then
    ok "no host at $NO_HOST_IP: one timeout, failover to $LINUX_IP"
else
    cat "$TMP/e1"
    fail "failover from $NO_HOST_IP (timeouts 1, failovers 1 expected)"
fi
t0=$(date +%s%N)
zh "$TMP/e2" "$NO_DNS_IP,$LINUX_IP" -4 --stats www.test
st=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$st" -eq 0 ] && grep -qx "www.test 192.0.2.10" "$TMP/e2" &&
    [ "$(stat "$TMP/e2" timeouts)" = 0 ] && [ "$(stat "$TMP/e2" failovers)" = 1 ]; then
    ok "no DNS server on $NO_DNS_IP: port unreachable, failover without a timeout ($ms ms)"
else
    cat "$TMP/e2"
    fail "failover from $NO_DNS_IP (timeouts 0, failovers 1 expected)"
fi

echo "== (f) dnsmasq's view"
nq=$(grep -c "query\[" "$TMP/dnsmasq.log")
others=$(grep "query\[" "$TMP/dnsmasq.log" | grep -vc "from $ZSOCK_IP\$")
if [ "$nq" -gt 0 ] && [ "$others" -eq 0 ]; then
    ok "dnsmasq answered $nq queries, all from $ZSOCK_IP"
else
    fail "dnsmasq: $nq queries, $others not from $ZSOCK_IP"
fi

echo "== (g) the same answers from glibc"
# getent in the namespace, with a resolv.conf naming dnsmasq bind-mounted
# over /etc/resolv.conf in a mount namespace of its own (nothing in /etc
# changes), through the DNS module only (not /etc/hosts).
printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$LINUX_IP" >"$TMP/resolv.conf"
libc() {
    # shellcheck disable=SC2016 # expanded by the inner sh
    in_ns unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec getent -s dns "$@"' \
        "$TMP/resolv.conf" "$@"
}
if ! command -v unshare >/dev/null || ! libc ahostsv4 www.test >"$TMP/g0" 2>&1; then
    cat "$TMP/g0" 2>/dev/null
    echo "   (skipped: getent cannot use dnsmasq here)"
else
    for name in www.test alias.test dual.test v4only.test many.test; do
        libc ahostsv4 "$name" | awk '{ print $1 }' | sort -u >"$TMP/g.libc"
        zh "$TMP/g.out" "$LINUX_IP" -4 "$name"
        addrs_of "$TMP/g.out" "$name" | sort -u >"$TMP/g.zsock"
        if [ ! -s "$TMP/g.zsock" ]; then
            fail "$name: zhost found nothing"
        elif [ "$name" = many.test ]; then
            # glibc returns all 40, zsock at most 8 of them.
            if [ "$(wc -l <"$TMP/g.libc")" -eq 40 ] && [ -z "$(comm -23 "$TMP/g.zsock" "$TMP/g.libc")" ]; then
                ok "glibc: many.test, zsock's 8 among glibc's 40"
            else
                fail "glibc: many.test differs"
            fi
        elif cmp -s "$TMP/g.libc" "$TMP/g.zsock"; then
            ok "glibc: $name is $(tr '\n' ' ' <"$TMP/g.libc")"
        else
            fail "glibc: $name: glibc $(tr '\n' ' ' <"$TMP/g.libc")/ zsock $(tr '\n' ' ' <"$TMP/g.zsock")"
        fi
    done
    canon=$(libc ahostsv4 alias.test | awk 'NR == 1 { print $3 }')
    if [ "$canon" = www.test ]; then
        ok "glibc: canonical name of alias.test is www.test, as zhost says"
    else
        fail "glibc: canonical name of alias.test is '$canon'"
    fi
    for a in 192.0.2.10 192.0.2.50; do
        g=$(libc hosts "$a" | awk '{ print $2 }')
        zh "$TMP/g.rev" "$LINUX_IP" -x "$a"
        z=$(awk -v a="$a" '$1 == a && $2 != a { print $2 }' "$TMP/g.rev")
        if [ -n "$g" ] && [ "$g" = "$z" ]; then
            ok "glibc: $a is $g both ways"
        else
            fail "glibc: $a: glibc '$g', zsock '$z'"
        fi
    done
    libc ahostsv4 nx.test >/dev/null 2>&1
    g=$?
    if [ "$g" -eq 2 ] && grep -q "^nx.test error EAI_NONAME" "$TMP/a5"; then
        ok "glibc: nx.test is not found either (getent status 2)"
    else
        fail "glibc: nx.test: getent status $g"
    fi
fi

finish
