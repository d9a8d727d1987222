#!/usr/bin/env bash
# Installs the built library into a scratch prefix, then builds and runs a
# program against it twice: with pkg-config, and with find_package(zsock).
set -euo pipefail
build_dir=$1
src_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
for f in include/zsock/socket.h include/zsock/tls_credentials.h include/zsock/posix_names.h \
         include/zsock/config.h include/zephyr/net/socket.h include/zephyr/net/tls_credentials.h \
         lib/libzsock.a lib/pkgconfig/zsock.pc lib/cmake/zsock/zsockConfig.cmake; do
    [ -f "$work/prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$work/echo_pc" "$src_dir/echo_poll.c" \
    $(pkg-config --cflags zsock) $(pkg-config --libs zsock)
"$work/echo_pc"

cmake -S "$src_dir/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/echo_poll"
