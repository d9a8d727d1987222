#!/usr/bin/env bash
# Builds the API reference (Doxygen, docs/Doxyfile) from include/zsock into
# OUTDIR/html (default build/docs). Any Doxygen warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/docs}
command -v doxygen >/dev/null || {
    echo "doxygen is not installed (scripts/install-deps.sh)" >&2
    exit 1
}
mkdir -p "$out"
ZSOCK_DOCS_OUT=$out doxygen docs/Doxyfile
echo "API reference: $out/html/index.html"
