#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, starting
# from its seed corpus in tests/fuzz/corpus/<target>/. New inputs go to
# BUILD_DIR/fuzz/<target>/ (the seeds stay as committed) and crashes to
# BUILD_DIR/fuzz/artifacts/. Exits non-zero if any target fails.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)

mapfile -t targets < <(find "$build" -type f -perm -u+x -name 'fuzz_*' ! -name '*.*' | sort)
if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets in $build (configure with CC=clang and the fuzz directory enabled)" >&2
    exit 1
fi

status=0
for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    work="$build/fuzz/$name"
    artifacts="$build/fuzz/artifacts"
    mkdir -p "$work" "$artifacts"
    seeds=()
    if [ -d "$here/corpus/$name" ]; then
        seeds=("$here/corpus/$name")
    fi
    printf '\n==== %s: %s s ====\n' "$name" "$seconds"
    if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -artifact_prefix="$artifacts/$name-" "$work" "${seeds[@]}"; then
        echo "$name FAILED (inputs in $artifacts)" >&2
        status=1
    fi
done
exit $status
