"""Differential test: every deterministic guest prints the same serial output
and exits with the same code on ferry and on qemu-system-riscv64."""
import subprocess
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
        self.assertGreaterEqual(len(names), 8)
        for name in names:
            with self.subTest(guest=name):
                common = ["-M", "virt", "-m", "256M", "-bios", "none", "-nographic",
                          "-kernel", paths.guest(name)]
                rc_f, out_f, err_f = run([paths.FERRY] + common)
                rc_q, out_q, _ = run([qemu] + common)
                self.assertEqual(rc_q, 0, f"{name} fails on QEMU itself")
                self.assertEqual(out_f.decode(errors="replace"),
                                 out_q.decode(errors="replace"),
                                 f"{name}: serial output differs (ferry stderr: {err_f!r})")
                self.assertEqual(rc_f, rc_q, f"{name}: exit code differs")

    def test_raw_binary_loads_at_ram_base(self):
        rc, out, err = run([paths.FERRY, "-M", "virt", "-m", "128M", "-bios", "none",
                            "-nographic", "-kernel", paths.GUESTS + "/hello.bin"])
        self.assertEqual(rc, 0, err)
        self.assertIn(b"hello: PASS", out)


if __name__ == "__main__":
    unittest.main()
