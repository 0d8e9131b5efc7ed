"""Real firmware: Debian's OpenSBI + u-boot reach the prompt on ferry, and
u-boot's commands give the same results as on QEMU."""
import re
import unittest

import paths
from console import Console

PROMPT = rb"=> "


def boot_uboot(vmm, bios, kernel=None, ram="256M"):
    argv = [vmm, "-M", "virt", "-m", ram, "-nographic", "-bios", bios]
    if kernel:
        argv += ["-kernel", kernel]
    c = Console(argv)
    c.expect(rb"Hit any key to stop autoboot", timeout=60)
    c.send("x")
    c.expect(PROMPT, timeout=30)
    c.type_slowly("\n")
    c.expect(PROMPT, timeout=30)
    return c


def command(c, text, timeout=60):
    c.type_slowly(text + "\n")
    c.expect(re.escape(text.encode()), timeout=timeout)  # the echo
    return c.expect(PROMPT, timeout=timeout).replace("\r\n", "\n").strip("\n")


class Firmware(unittest.TestCase):
    def session(self, vmm, bios, kernel):
        c = boot_uboot(vmm, bios, kernel)
        try:
            results = {
                "version": command(c, "version"),
                "mw/md": (command(c, "mw.l 0x84000000 0x12345678 8"),
                          command(c, "md.l 0x84000000 8")),
                "cmp": command(c, "cmp.b 0x84000000 0x84000004 4"),
                "bootefi hello": command(c, "bootefi hello"),
                "crc32": command(c, "crc32 0x84000000 0x20"),
            }
            # The self test ends by asking for a key, then resets the board
            # (sifive_test 0x7777): u-boot must come back to its prompt.
            c.type_slowly("bootefi selftest\n")
            selftest = c.expect(rb"Press any key", timeout=180)
            m = re.search(r"Summary: (\d+) failures", selftest)
            self.assertIsNotNone(m, selftest[-2000:])
            c.send("x")
            c.expect(rb"Hit any key to stop autoboot", timeout=60)
            c.send("x")
            c.expect(PROMPT, timeout=30)
            results["selftest failures"] = m.group(1)
            results["selftest tests"] = sorted(set(re.findall(r"Executing '([^']+)'", selftest)))
            c.type_slowly("poweroff\n")
            rc = c.wait(timeout=30)
            results["poweroff exit"] = rc
            return results
        finally:
            c.close()

    def compare(self, bios, kernel=None):
        qemu = paths.qemu()
        bios = paths.firmware(bios)
        kernel = kernel and paths.firmware(kernel)
        ours = self.session(paths.FERRY, bios, kernel)
        theirs = self.session(qemu, bios, kernel)
        self.assertEqual(ours["poweroff exit"], 0)
        self.assertIn("U-Boot 20", ours["version"])
        self.assertIn("12345678", ours["mw/md"][1])
        self.assertIn("Hello, world!", ours["bootefi hello"])
        for key in theirs:
            self.assertEqual(ours[key], theirs[key], f"'{key}' differs from QEMU")

    def test_opensbi_fw_jump_with_smode_uboot(self):
        self.compare(paths.OPENSBI_JUMP, paths.UBOOT_SMODE)

    def test_mmode_uboot_alone(self):
        self.compare(paths.UBOOT_MMODE)

    def test_opensbi_fw_dynamic_default_bios(self):
        # Without -bios, ferry uses Debian's fw_dynamic, as QEMU uses its own.
        paths.firmware(paths.OPENSBI_DYNAMIC)
        c = Console([paths.FERRY, "-M", "virt", "-m", "256M", "-nographic",
                     "-kernel", paths.firmware(paths.UBOOT_SMODE)])
        try:
            c.expect(rb"OpenSBI v", timeout=30)
            c.expect(rb"Hit any key to stop autoboot", timeout=60)
            c.send("x")
            c.expect(PROMPT, timeout=30)
            c.type_slowly("poweroff\n")
            self.assertEqual(c.wait(timeout=30), 0)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
