"""Debian's riscv64 port (trixie): Debian's kernel and a busybox initramfs
(guests/linux/debian-guest.sh) boot to a shell with the command line people use
with QEMU:

    qemu-system-riscv64 -M virt -m 512M -nographic -kernel Image \\
        -initrd initrd.gz -append "console=ttyS0"

The packages come from deb.debian.org the first time (then from the cache,
~/.cache/ferry or $FERRY_CACHE_DIR); without the archive and without a cache
these tests fail, saying so.

The shell runs a floating-point awk computation and `poweroff`, which must end
the VMM with exit status 0, on QEMU and on ferry (Debian's userland is built for
rv64gc, lp64d: it needs the F and D extensions). test_ferry_boots_debian_kernel_to_init
checks the earlier steps on their own: the kernel boots, finds and unpacks the
initrd, and starts /init.
"""
import os
import re
import subprocess
import sys
import time
import unittest

import fdt
import paths
from console import Console

HERE = os.path.dirname(os.path.abspath(__file__))
DEBIAN_GUEST = os.path.join(HERE, "..", "..", "guests", "linux", "debian-guest.sh")
APPEND = "console=ttyS0"
PROMPT = rb"~ # "
MARKER = rb"ferry-initramfs: ready \(kernel [^)]*\)"
PANIC = rb"Kernel panic - not syncing[^\r\n]*"
MODULES = ("virtio_mmio", "virtio_blk", "virtio_net", "net_failover", "failover")
# Only arithmetic: Debian's busybox awk has no libm functions (sqrt, exp…).
AWK = ("awk 'BEGIN { s = 0; for (k = 1; k <= 100000; k++) s += 1 / (k * k); "
       "x = 3; for (i = 0; i < 20; i++) x = (x + 6 * s / x) / 2; "
       "e = 1; f = 1; for (k = 1; k < 20; k++) { f *= k; e += 1 / f }; "
       "printf \"pi~%.12f e~%.12f\\n\", x, e }'")
# What IEEE doubles give (the same sums in Python: sqrt(6 * sum 1/k^2), sum 1/k!).
AWK_RESULT = "pi~3.141583104326 e~2.718281828459"

_guest = None


def debian_guest():
    """(Image, initrd) of the Debian guest, put together once per run."""
    global _guest
    if _guest is None:
        out = os.path.join(paths.GUESTS, "linux")
        try:
            r = subprocess.run([DEBIAN_GUEST, out], capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise AssertionError("guests/linux/debian-guest.sh did not finish in 900 s "
                                 "(downloading Debian's kernel from deb.debian.org?)")
        if r.returncode != 0:
            raise AssertionError(
                "could not put the Debian guest together (guests/linux/debian-guest.sh; the "
                "first run needs Debian's archive, deb.debian.org):\n" + r.stderr[-3000:])
        image, initrd = r.stdout.split()
        _guest = (image, initrd)
    return _guest


def vmm_argv(vmm, image, initrd):
    return [vmm, "-M", "virt", "-m", "512M", "-nographic", "-kernel", image,
            "-initrd", initrd, "-append", APPEND]


class Boot:
    """A console on a booting guest that notes when each step was reached."""

    def __init__(self, argv):
        self.name = os.path.basename(argv[0])
        self.start = time.monotonic()
        self.times = {}
        self.console = Console(argv)

    def step(self, name, pattern, timeout):
        """Waits for `pattern`; a kernel panic first fails with the log's end."""
        c = self.console
        before = c.expect(rb"(?:" + pattern + rb")|(?:" + PANIC + rb")", timeout=timeout)
        seen = c.log[:len(c.log) - len(c.buffer)]
        if re.search(b"(?:" + PANIC + rb")\Z", seen):  # the panic came first
            c.read_rest(timeout=2)
            tail = c.log.decode(errors="replace")[-3500:]
            raise AssertionError(f"{self.name}: kernel panic before '{name}' "
                                 f"({time.monotonic() - self.start:.1f} s):\n{tail}")
        self.times[name] = time.monotonic() - self.start
        return before

    def command(self, text, timeout=120):
        self.console.type_slowly(text + "\n")
        out = self.console.expect(PROMPT, timeout=timeout)
        # Drop the echo (ash wraps it at 80 columns with "\r\r\n").
        lines = out.replace("\r\r\n", "").replace("\r", "").split("\n")
        return "\n".join(lines[1:]).strip()

    def report(self):
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in self.times.items())
        print(f"\n{self.name}: {steps}", file=sys.stderr)

    def close(self):
        self.console.close()


