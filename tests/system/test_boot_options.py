"""-kernel, -initrd, -append and -dtb: for the same command line, the device
tree ferry gives the guest has the same /chosen as QEMU's (both dumped with
-machine dumpdtb=FILE), and both refuse the same misuses."""
import os
import subprocess
import tempfile
import unittest

import fdt
import paths

MiB = 1 << 20


def linux_image(size, image_size):
    """A file with a RISC-V Linux Image header (EFI stub "MZ" first)."""
    b = bytearray(size)
    b[0:2] = b"MZ"
    b[8:16] = (0x200000).to_bytes(8, "little")
    b[16:24] = image_size.to_bytes(8, "little")
    b[32:36] = (2).to_bytes(4, "little")
    b[48:56] = (0x5643534952).to_bytes(8, "little")
    b[0x38:0x3C] = b"RSC\x05"
    return bytes(b)


def run(vmm, args, timeout=60):
    return subprocess.run([vmm, "-M", "virt", "-nographic"] + args, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout)


class BootOptions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ferry-boot-options-")
        d = cls.tmp.name
        cls.image = os.path.join(d, "Image")
        with open(cls.image, "wb") as f:
            f.write(linux_image(256 * 1024, 8 * MiB))
        cls.initrd = os.path.join(d, "initrd.img")
        with open(cls.initrd, "wb") as f:
            f.write(bytes((i * 13 + (i >> 8)) & 0xFF for i in range(100000)))
        cls.elf = paths.guest("hello")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dump(self, vmm, args):
        out = os.path.join(self.tmp.name, os.path.basename(vmm) + ".dtb")
        if os.path.exists(out):
            os.unlink(out)
        r = run(vmm, args + ["-machine", "dumpdtb=" + out])
        self.assertEqual(r.returncode, 0, f"{vmm} {args}: {r.stderr.decode()}")
        return fdt.read(out)

    def chosen(self, vmm, args):
        props = dict(self.dump(vmm, args)["/chosen"])
        props.pop("rng-seed", None)  # random in QEMU; ferry's tree is deterministic
        return fdt.show(props)

    def assert_same_chosen(self, args):
        theirs = self.chosen(paths.qemu(), args)
        ours = self.chosen(paths.FERRY, args)
        self.assertEqual(ours, theirs, f"/chosen differs from QEMU's for {args}")
        return ours

    def test_linux_image_initrd_and_append(self):
        c = self.assert_same_chosen(["-m", "512M", "-kernel", self.image, "-initrd", self.initrd,
                                     "-append", "console=ttyS0 rdinit=/init"])
        # The figures of QEMU's riscv_load_initrd: kernel at 0x80200000 + 128 MiB.
        self.assertEqual(c["linux,initrd-start"], "<0x88200000>")
        self.assertEqual(c["linux,initrd-end"], f"<{0x88200000 + 100000:#x}>")
        self.assertEqual(c["bootargs"], "console=ttyS0 rdinit=/init")

    def test_small_ram_puts_the_initrd_halfway(self):
        c = self.assert_same_chosen(["-m", "128M", "-kernel", self.image, "-initrd", self.initrd])
        self.assertEqual(c["linux,initrd-start"], "<0x84200000>")
        self.assertNotIn("bootargs", c)

    def test_append_without_initrd(self):
        c = self.assert_same_chosen(["-m", "1G", "-kernel", self.image, "-append", "quiet"])
        self.assertNotIn("linux,initrd-start", c)

    def test_elf_kernel_without_firmware(self):
        paths.qemu()
        self.assert_same_chosen(["-m", "256M", "-bios", "none", "-kernel", self.elf,
                                 "-initrd", self.initrd, "-append", "x=1"])

    def test_fw_jump_firmware(self):
        self.assert_same_chosen(["-m", "256M", "-bios", paths.firmware(paths.OPENSBI_JUMP),
                                 "-kernel", self.image, "-initrd", self.initrd])

    def test_given_device_tree_gets_chosen_patched(self):
        # QEMU's own tree for 256 MiB, given back with -dtb and -m 512M: both
        # patch bootargs and the initrd into it and leave /memory as the file says.
        given = os.path.join(self.tmp.name, "given.dtb")
        r = run(paths.qemu(), ["-m", "256M", "-machine", "dumpdtb=" + given])
        self.assertEqual(r.returncode, 0, r.stderr)
        args = ["-m", "512M", "-dtb", given, "-kernel", self.image, "-initrd", self.initrd,
                "-append", "root=/dev/vda"]
        c = self.assert_same_chosen(args)
        self.assertEqual(c["bootargs"], "root=/dev/vda")
        ours = self.dump(paths.FERRY, args)
        self.assertEqual(fdt.show(ours["/memory@80000000"])["reg"], "<0x0 0x80000000 0x0 0x10000000>")
        # The nodes QEMU has and ferry doesn't build (pci, flash…) are there:
        # the given tree is used whole.
        self.assertIn("/soc/pci@30000000", ours)

    def test_given_device_tree_without_append_keeps_its_bootargs(self):
        given = os.path.join(self.tmp.name, "given-by-ferry.dtb")
        r = run(paths.FERRY, ["-m", "256M", "-kernel", self.image, "-append", "from the file",
                              "-machine", "dumpdtb=" + given])
        self.assertEqual(r.returncode, 0, r.stderr)
        c = self.assert_same_chosen(["-m", "256M", "-dtb", given, "-kernel", self.image,
                                     "-initrd", self.initrd])
        self.assertEqual(c["bootargs"], "from the file")

    def test_append_and_initrd_need_a_kernel(self):
        for args in (["-append", "console=ttyS0"], ["-initrd", self.initrd]):
            theirs = run(paths.qemu(), args)
            ours = run(paths.FERRY, args)
            self.assertEqual(theirs.returncode, 1)
            self.assertEqual(ours.returncode, 1)
            q = theirs.stderr.decode().strip().split(": ", 1)[1]
            self.assertEqual(ours.stderr.decode().strip(), "ferry: " + q)

    def test_bad_files_are_named(self):
        missing = os.path.join(self.tmp.name, "missing")
        big = os.path.join(self.tmp.name, "big.img")
        with open(big, "wb") as f:
            f.truncate(100 * MiB)
        gz = os.path.join(self.tmp.name, "Image.gz")
        with open(gz, "wb") as f:
            f.write(b"\x1f\x8b\x08\x00" + bytes(4096))
        cases = [
            (["-kernel", missing], "could not load image '" + missing + "': No such file"),
            (["-kernel", self.image, "-initrd", missing],
             "could not load initrd '" + missing + "': No such file"),
            (["-kernel", self.image, "-dtb", missing],
             "could not load device tree '" + missing + "': No such file"),
            (["-kernel", self.image, "-dtb", self.initrd],
             "device tree '" + self.initrd + "': not a valid device tree blob"),
            (["-m", "128M", "-kernel", self.image, "-initrd", big],
             "initrd '" + big + "' does not fit in RAM"),
            (["-kernel", gz], "it is gzip-compressed data"),
        ]
        for args, message in cases:
            r = run(paths.FERRY, args)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(message, r.stderr.decode(), args)


if __name__ == "__main__":
    unittest.main()
