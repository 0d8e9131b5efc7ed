"""Debian's kernel on four harts: four awk workers compute at once and print
what IEEE doubles give (the same sums in Python), on ferry as on QEMU; migrated
mid-computation over tcp, and migrated while the kernel boots, the guest ends
with the same lines as without migration.

The initramfs runs the work from the kernel command line (ferry_cmd=..., see
guests/linux/make-initramfs.py) and powers off, so nothing is typed.
"""
import re
import subprocess
import tempfile
import unittest

import paths
from test_debian_linux import debian_guest
from test_migration import Vmm, free_port, wait_listening, wait_migration

HARTS = 4


def work_command(terms):
    """Four workers, one a hart. Worker I prints "-I" when it starts and then
    "I S", S = sum of 1/(k*k+I) (%.15g)."""
    # No double quotes (so no awk strings): the command sits in ferry_cmd="...".
    return (f"grep -c ^processor /proc/cpuinfo; for i in 1 2 3 4; do "
            f"awk -v OFMT=%.15g -v i=$i 'BEGIN {{ print -i; s = 0; "
            f"for (k = 1; k <= {terms}; k++) s += 1 / (k * k + i); print i, s }}' & done; wait")


def argv(image, initrd, terms):
    return ["-M", "virt", "-m", "512M", "-smp", str(HARTS), "-nographic", "-kernel", image,
            "-initrd", initrd, "-append", f'console=ttyS0 ferry_cmd="{work_command(terms)}"']


def sums_in(output):
    """The workers' results, [(I, S)] sorted by I."""
    text = output.decode(errors="replace").replace("\r", "")
    return sorted((int(i), s) for i, s in re.findall(r"(?m)^([1-4]) (\S+)$", text))


class DebianSmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-debian-smp-")
        self.vmms = []
        self.image, self.initrd = debian_guest()

    def tearDown(self):
        for v in self.vmms:
            v.kill()

    def start(self, name, terms, **kw):
        v = Vmm(self.tmp, name, argv(self.image, self.initrd, terms), **kw)
        self.vmms.append(v)
        return v

    def check_result(self, output, terms):
        text = output.decode(errors="replace")
        self.assertRegex(text, r"(?m)^4\r?$", "the guest does not see four processors")
        self.assertIn("ferry-initramfs: exit 0", text)
        self.assertNotIn("Kernel panic", text)
        self.assertNotIn("rcu_sched self-detected stall", text)
        want = []
        for i in range(1, HARTS + 1):
            s = 0.0
            for k in range(1, terms + 1):  # the same double operations as awk's
                s += 1 / (k * k + i)
            want.append((i, "%.15g" % s))
        self.assertEqual(sums_in(output), want)

    def test_four_harts_compute_as_on_qemu(self):
        terms = 100000
        outputs = {}
        for vmm in (paths.FERRY, paths.qemu()):
            r = subprocess.run([vmm] + argv(self.image, self.initrd, terms),
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
            self.assertEqual(r.returncode, 0, f"{vmm}: {r.stderr[-800:]!r}")
            self.check_result(r.stdout, terms)
            outputs[vmm] = sums_in(r.stdout)
        self.assertEqual(outputs[paths.FERRY], outputs[paths.qemu()])

    def migrate(self, src, dst, uri):
        src.qmp.command("migrate", uri=uri)
        info = wait_migration(src, 180)
        self.assertEqual(info["status"], "completed", info)
        self.assertEqual(src.run_state(), "postmigrate")
        self.assertEqual(src.quit(), 0)
        self.assertEqual(dst.wait(timeout=300), 0, dst.stderr_text()[-1000:])
        self.assertNotEqual(dst.output(), b"")
        return src.output() + dst.output()

    def test_migration_mid_computation(self):
        terms = 600000
        uri = f"tcp:127.0.0.1:{free_port()}"
        dst = self.start("dst", terms, incoming=uri)
        wait_listening(uri, dst)
        src = self.start("src", terms)
        for _ in range(HARTS):  # every worker has started
            src.expect(rb"(?m)^-[1-4]\r?$", timeout=300)
        combined = self.migrate(src, dst, uri)
        self.assertEqual(sums_in(src.output()), [], "the work ended before the migration")
        self.check_result(combined, terms)

    def test_migration_during_boot(self):
        terms = 20000
        uri = f"tcp:127.0.0.1:{free_port()}"
        dst = self.start("dst", terms, incoming=uri)
        wait_listening(uri, dst)
        src = self.start("src", terms)
        src.expect(rb"smp: Brought up 1 node, 4 CPUs", timeout=300)
        combined = self.migrate(src, dst, uri)
        self.assertNotIn(b"Run /init as init process", src.output(),
                         "the kernel finished booting before the migration")
        self.check_result(combined, terms)


if __name__ == "__main__":
    unittest.main()
