#!/usr/bin/env bash
# CONFIG_ZSOCK_STATIC_MEMORY on the host: no object of libzsock.a references
# an allocator of the C library (nm -u), so every allocation zsock makes goes
# through z_malloc() to its static arena. The cross builds prove more, at
# link time, with newlib (bench/size_report.sh): there no allocator is
# linked at all. Here glibc may still allocate inside functions the posix
# port and the hosted features call (pthread_create's thread, stdio's FILE
# for the pcap capture and the diagnostics on stderr); those are the C
# library's own, not references of zsock's.
#
# Usage: check_no_malloc.sh <libzsock.a> [nm]
set -euo pipefail
lib=$1
NM=${2:-nm}
forbidden='malloc calloc realloc free reallocarray aligned_alloc memalign posix_memalign
    valloc pvalloc strdup strndup asprintf vasprintf getline getdelim open_memstream
    __libc_malloc __libc_calloc __libc_realloc __libc_free _malloc_r _free_r _calloc_r _realloc_r'
if [ ! -f "$lib" ]; then
    echo "check_no_malloc: $lib: no such file" >&2
    exit 1
fi
objects=$("$NM" -A "$lib" 2>/dev/null | awk -F: '{ print $2 }' | sort -u | wc -l)
bad=$("$NM" -u -A "$lib" | awk -v list="$forbidden" '
    BEGIN { n = split(list, a, /[ \n]+/); for (i = 1; i <= n; i++) want[a[i]] = 1 }
    want[$NF] { sub(/:$/, "", $1); print "  " $1 " references " $NF }')
if [ -n "$bad" ]; then
    echo "check_no_malloc: CONFIG_ZSOCK_STATIC_MEMORY is on, but objects of $lib call the C library's allocator:"
    echo "$bad"
    exit 1
fi
echo "check_no_malloc: $objects objects of $(basename "$lib"), none references malloc, calloc, realloc, free or another allocator: passed"