def shell_session(testcase, vmm, boot_timeout):
    """Boots to the shell, checks modules and the awk result, powers off."""
    image, initrd = debian_guest()
    b = Boot(vmm_argv(vmm, image, initrd))
    try:
        b.step("/init", rb"Run /init as init process", boot_timeout)
        b.step("marker", MARKER, 120)
        b.step("shell", PROMPT, 120)
        lsmod = b.command("cat /proc/modules")
        for m in MODULES:
            testcase.assertRegex(lsmod, rf"(?m)^{m} ", f"module {m} not loaded at boot")
        testcase.assertEqual(b.command("echo $((6 * 7))"), "42")
        awk_start = time.monotonic()
        result = b.command(AWK)
        b.times["awk"] = time.monotonic() - awk_start
        testcase.assertEqual(re.findall(r"(?m)^pi~.*$", result), [AWK_RESULT], result)
        b.console.type_slowly("poweroff\n")
        b.console.expect(rb"reboot: Power down", timeout=120)
        rc = b.console.wait(timeout=60)
        b.times["exit"] = time.monotonic() - b.start
        testcase.assertEqual(rc, 0, f"{b.name} did not exit with 0 after poweroff")
        return result
    finally:
        b.report()
        b.close()


class DebianLinux(unittest.TestCase):
    def test_qemu_boots_to_a_shell_and_powers_off(self):
        shell_session(self, paths.qemu(), boot_timeout=120)

    def test_ferry_boots_to_a_shell_and_powers_off(self):
        # Debian's userland is lp64d: busybox and awk run on ferry's F and D.
        paths.qemu()  # the same result is checked on QEMU by the test above
        shell_session(self, paths.FERRY, boot_timeout=300)

    def test_ferry_boots_debian_kernel_to_init(self):
        image, initrd = debian_guest()
        b = Boot(vmm_argv(paths.FERRY, image, initrd))
        try:
            b.step("kernel", rb"Linux version \S+", 60)
            b.step("command line", rb"Kernel command line: " + re.escape(APPEND.encode()), 60)
            b.step("initrd", rb"Freeing initrd memory: \d+K", 300)
            b.step("/init", rb"Run /init as init process", 300)
            log = b.console.log.decode(errors="replace")
            self.assertNotIn("Initramfs unpacking failed", log)
            self.assertIn("Trying to unpack rootfs image as initramfs", log)
        finally:
            b.report()
            b.close()

    def test_chosen_matches_qemu_with_debian_kernel(self):
        image, initrd = debian_guest()
        got = {}
        for vmm in (paths.qemu(), paths.FERRY):
            out = os.path.join(paths.GUESTS, "linux", os.path.basename(vmm) + "-chosen.dtb")
            r = subprocess.run(vmm_argv(vmm, image, initrd) + ["-machine", "dumpdtb=" + out],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            chosen = fdt.read(out)["/chosen"]
            chosen.pop("rng-seed", None)
            got[vmm] = fdt.show(chosen)
        ours, theirs = got[paths.FERRY], got[paths.qemu()]
        self.assertEqual(ours, theirs)
        self.assertEqual(ours["linux,initrd-start"], "<0x88200000>")
        self.assertEqual(ours["bootargs"], APPEND)


if __name__ == "__main__":
    unittest.main()
