#!/usr/bin/env bash
# Installs the Debian packages zsock needs to build, test and benchmark.
# Run as root (or through sudo); does nothing for packages already present.
set -euo pipefail
pkgs=(cmake ninja-build gcc clang libclang-rt-14-dev llvm make pkg-config libcmocka-dev libmbedtls-dev
      iproute2 iputils-ping tshark python3 nftables curl openssl netcat-openbsd python3-scapy
      liblwip-dev gcc-arm-none-eabi libnewlib-arm-none-eabi dnsmasq-base libreadline-dev doxygen
      qemu-system-arm microsocks)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
