"""Several harts: `-smp 4`, one host thread per hart. The `smp` guest makes
all four work at once (AMOs, an lr/sc spinlock, regions read by the
neighbour hart, barriers) and prints the same on ferry as on QEMU; migrated
mid-work it prints the same as without migration; a destination with another
hart count refuses the stream by name; Debian's OpenSBI counts the harts."""
import os
import subprocess
import tempfile
import unittest

import paths
from console import Console
from test_migration import Vmm, free_port, wait_listening, wait_migration

SMP = ["-M", "virt", "-m", "256M", "-smp", "4", "-bios", "none", "-nographic"]


def run(vmm, extra=(), timeout=300):
    p = subprocess.run([vmm] + SMP + ["-kernel", paths.guest("smp")] + list(extra),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout


_reference = {}


def reference():
    if "ferry" not in _reference:
        rc, out = run(paths.FERRY)
        assert rc == 0, f"smp fails on ferry without migration: rc {rc}, {out[-500:]!r}"
        _reference["ferry"] = out
    return _reference["ferry"]


class Smp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-smp-")
        self.vmms = []

    def tearDown(self):
        for v in self.vmms:
            v.kill()

    def test_same_output_as_qemu(self):
        out = reference()
        self.assertIn(b"smp: PASS", out)
        rc, qemu_out = run(paths.qemu())
        self.assertEqual(rc, 0, qemu_out[-500:])
        self.assertEqual(out.decode(errors="replace"), qemu_out.decode(errors="replace"))

    def test_migration_mid_work(self):
        ref = reference()
        uri = f"tcp:127.0.0.1:{free_port()}"
        args = SMP[:] + ["-kernel", paths.guest("smp")]
        dst = Vmm(self.tmp, "dst", args, incoming=uri)
        self.vmms.append(dst)
        wait_listening(uri, dst)
        src = Vmm(self.tmp, "src", args)
        self.vmms.append(src)
        src.expect(rb"pass 8/40\r\n", timeout=120)  # all four harts mid-work
        src.qmp.command("migrate", uri=uri)
        info = wait_migration(src, 120)
        self.assertEqual(info["status"], "completed", info)
        self.assertEqual(src.run_state(), "postmigrate")
        self.assertEqual(src.quit(), 0)
        self.assertEqual(dst.wait(timeout=300), 0, dst.stderr_text()[-1000:])
        combined = src.output() + dst.output()
        self.assertEqual(combined.decode(errors="replace"), ref.decode(errors="replace"))
        self.assertNotEqual(dst.output(), b"")

    def test_destination_with_another_hart_count_refuses(self):
        uri = f"tcp:127.0.0.1:{free_port()}"
        args = SMP[:] + ["-kernel", paths.guest("smp")]
        two = [a if a != "4" else "2" for a in args]
        dst = Vmm(self.tmp, "dst", two, incoming=uri)
        self.vmms.append(dst)
        wait_listening(uri, dst)
        src = Vmm(self.tmp, "src", args)
        self.vmms.append(src)
        src.expect(rb"pass 1/40\r\n", timeout=120)
        src.qmp.command("migrate", uri=uri)
        info = wait_migration(src, 60)
        self.assertEqual(info["status"], "failed", info)
        self.assertNotEqual(dst.wait(timeout=60), 0)
        self.assertIn("CPU count mismatch: the stream has 4 harts, this VM has 2",
                      dst.stderr_text())
        self.assertEqual(dst.output(), b"")
        # The source runs on and finishes its work.
        self.assertEqual(src.wait(timeout=300), 0)
        self.assertIn(b"smp: PASS", src.output())

    def test_monitor_shows_every_hart(self):
        # query-cpus-fast, info cpus, info registers -a and info pic, through QMP's
        # human-monitor-command, on a 4-hart guest at work.
        vm = Vmm(self.tmp, "vm", SMP[:] + ["-kernel", paths.guest("smp")])
        self.vmms.append(vm)
        vm.expect(rb"pass 2/40\r\n", timeout=120)
        cpus = vm.qmp.command("query-cpus-fast")
        self.assertEqual([c["cpu-index"] for c in cpus], [0, 1, 2, 3])
        self.assertEqual(len({c["thread-id"] for c in cpus}), 4, cpus)
        self.assertTrue(all(c["target"] == "riscv64" for c in cpus), cpus)
        hmp = lambda line: vm.qmp.command("human-monitor-command", **{"command-line": line})
        lines = hmp("info cpus").splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertTrue(lines[0].startswith("* CPU #0: pc=0x"), lines)
        regs = hmp("info registers -a")
        for i in range(4):
            self.assertRegex(regs, rf"CPU#{i}\n pc +[0-9a-f]{{16}}\n priv +M\n mhartid +0*{i}\n")
        self.assertEqual(regs.count(" x10/a0 "), 4)
        self.assertEqual(hmp("info registers").count(" mhartid "), 1)
        self.assertIn("Error: info registers: unknown option '-x'", hmp("info registers -x"))
        pic = hmp("info pic")
        self.assertIn("plic: 8 contexts", pic)
        self.assertIn("context  7 (hart 3 S-mode)", pic)
        self.assertEqual(vm.quit(), 0)

    def test_firmware_counts_the_harts_and_boots(self):
        # Debian's OpenSBI (all four harts take part in its boot) and u-boot's prompt.
        for vmm in (paths.FERRY, paths.qemu()):
            c = Console([vmm, "-M", "virt", "-m", "256M", "-smp", "4", "-nographic",
                         "-bios", paths.firmware(paths.OPENSBI_JUMP),
                         "-kernel", paths.firmware(paths.UBOOT_SMODE)])
            try:
                c.expect(rb"Platform HART Count\s*: 4", timeout=60)
                c.expect(rb"Hit any key to stop autoboot", timeout=60)
            finally:
                c.close()


if __name__ == "__main__":
    unittest.main()
