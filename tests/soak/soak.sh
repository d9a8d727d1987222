#!/usr/bin/env bash
# Soak test (not in CI): hours of mixed TCP, UDP and TLS traffic with
# connection churn on zsock's loopback, memory and descriptors sampled every
# minute (tests/soak/soak.c). Fails if a transfer is wrong or, at the end,
# descriptors or packet buffers did not come back to their level after the
# warm-up, or RSS or heap grew past a margin.
#   DURATION  seconds to run (default 3600)
#   SAMPLE    seconds between samples (default 60)
#   WARMUP    seconds before the baseline (default 120)
#   BUILD     build directory (default build-soak; configured here if absent)
# Runs on one core at low priority: nice -n 10, one process.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-3600}
SAMPLE=${SAMPLE:-60}
WARMUP=${WARMUP:-120}
BUILD=${BUILD:-build-soak}
if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZSOCK_BUILD_TESTS=ON \
        -DZSOCK_BUILD_BENCH=OFF -DZSOCK_BUILD_APPS=OFF >/dev/null
fi
ninja -C "$BUILD" -j2 soak >/dev/null
echo "soak: ${DURATION}s, a sample every ${SAMPLE}s, baseline after ${WARMUP}s"
exec nice -n 10 taskset -c 0 "$BUILD/tests/soak/soak" "$DURATION" "$SAMPLE" "$WARMUP"
