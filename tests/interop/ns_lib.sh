# Shared set-up of the interop scripts that put zsock on a TAP device in a
# private network namespace (sourced, not run). A script sets NS_TAG (a short
# word: namespace zsock-$NS_TAG-$$, TAP z$NS_TAG$$ cut to 15 characters,
# temporary directory zsock-$NS_TAG.*) and may set NAME (used in messages,
# default the script's file name), then calls
#   ns_require TOOL...   skip (exit 77) unless root, /dev/net/tun and the tools;
#   ns_require_scapy     skip unless scapy is there (SCAPY_PY runs it);
#   need_binary FILE WHAT  fail (exit 1) unless FILE is an executable;
#   ns_setup             create the namespace and the TAP, Linux 192.0.2.1/24 on
#                        it, zsock to be 192.0.2.2 (ZENV runs a tool with it);
# and uses in_ns, wait_line, ns_bound, started, wait_pid, stop_pid, ok,
# fail, bg (a background process in the namespace that cleanup kills),
# zsock_mac, neigh_mac and finish. Everything is removed on exit. A script without a
# namespace calls run_setup (TMP and the clean-up) instead of ns_setup, and
# spawn instead of bg.
# shellcheck shell=bash

LINUX_IP=192.0.2.1
ZSOCK_IP=192.0.2.2
NAME=${NAME:-$(basename "$0")}
STATUS=0
PIDS=()
TMP=""
T0=$SECONDS

skip() {
    echo "************************************************************"
    echo "SKIPPED $NAME: $*"
    echo "************************************************************"
    exit 77
}

fail() {
    echo "FAIL: $*"
    STATUS=1
}

ok() { echo "ok: $*"; }

ns_require() {
    local tool
    [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and a TAP device)"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun"
    for tool in ip timeout "$@"; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (see scripts/install-deps.sh)"
    done
}

ns_require_scapy() {
    SCAPY_PY=/usr/bin/python3 # Debian's python3-scapy is installed for the system Python
    "$SCAPY_PY" -c 'import scapy.all' 2>/dev/null || skip "no scapy for $SCAPY_PY (python3-scapy)"
}

need_binary() {
    [ -x "$1" ] || {
        echo "FAIL: no $2 binary at $1"
        exit 1
    }
}

ns_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    if [ -n "${NS:-}" ]; then
        ip netns exec "$NS" ip link del "$TAP" 2>/dev/null
        ip netns del "$NS" 2>/dev/null
    fi
    [ -n "$TMP" ] && rm -rf "$TMP"
}

# run_setup: TMP, a new temporary directory, and the traps that clean up
# when the script ends.
run_setup() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsock-$NS_TAG.XXXXXX")
    trap ns_cleanup EXIT
    trap 'exit 130' INT TERM
}

ns_setup() {
    local old pid
    NS="zsock-$NS_TAG-$$"
    TAP="z$NS_TAG$$"
    TAP=${TAP:0:15}
    run_setup
    # Namespaces left by an earlier run that was killed outright.
    for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^zsock-$NS_TAG-[0-9]+\$"); do
        pid=${old##*-}
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "removing stale namespace $old"
            ip netns del "$old" 2>/dev/null
        fi
    done
    ip netns add "$NS" 2>"$TMP/netns.err" ||
        skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
    in_ns ip link set lo up || {
        echo "FAIL: lo up"
        exit 1
    }
    in_ns ip tuntap add dev "$TAP" mode tap || skip "cannot create a TAP device"
    in_ns ip addr add "$LINUX_IP/24" dev "$TAP"
    in_ns ip link set "$TAP" up
    # shellcheck disable=SC2034 # used by the scripts that source this file
    ZENV=(env ZSOCK_TAP="$TAP" ZSOCK_IPV4="$ZSOCK_IP/24")
    echo "== $NAME: namespace $NS, TAP $TAP: Linux $LINUX_IP, zsock $ZSOCK_IP"
}

in_ns() { ip netns exec "$NS" "$@"; }

# spawn LOG CMD...: run CMD in the background, output to LOG; BG_PID is its
# pid, which cleanup kills.
spawn() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

# bg LOG CMD...: spawn CMD in the namespace (ip execs CMD, so signals reach it).
bg() {
    local log=$1
    shift
    spawn "$log" ip netns exec "$NS" "$@"
}

# wait_line FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN.
wait_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ns_bound tcp|udp PORT: wait up to 10 s until a Linux socket in the
# namespace listens on (tcp) or is bound to (udp) PORT.
ns_bound() {
    local i opts
    case $1 in
    tcp) opts=-ltnH ;;
    udp) opts=-lunH ;;
    *) return 1 ;;
    esac
    for ((i = 0; i < 100; i++)); do
        in_ns ss "$opts" "sport = :$2" | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# started LOG PATTERN WHAT: wait up to 10 s until LOG has a line matching
# PATTERN (a background process is ready); else show LOG, fail "WHAT did not
# start" and return 1.
started() {
    wait_line "$1" "$2" 10 && return 0
    cat "$1"
    fail "$3 did not start"
    return 1
}

# wait_pid PID SECONDS: wait for a background process to end (then kill it);
# its exit status.
wait_pid() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill "$1" 2>/dev/null
    wait "$1"
}

# stop_pid PID SECONDS: ask a process to end (SIGTERM), wait; its status.
stop_pid() {
    kill -TERM "$1" 2>/dev/null
    wait_pid "$1" "$2"
}

# The MAC address Linux's neighbour entry holds for zsock (none: empty).
neigh_mac() {
    in_ns ip neigh show "$ZSOCK_IP" dev "$TAP" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}

# The MAC address of zsock's interface, learnt by pinging it.
zsock_mac() {
    in_ns ping -c 1 -W 2 "$ZSOCK_IP" >/dev/null 2>&1
    neigh_mac
}

finish() {
    echo "== $NAME: $([ "$STATUS" -eq 0 ] && echo PASSED || echo FAILED) in $((SECONDS - T0)) s"
    exit "$STATUS"
}

# ns_remove_stale REGEX: delete the namespaces whose names match REGEX and end
# in "-PID" of a process that is gone (left by an earlier run that was killed
# outright); for a script that names its namespaces itself, not by ns_setup.
ns_remove_stale() {
    local name _
    while read -r name _; do
        [[ $name =~ $1 ]] || continue
        kill -0 "${name##*-}" 2>/dev/null && continue
        echo "removing stale namespace $name"
        ip netns del "$name" 2>/dev/null
    done < <(ip netns list 2>/dev/null)
}
