#!/usr/bin/env bash
# A fuzzing campaign (`make fuzz-long`): every libFuzzer target for MINUTES
# each (default 10), one at a time on one core (nice), each starting from
# its seeds (tests/fuzz/corpus/<target>) and what earlier campaigns found;
# then each target's corpus merged (minimised), coverage-instrumented
# replay binaries built, every corpus replayed and the line and branch
# coverage of src/ reported (llvm-cov), per target and for all together.
#
#   tests/fuzz/campaign.sh [OUT_DIR]       (default build-fuzz-long)
#
# Environment: MINUTES (per target; 0 skips fuzzing and only measures the
# corpora), TARGETS (names, default all), UPDATE_SEEDS=1 (merge what was
# found into tests/fuzz/corpus/ too). Crashes go to OUT_DIR/artifacts/ and
# make the script exit 1 after the report. The summary is written to
# OUT_DIR/summary.txt.
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
out=$(mkdir -p "${1:-build-fuzz-long}" && cd "${1:-build-fuzz-long}" && pwd)
minutes=${MINUTES:-10}
all="fuzz_wire fuzz_ipv6 fuzz_tcp fuzz_dns fuzz_dhcp fuzz_stack fuzz_api fuzz_tls fuzz_creds"
targets=${TARGETS:-$all}
jobs=${JOBS:-2}

for tool in clang llvm-profdata llvm-cov; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool not found (Debian packages clang and llvm; scripts/install-deps.sh)" >&2
        exit 2
    fi
done

# configure DIR ARGS...: a fuzz-only build of the targets.
configure() {
    local dir=$1
    shift
    CC=clang cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DZSOCK_BUILD_FUZZ=ON -DZSOCK_BUILD_TESTS=OFF -DZSOCK_BUILD_BENCH=OFF \
        -DZSOCK_BUILD_APPS=OFF "$@" >/dev/null || exit 2
    # shellcheck disable=SC2086
    cmake --build "$dir" -j"$jobs" --target $targets >/dev/null || exit 2
}

status=0
mkdir -p "$out/artifacts" "$out/found" "$out/corpus" "$out/logs"
declare -A execs secs

