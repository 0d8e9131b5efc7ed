"""Where the system tests find the ferry binary, the guests and QEMU.

QEMU (Debian's qemu-system-misc) and the firmware (opensbi, u-boot-qemu) are
required, as scripts/install-deps.sh installs them: a test that needs one
fails when it is missing (qemu(), firmware()), it is not skipped."""
import os
import shutil

FERRY = os.environ.get("FERRY_BIN", os.path.join(os.getcwd(), "ferry"))
GUESTS = os.environ.get("FERRY_GUESTS_DIR", os.path.join(os.getcwd(), "guests"))
QEMU = shutil.which("qemu-system-riscv64")
OPENSBI_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
OPENSBI_DYNAMIC = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
UBOOT_SMODE = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
UBOOT_MMODE = "/usr/lib/u-boot/qemu-riscv64/u-boot.bin"


INSTALL_HINT = "scripts/install-deps.sh installs what the tests need"


def qemu():
    """qemu-system-riscv64; fails the calling test when it is not installed."""
    if QEMU is None:
        raise AssertionError("qemu-system-riscv64 is required and is not in PATH (Debian package "
                             f"qemu-system-misc; {INSTALL_HINT})")
    return QEMU


def firmware(path):
    """`path` of a firmware image; fails the calling test when it does not exist."""
    if not os.path.exists(path):
        raise AssertionError(f"firmware {path} is required and is missing (Debian packages "
                             f"opensbi and u-boot-qemu; {INSTALL_HINT})")
    return path


def guest(name):
    return os.path.join(GUESTS, name + ".elf")


def diff_guests():
    with open(os.path.join(GUESTS, "guests.txt")) as f:
        return [line.strip() for line in f if line.strip()]


def guest_disks():
    """{name: MiB} for the guests of guests.txt that need a disk (guests-disks.txt)."""
    disks = {}
    path = os.path.join(GUESTS, "guests-disks.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    name, mib = line.split()
                    disks[name] = int(mib)
    return disks


# QEMU's virtio-mmio slots are legacy (version 1) unless told otherwise; ferry's
# are version 2, the interface the guests drive.
QEMU_VIRTIO_MODERN = ["-global", "virtio-mmio.force-legacy=false"]


def disk_args(guest_name, image, fmt="raw", qemu=False):
    """The disk of a guest from guests-disks.txt, as the build's QEMU tests give it:
    virtio-blk in the first slot, serial "ferry-NAME" (with `qemu`, also the
    option that makes QEMU's slots version 2)."""
    return ((QEMU_VIRTIO_MODERN if qemu else []) +
            ["-drive", f"if=none,id=d0,file={image},format={fmt}",
             "-device", f"virtio-blk-device,drive=d0,serial=ferry-{guest_name}"])
