#!/usr/bin/env bash
# Cortex-M4 footprint of zsock: builds each cortex-m4-* preset (Debian's
# gcc-arm-none-eabi + newlib, cmake/toolchain-cortex-m4.cmake) and prints,
# per configuration and per module (src/ directory: port, wire, net, sockets, dns,
# tls), the .text, .rodata, .data and .bss bytes
#   1. of the library's object files (arm-none-eabi-size -A): upper bounds,
#      since every function is in its own section (-ffunction-sections) and
#      the ones a firmware never calls are dropped when it links;
#   2. of the size probe (apps/embedded/size_probe.c: UDP and TCP sockets,
#      connect, send, recv, poll, close) linked with --gc-sections and
#      newlib-nano: what a firmware really pays, from the link map.
# Then a one-line verdict against issue 11's target: `minimal` under 30 KB of
# code (.text + .rodata of zsock in the linked probe). Figures only: the
# script fails when a build fails, never on the figures.
#
# For every preset built with CONFIG_ZSOCK_STATIC_MEMORY (all three), it also
# proves at link time that the library never calls malloc: the linked probes
# must contain no allocator symbol (malloc, free, calloc, realloc, newlib's
# _malloc_r family, memalign...), and the script fails if one does, naming
# the object that pulled it in.
#
# Usage: bench/size_report.sh [-v] [preset...]
#   -v      also list every object file under its module
#   preset  default: cortex-m4-minimal cortex-m4-typical cortex-m4-full
# Environment: ZSOCK_SIZE_WERROR=ON|OFF (default ON: -Werror in the builds);
#   ZSOCK_SIZE_BUILD_PREFIX (default build-cm4-): the build directories are
#   <prefix>minimal, <prefix>typical, <prefix>full.
set -euo pipefail
cd "$(dirname "$0")/.."

verbose=0
if [ "${1:-}" = "-v" ]; then
    verbose=1
    shift
fi
presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
    presets=(cortex-m4-minimal cortex-m4-typical cortex-m4-full)
fi
SIZE=${ZSOCK_CROSS_PREFIX:-arm-none-eabi-}size
if ! command -v "$SIZE" >/dev/null || ! command -v "${ZSOCK_CROSS_PREFIX:-arm-none-eabi-}gcc" >/dev/null; then
    echo "size_report: arm-none-eabi-gcc not found (scripts/install-deps.sh installs it)" >&2
    exit 1
fi