# ---- 1. fuzz, one target at a time --------------------------------------------------------
if [ "$minutes" != 0 ]; then
    echo "building the sanitizer targets in $out/build"
    configure "$out/build"
    for t in $targets; do
        mkdir -p "$out/found/$t" "$root/tests/fuzz/corpus/$t"
        echo "$t: fuzzing for $minutes min"
        start=$(date +%s)
        # Programs (the stack, API and TLS targets) mean little in a few
        # bytes, and these targets run slowly enough that libFuzzer's
        # gradual growth of the input length would keep them short for long.
        extra=()
        case $t in
        fuzz_stack | fuzz_api | fuzz_tls | fuzz_creds) extra=(-len_control=0 -max_len=4096) ;;
        esac
        nice -n 10 "$out/build/tests/fuzz/$t" -max_total_time=$((minutes * 60)) \
            -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 "${extra[@]}" \
            -artifact_prefix="$out/artifacts/$t-" "$out/found/$t" "$root/tests/fuzz/corpus/$t" \
            >"$out/logs/$t.log" 2>&1 || {
            echo "$t: FAILED, see $out/logs/$t.log and $out/artifacts/" >&2
            status=1
        }
        secs[$t]=$(($(date +%s) - start))
        execs[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log" | tail -1)
    done

    # ---- 2. merge: seeds and findings, minimised --------------------------------------------
    for t in $targets; do
        rm -rf "$out/corpus/$t"
        mkdir -p "$out/corpus/$t"
        "$out/build/tests/fuzz/$t" -merge=1 -timeout=10 -rss_limit_mb=2048 "$out/corpus/$t" \
            "$root/tests/fuzz/corpus/$t" "$out/found/$t" >"$out/logs/$t.merge.log" 2>&1 ||
            echo "$t: merge failed, see $out/logs/$t.merge.log" >&2
        if [ "${UPDATE_SEEDS:-0}" = 1 ]; then
            "$out/build/tests/fuzz/$t" -merge=1 -timeout=10 "$root/tests/fuzz/corpus/$t" \
                "$out/corpus/$t" >>"$out/logs/$t.merge.log" 2>&1 || true
        fi
    done
fi

# ---- 3. coverage: replay each corpus on instrumented binaries -------------------------------
echo "building the coverage replayers in $out/cov"
configure "$out/cov" -DZSOCK_FUZZ_COVERAGE=ON
mkdir -p "$out/prof"
rm -f "$out/prof/"*.profraw "$out/prof/"*.profdata
objects=()
summary="$out/summary.txt"
{
    echo "zsock fuzz campaign, $(date -u '+%Y-%m-%d %H:%M UTC'), $minutes min per target"
    printf '%-11s %8s %12s %8s %16s %16s\n' target seconds executions inputs "lines of src/" \
        "branches of src/"
} >"$summary"
for t in $targets; do
    bin="$out/cov/tests/fuzz/$t"
    corpus=("$root/tests/fuzz/corpus/$t")
    if [ -d "$out/corpus/$t" ] && [ -n "$(ls -A "$out/corpus/$t")" ]; then
        corpus=("$out/corpus/$t")
    fi
    [ -d "$out/found/$t" ] && [ "$minutes" = 0 ] && corpus+=("$out/found/$t")
    LLVM_PROFILE_FILE="$out/prof/$t.%p.profraw" "$bin" -runs=0 -timeout=30 "${corpus[@]}" \
        >"$out/logs/$t.replay.log" 2>&1 || echo "$t: replay failed, see $out/logs/$t.replay.log" >&2
    llvm-profdata merge -sparse "$out/prof/$t".*.profraw -o "$out/prof/$t.profdata"
    report=$(llvm-cov report "$bin" -instr-profile="$out/prof/$t.profdata" \
        -ignore-filename-regex='(tests/|/usr/)' 2>/dev/null | grep '^TOTAL')
    # TOTAL regions missed % functions missed % lines missed % branches missed %
    lines=$(echo "$report" | awk '{print $10 " of " $8}')
    branches=$(echo "$report" | awk '{print $13 " of " $11}')
    if [ -z "${execs[$t]:-}" ] && [ -f "$out/logs/$t.log" ]; then # an earlier run's figures
        execs[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log" | tail -1)
        secs[$t]=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$out/logs/$t.log" | tail -1)
    fi
    inputs=$(find -L "${corpus[@]}" -type f | wc -l)
    printf '%-11s %8s %12s %8s %16s %16s\n' "$t" "${secs[$t]:--}" "${execs[$t]:--}" "$inputs" \
        "$lines" "$branches" >>"$summary"
    objects+=(-object "$bin")
done
# All targets together: one profile over every binary.
llvm-profdata merge -sparse "$out/prof/"*.profdata -o "$out/prof/all.profdata"
first=${objects[1]}
total=$(llvm-cov report "$first" "${objects[@]:2}" -instr-profile="$out/prof/all.profdata" \
    -ignore-filename-regex='(tests/|/usr/)' 2>/dev/null | grep '^TOTAL')
printf '%-11s %8s %12s %8s %16s %16s\n' all - - - "$(echo "$total" | awk '{print $10 " of " $8}')" \
    "$(echo "$total" | awk '{print $13 " of " $11}')" >>"$summary"
llvm-cov report "$first" "${objects[@]:2}" -instr-profile="$out/prof/all.profdata" \
    -ignore-filename-regex='(tests/|/usr/)' >"$out/coverage-by-file.txt" 2>/dev/null
if [ -n "$(ls -A "$out/artifacts")" ]; then
    echo "crashing inputs in $out/artifacts:" >>"$summary"
    ls "$out/artifacts" >>"$summary"
    status=1
fi
cat "$summary"
echo "per-file coverage: $out/coverage-by-file.txt"
exit $status
