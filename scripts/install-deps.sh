#!/bin/bash
# Installs the Debian 12 packages ferry needs to build, test and run its demo.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config python3
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  libfdt-dev nlohmann-json3-dev zlib1g-dev libslirp-dev
  gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf
  qemu-system-misc opensbi u-boot-qemu
  debian-archive-keyring iproute2
  clang libclang-rt-14-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