# Object sizes: "module object text rodata data bss" per object file.
object_sizes() {
    local dir=$1/CMakeFiles/zsock.dir/src
    find "$dir" -name '*.obj' | sort | while read -r obj; do
        local rel=${obj#"$dir"/}
        "$SIZE" -A "$obj" | awk -v mod="${rel%%/*}" -v name="${rel%.obj}" '
            $1 ~ /^\.text/ { t += $2 }
            $1 ~ /^\.rodata/ { r += $2 }
            $1 ~ /^\.data/ { d += $2 }
            $1 ~ /^\.bss/ || $1 == "COMMON" { b += $2 }
            END { printf "%s %s %d %d %d %d\n", mod, name, t, r, d, b }'
    done
}

# Linked sizes from a GNU ld map: "module text rodata data bss" per input
# section owner (zsock module, the probe itself, or the C runtime).
linked_sizes() {
    awk '
        /^Linker script and memory map/ { on = 1; next }
        !on { next }
        function hex(s,   i, v) {
            v = 0; s = tolower(substr(s, 3))
            for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
            return v
        }
        function account(sec, size, file,   mod, kind) {
            if (sec ~ /^\.text/) kind = "t"; else if (sec ~ /^\.rodata/) kind = "r";
            else if (sec ~ /^\.data/) kind = "d"; else if (sec ~ /^\.bss/ || sec == "COMMON") kind = "b";
            else return;
            if (match(file, /zsock\.dir\/src\/[a-z_]+\//)) mod = substr(file, RSTART + 14, RLENGTH - 15);
            else if (file ~ /size_probe/) mod = "probe";
            else mod = "libc";
            sz[mod, kind] += hex(size); mods[mod] = 1
        }
        # " .text.f 0xADDR 0xSIZE file" or " .text.f" then "  0xADDR 0xSIZE file"
        /^ [.A-Z]/ && NF >= 4 && $2 ~ /^0x/ && $3 ~ /^0x/ { account($1, $3, $4); pend = ""; next }
        /^ [.A-Z]/ && NF == 1 { pend = $1; next }
        pend != "" && NF >= 3 && $1 ~ /^0x/ && $2 ~ /^0x/ { account(pend, $2, $3); pend = ""; next }
        { pend = "" }
        END { for (m in mods) printf "%s %d %d %d %d\n", m, sz[m, "t"], sz[m, "r"], sz[m, "d"], sz[m, "b"] }
    ' "$1"
}

row() { printf '  %-22s %8s %8s %8s %8s\n' "$@"; }

# The link-time proof of CONFIG_ZSOCK_STATIC_MEMORY: no allocator in the
# linked probes. newlib's stdio links its malloc too (snprintf for
# asprintf's buffers, fopen, fprintf), so this also proves zsock uses none.
ALLOC_SYMS='malloc free calloc realloc reallocarray _malloc_r _free_r _calloc_r _realloc_r
    _reallocarray_r memalign _memalign_r posix_memalign aligned_alloc valloc pvalloc
    strdup _strdup_r strndup _strndup_r'
check_no_allocator() {
    local preset=$1 bdir=$2 elf found why sym
    for elf in "$bdir"/apps/embedded/size_probe.elf "$bdir"/apps/embedded/size_probe_objs.elf; do
        found=$("${ZSOCK_CROSS_PREFIX:-arm-none-eabi-}nm" "$elf" |
            awk -v list="$ALLOC_SYMS" 'BEGIN { n = split(list, a, /[ \n]+/); for (i = 1; i <= n; i++) want[a[i]] = 1 }
                want[$NF] { print $NF }' | sort -u)
        if [ -n "$found" ]; then
            echo "size_report: $preset: CONFIG_ZSOCK_STATIC_MEMORY is on, but ${elf#"$bdir"/} links an allocator:" \
                "$(echo "$found" | tr '\n' ' ')" >&2
            # Who pulled each in: the map's "archive member included" lines.
            for sym in $found; do
                why=$(awk -v s="($sym)" 'index($0, s) { print prev " <- " $0 } { prev = $1 }' "${elf%.elf}.map" |
                    sed 's|[^ ]*/||g' | head -n 3)
                [ -n "$why" ] && echo "  $sym: $why" >&2
            done
            exit 1
        fi
    done
    echo "  static memory: CONFIG_ZSOCK_HEAP_BYTES=$(grep '^CONFIG_ZSOCK_HEAP_BYTES:' "$bdir/CMakeCache.txt" | sed 's/.*=//');" \
        "no allocator linked in size_probe.elf nor size_probe_objs.elf (arm-none-eabi-nm: none of" \
        "$(echo $ALLOC_SYMS | wc -w) malloc/free/calloc/realloc symbols): check passed"
}

verdict=()
for preset in "${presets[@]}"; do
    bdir=${ZSOCK_SIZE_BUILD_PREFIX:-build-cm4-}${preset#cortex-m4-}
    cmake --preset "$preset" -B "$bdir" -DZSOCK_WERROR="${ZSOCK_SIZE_WERROR:-ON}" >/dev/null
    # Relink the probes every time so their link messages are in the log.
    rm -f "$bdir"/apps/embedded/size_probe*.elf
    log=$bdir/size_report_build.log
    if ! cmake --build "$bdir" >"$log" 2>&1; then
        cat "$log" >&2
        echo "size_report: $preset: build failed" >&2
        exit 1
    fi
    printf '\n== %s (%s) ==\n' "$preset" "$bdir"
    # With TLS the probes leave mbedTLS unresolved (a firmware links its own):
    # anything else left unresolved is a real error.
    unresolved=$(grep -o "undefined reference to \`[^']*'" "$log" | sed "s/.*\`//; s/'$//" | sort -u || true)
    others=$(echo "$unresolved" | grep -v -e '^mbedtls_' -e '^$' || true)
    if [ -n "$others" ]; then
        echo "size_report: $preset: unresolved symbols other than mbedTLS's: $(echo "$others" | tr '\n' ' ')" >&2
        exit 1
    fi
    if [ -n "$unresolved" ]; then
        echo "  mbedTLS not linked: $(echo "$unresolved" | wc -l) mbedtls_* functions left unresolved in the probe"
    fi
    if grep -q '^CONFIG_ZSOCK_STATIC_MEMORY:BOOL=ON$' "$bdir/CMakeCache.txt"; then
        check_no_allocator "$preset" "$bdir"
    fi
    grep -E '^(CONFIG_NET_SOCKETS_SOCKOPT_TLS|CONFIG_NET_SOCKETS_ENABLE_DTLS|CONFIG_ZVFS_OPEN_MAX|CONFIG_NET_PBUF_COUNT|CONFIG_NET_PBUF_SIZE|CONFIG_NET_TCP_SNDBUF|CONFIG_NET_TCP_RCVBUF|CONFIG_NET_TCP_CUBIC|CONFIG_ZSOCK_STATIC_MEMORY|CONFIG_ZSOCK_HEAP_BYTES):' \
        "$bdir/CMakeCache.txt" | sed 's/:[A-Z]*=/=/' | tr '\n' ' ' | fold -s -w 100 | sed 's/^/  /'
    echo

    objs=$(object_sizes "$bdir")
    echo "  library objects (upper bounds: before --gc-sections)"
    row module .text .rodata .data .bss
    for mod in port wire net sockets dns tls; do
        sums=$(echo "$objs" | awk -v m="$mod" '$1 == m { t += $3; r += $4; d += $5; b += $6; n++ }
            END { if (n) printf "%d %d %d %d %d\n", t, r, d, b, n }')
        if [ -n "$sums" ]; then
            read -r t r d b n <<<"$sums"
            row "$mod ($n objects)" "$t" "$r" "$d" "$b"
        fi
        if [ "$verbose" = 1 ]; then
            echo "$objs" | awk -v m="$mod" '$1 == m { printf "    %-20s %8d %8d %8d %8d\n", $2, $3, $4, $5, $6 }'
        fi
    done
    echo "$objs" | awk '{ t += $3; r += $4; d += $5; b += $6 } END { printf "%d %d %d %d\n", t, r, d, b }' | {
        read -r t r d b
        row "library total" "$t" "$r" "$d" "$b"
    }

    map=$bdir/apps/embedded/size_probe_objs.map
    linked=$(linked_sizes "$map")
    echo "  size probe linked with --gc-sections (apps/embedded/size_probe.c)"
    row module .text .rodata .data .bss
    for mod in port wire net sockets dns tls probe libc; do
        sums=$(echo "$linked" | awk -v m="$mod" '$1 == m { print }')
        if [ -n "$sums" ]; then
            read -r _ t r d b <<<"$sums"
            row "$mod" "$t" "$r" "$d" "$b"
        fi
    done
    zs=$(echo "$linked" | awk '$1 != "probe" && $1 != "libc" { t += $2; r += $3; d += $4; b += $5 }
        END { printf "%d %d %d %d\n", t, r, d, b }')
    read -r zt zr zd zb <<<"$zs"
    row "zsock total" "$zt" "$zr" "$zd" "$zb"
    echo "  whole probe (arm-none-eabi-size, libzsock.a linked as a firmware does):"
    "$SIZE" "$bdir/apps/embedded/size_probe.elf" | sed 's/^/    /'
    # Run-time RAM: what the stack allocates, from the static arena (in .bss
    # above) with CONFIG_ZSOCK_STATIC_MEMORY, else from malloc.
    ram=$(find "$bdir/apps/embedded" -name ram_probe.c.obj | head -n1)
    osize() { "${ZSOCK_CROSS_PREFIX:-arm-none-eabi-}nm" -S --defined-only "$ram" |
        awk -v n="zsock_ram_$1" '$4 == n { v = 0; s = tolower($2)
            for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
            print v }'; }
    cache() { grep "^$1:" "$bdir/CMakeCache.txt" | sed 's/.*=//'; }
    pcount=$(cache CONFIG_NET_PBUF_COUNT)
    psize=$(cache CONFIG_NET_PBUF_SIZE)
    slot=$((($(osize pbuf_header) + psize + 15) / 16 * 16))
    heap=$(cache CONFIG_ZSOCK_HEAP_BYTES)
    if [ "$(cache CONFIG_ZSOCK_STATIC_MEMORY)" = ON ]; then
        echo "  run-time RAM (from the static arena of $heap bytes; sizes on the target from apps/embedded/ram_probe.c)"
    else
        echo "  run-time RAM (malloc; sizes on the target from apps/embedded/ram_probe.c)"
    fi
    printf '    stack %d + loopback interface %d + packet pool %d x %d = %d bytes\n' \
        "$(osize stack)" "$(osize netif)" "$pcount" "$slot" \
        "$(($(osize stack) + $(osize netif) + pcount * slot))"
    printf '    per TCP connection: pcb %d + send buffer %d + receive buffer %d (allocated when used) + socket object\n' \
        "$(osize tcp_pcb)" "$(cache CONFIG_NET_TCP_SNDBUF)" "$(cache CONFIG_NET_TCP_RCVBUF)"
    printf '    per UDP socket: pcb %d + queued datagrams up to %d + socket object\n' \
        "$(osize udp_pcb)" "$(cache CONFIG_NET_UDP_RCVBUF)"
    code=$((zt + zr))
    line=$(printf '%s: zsock code %d bytes (%.1f KiB: .text %d + .rodata %d), static RAM %d bytes (.data %d + .bss %d)' \
        "$preset" "$code" "$(awk -v c="$code" 'BEGIN { print c / 1024 }')" "$zt" "$zr" "$((zd + zb))" "$zd" "$zb")
    if [ "$(cache CONFIG_ZSOCK_STATIC_MEMORY)" = ON ]; then
        line="$line, the heap arena ($heap) included"
    fi
    if [ "$preset" = cortex-m4-minimal ]; then
        if [ "$code" -lt 30720 ]; then
            line="$line: under the 30 KiB target"
        else
            line="$line: OVER the 30 KiB target"
        fi
    fi
    verdict+=("$line")
done

printf '\n== verdict (issue 11: minimal under 30 KB of code) ==\n'
printf '  %s\n' "${verdict[@]}"
