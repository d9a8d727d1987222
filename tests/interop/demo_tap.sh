#!/usr/bin/env bash
# Interop over TAP: the main demo with --tap (apps/demo), its server on a TAP
# device in a private network namespace, reached by curl from Linux with the
# exact command the demo prints (certificate verified against the test CA),
# then the large file by SHA-256 against the one the server announces. The
# demo must end cleanly on SIGTERM.
# Usage: demo_tap.sh ZSOCK_DEMO. Needs root, /dev/net/tun, curl and sha256sum
# (else exits 77). Traffic stays inside the namespace, on 192.0.2.0/24.
set -u

DEMO=${1:?usage: demo_tap.sh ZSOCK_DEMO}
NS_TAG=demo
# shellcheck source=ns_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/ns_lib.sh"
ns_require curl sha256sum
need_binary "$DEMO" zsock_demo
ns_setup

# The demo opens the namespace's TAP device and gives its host end
# 192.0.2.1/24 itself (ns_setup already did: the same address).
bg "$TMP/demo.log" timeout 90 "$DEMO" --tap "$TAP" --size 8388608 --serve 60
PID=$BG_PID
started "$TMP/demo.log" "tap: serving" "zsock_demo --tap" || finish
grep -q "^demo: OK" "$TMP/demo.log" && fail "demo ended early"
grep -E "^client: " "$TMP/demo.log"

# The command the demo printed, run as printed (in the namespace).
read -r -a cmd < <(grep -A1 "^tap: from the host, run:" "$TMP/demo.log" | tail -n 1)
if [ "${cmd[0]:-}" = curl ] && in_ns "${cmd[@]}" -sS --max-time 20 -o "$TMP/page.html" &&
    grep -q "<h1>Hello from zsock</h1>" "$TMP/page.html"; then
    ok "the printed command works: ${cmd[*]}"
else
    fail "the printed command '${cmd[*]}' did not fetch the page"
fi

# The large file, with the SHA-256 the server puts in its header.
# (the printed command without its URL)
if in_ns "${cmd[@]:0:${#cmd[@]}-1}" -sS --max-time 30 -D "$TMP/head.txt" -o "$TMP/big.bin" \
    "https://192.0.2.2:8443/big.bin" 2>"$TMP/curl.err"; then
    :
fi
want=$(awk -F': ' 'tolower($1) == "x-content-sha256" {print $2}' "$TMP/head.txt" | tr -d '\r')
got=$(sha256sum <"$TMP/big.bin" | cut -d' ' -f1)
if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$(stat -c %s "$TMP/big.bin")" = 8388608 ]; then
    ok "curl got big.bin over TAP, sha256 $got as the server announced"
else
    fail "big.bin over TAP: sha256 $got, server said '${want}'"
    cat "$TMP/curl.err"
fi

# The neighbour entry Linux learnt is zsock's interface.
if [ -n "$(neigh_mac)" ]; then ok "Linux's neighbour entry for 192.0.2.2: $(neigh_mac)"; fi
stop_pid "$PID" 10 || fail "demo exit status after SIGTERM"
grep -q "^demo: OK" "$TMP/demo.log" || fail "no 'demo: OK'"
cat "$TMP/demo.log"
finish
