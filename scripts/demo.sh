#!/bin/bash
# Demo: boots guests on ferry the way one boots them on qemu-system-riscv64.
#   1. a bare-metal guest that computes a checksum over 64 MiB of RAM;
#   2. Debian's OpenSBI + u-boot to the u-boot prompt, a few commands typed
#      on the serial console, then poweroff.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
FERRY=build/ferry
echo "=== ferry -M virt -m 256M -bios none -nographic -kernel guests/checksum.elf"
time $FERRY -M virt -m 256M -bios none -nographic -kernel build/guests/checksum.elf </dev/null
echo
echo "=== OpenSBI (fw_jump) + u-boot, commands typed on the serial console"
python3 - "$FERRY" <<'PY'
import sys
sys.path.insert(0, "tests/system")
from console import Console
c = Console([sys.argv[1], "-M", "virt", "-m", "256M", "-nographic",
             "-bios", "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin",
             "-kernel", "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"])
c.expect(rb"Hit any key to stop autoboot", timeout=60)
c.send("x")
c.expect(rb"=> ")
for cmd in ["version", "mw.l 0x84000000 0xcafef00d 4", "md.l 0x84000000 4", "bootefi hello"]:
    c.type_slowly(cmd + "\n")
    out = c.expect(rb"=> ", timeout=60)
    print("=> " + out.replace("\r\n", "\n").strip())
c.type_slowly("poweroff\n")
print("exit code:", c.wait())
PY
