#!/usr/bin/env bash
# Interop over TAP: multicast between Linux and zsock in a private network
# namespace. A zsock echo server (zudp echo-server --join) joins a group; a
# Linux sender on the namespace's side of the TAP sends datagrams to the
# group, and each comes back from zsock's unicast address. Checked for an
# IPv4 group (IGMP: zsock's report reaches Linux, which then delivers the
# group's frames) and an IPv6 group (MLDv2), and that a group zsock did not
# join stays unanswered (its MAC filter and IP layer drop it). The other way
# round, Linux joins a group (IPv4 and IPv6) and receives what zsock sends
# to it (zudp send, its multicast TTL/hops and the group's MAC on the wire).
# Usage: mcast_tap.sh ZUDP. Needs root, /dev/net/tun and python3 (else exits
# 77, "skipped"). Traffic stays inside the namespace (192.0.2.0/24, fe80::,
# groups 239.1.2.3 / 239.1.2.4 and ff15::1234).
set -u

ZUDP=${1:?usage: mcast_tap.sh ZUDP}
NS_TAG=mc
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=ns_lib.sh
. "$HERE/ns_lib.sh"
ns_require python3
need_binary "$ZUDP" zudp
ns_setup
in_ns sysctl -qw "net.ipv6.conf.$TAP.accept_dad=0"

# mcast_send GROUP PORT COUNT [IPV6]: send COUNT datagrams to the group from
# the namespace (out of the TAP) and print how many came back as echoes.
mcast_send() {
    in_ns timeout 30 python3 - "$TAP" "$1" "$2" "$3" "${4:-}" <<'EOF'
import socket, struct, sys, time
tap, group, port, count, v6 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    idx = socket.if_nametoindex(tap)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    dest = (group, port, 0, idx)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("192.0.2.1"))
    dest = (group, port)
s.settimeout(0.3)
got = 0
for i in range(count):
    msg = b"mcast %d" % i
    for attempt in range(5):
        s.sendto(msg, dest)
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        if data == msg:
            got += 1
            break
print("echoed %d of %d" % (got, count), flush=True)
EOF
}

start_server() { # LOG ARGS...: a zudp echo server joined to a group
    local log=$1
    shift
    bg "$log" "${ZENV[@]}" timeout 60 "$ZUDP" --idle-timeout 4000 "$@"
    wait_line "$log" "ready on port" 15 || fail "zudp did not start: $(cat "$log")"
}

# IPv4: 239.1.2.3.
start_server "$TMP/v4.log" --join 239.1.2.3 echo-server 5000
grep -q "joined 239.1.2.3" "$TMP/v4.log" || fail "zudp did not join 239.1.2.3"
out=$(mcast_send 239.1.2.3 5000 50)
if [ "$out" = "echoed 50 of 50" ]; then
    ok "IPv4 group 239.1.2.3: $out"
else
    fail "IPv4 group 239.1.2.3: $out"
fi
# A group zsock did not join: nothing answers.
out=$(mcast_send 239.1.2.4 5000 3)
if [ "$out" = "echoed 0 of 3" ]; then
    ok "IPv4 group not joined: $out"
else
    fail "IPv4 group not joined: $out"
fi
stop_pid "$BG_PID" 5 # one zsock process on the TAP at a time

# IPv6: ff15::1234 over the link-local addresses.
start_server "$TMP/v6.log" --ipv6 --join ff15::1234 echo-server 5002
grep -q "joined ff15::1234" "$TMP/v6.log" || fail "zudp did not join ff15::1234"
out=$(mcast_send ff15::1234 5002 50 v6)
if [ "$out" = "echoed 50 of 50" ]; then
    ok "IPv6 group ff15::1234: $out"
else
    fail "IPv6 group ff15::1234: $out"
fi
stop_pid "$BG_PID" 5

# linux_member LOG GROUP PORT COUNT [IPV6]: a Linux member of the group in
# the namespace, printing "ready", then "received N" after COUNT datagrams
# or 10 s of quiet.
linux_member() {
    local log=$1
    shift
    cat >"$TMP/member.py" <<'EOF2'
import socket, struct, sys
tap, group, port, count, v6 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else ""
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", port))
    mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", socket.if_nametoindex(tap))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", port))
    mreq = socket.inet_aton(group) + socket.inet_aton("192.0.2.1")
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
print("ready", flush=True)
s.settimeout(10)
got = 0
try:
    while got < count:
        data, peer = s.recvfrom(65536)
        got += 1
except socket.timeout:
    pass
print("received %d" % got, flush=True)
EOF2
    bg "$log" timeout 30 python3 "$TMP/member.py" "$TAP" "$@"
    wait_line "$log" "ready" 10 || fail "the Linux member did not start: $(cat "$log")"
}

# zsock sends to groups Linux joined.
linux_member "$TMP/m4.log" 239.1.2.5 5004 20
in_ns "${ZENV[@]}" timeout 30 "$ZUDP" --oneway --count 20 --interval-us 2000 send 239.1.2.5 5004 \
    >"$TMP/s4.log" 2>&1 || fail "zudp send to 239.1.2.5: $(cat "$TMP/s4.log")"
wait_line "$TMP/m4.log" "received" 15
if grep -q "^received 20$" "$TMP/m4.log"; then
    ok "Linux member of 239.1.2.5 received 20 of 20 from zsock"
else
    fail "Linux member of 239.1.2.5: $(cat "$TMP/m4.log")"
fi
linux_member "$TMP/m6.log" ff15::5678 5006 20 v6
in_ns "${ZENV[@]}" timeout 30 "$ZUDP" --oneway --count 20 --interval-us 2000 send ff15::5678 5006 \
    >"$TMP/s6.log" 2>&1 || fail "zudp send to ff15::5678: $(cat "$TMP/s6.log")"
wait_line "$TMP/m6.log" "received" 15
if grep -q "^received 20$" "$TMP/m6.log"; then
    ok "Linux member of ff15::5678 received 20 of 20 from zsock"
else
    fail "Linux member of ff15::5678: $(cat "$TMP/m6.log")"
fi

finish
