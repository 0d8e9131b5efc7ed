"""CPU extensions QEMU 7.2 does not have, so they can't be compared with it:
Zicbom and Zicboz. The self-checking guest test-cbo must pass on ferry."""
import subprocess
import unittest

import paths


class CacheBlockOperations(unittest.TestCase):
    def test_cbo_guest_passes(self):
        p = subprocess.run([paths.FERRY, "-M", "virt", "-m", "128M", "-bios", "none",
                            "-nographic", "-kernel", paths.guest("test-cbo")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, out + p.stderr.decode(errors="replace"))
        self.assertIn("test-cbo: PASS", out)
        self.assertNotIn("not ok", out)


if __name__ == "__main__":
    unittest.main()
