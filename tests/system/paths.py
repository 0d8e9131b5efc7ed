"""Where the system tests find the ferry binary, the guests and QEMU."""
import os
import shutil

FERRY = os.environ.get("FERRY_BIN", os.path.join(os.getcwd(), "ferry"))
GUESTS = os.environ.get("FERRY_GUESTS_DIR", os.path.join(os.getcwd(), "guests"))
QEMU = shutil.which("qemu-system-riscv64")
OPENSBI_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
OPENSBI_DYNAMIC = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
UBOOT_SMODE = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
UBOOT_MMODE = "/usr/lib/u-boot/qemu-riscv64/u-boot.bin"


def guest(name):
    return os.path.join(GUESTS, name + ".elf")


def diff_guests():
    with open(os.path.join(GUESTS, "guests.txt")) as f:
        return [line.strip() for line in f if line.strip()]
