"""Differential test: every deterministic guest prints the same serial output
and exits with the same code on ferry and on qemu-system-riscv64. A guest that
needs a disk (guests-disks.txt) gets a fresh raw image of zeros on each side,
and the two images must end the same."""
import os
import shutil
import subprocess
import tempfile
import unittest

import paths


def run(argv, timeout=300):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class DiffGuests(unittest.TestCase):
    def test_guests_match_qemu(self):
        qemu = paths.qemu()
        names = paths.diff_guests()
        disks = paths.guest_disks()
        self.assertGreaterEqual(len(names), 8)
        tmp = tempfile.mkdtemp(prefix="ferry-diff-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        for name in names:
            with self.subTest(guest=name):
                common = ["-M", "virt", "-m", "256M", "-bios", "none", "-nographic",
                          "-kernel", paths.guest(name)]
                images = {}
                for side in ("ferry", "qemu"):
                    images[side] = []
                    if name in disks:
                        image = os.path.join(tmp, f"{name}-{side}.img")
                        with open(image, "wb") as f:
                            f.truncate(disks[name] << 20)
                        images[side] = paths.disk_args(name, image, qemu=side == "qemu")
                rc_f, out_f, err_f = run([paths.FERRY] + common + images["ferry"])
                rc_q, out_q, _ = run([qemu] + common + images["qemu"])
                self.assertEqual(rc_q, 0, f"{name} fails on QEMU itself")
                self.assertEqual(out_f.decode(errors="replace"),
                                 out_q.decode(errors="replace"),
                                 f"{name}: serial output differs (ferry stderr: {err_f!r})")
                self.assertEqual(rc_f, rc_q, f"{name}: exit code differs")
                if name in disks:
                    with open(os.path.join(tmp, f"{name}-ferry.img"), "rb") as f:
                        ferry_image = f.read()
                    with open(os.path.join(tmp, f"{name}-qemu.img"), "rb") as f:
                        self.assertTrue(f.read() == ferry_image, f"{name}: the disks differ")

    def test_raw_binary_loads_at_ram_base(self):
        rc, out, err = run([paths.FERRY, "-M", "virt", "-m", "128M", "-bios", "none",
                            "-nographic", "-kernel", paths.GUESTS + "/hello.bin"])
        self.assertEqual(rc, 0, err)
        self.assertIn(b"hello: PASS", out)


if __name__ == "__main__":
    unittest.main()
