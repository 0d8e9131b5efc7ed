"""ext4 on a qcow2 disk under Debian's kernel while the guest is migrated.

The host makes an ext4 file system (mkfs.ext4 on a raw file, then qemu-img
convert to qcow2). The guest mounts /dev/vda, writes numbered files with known
contents in a loop, each followed by sync, drops its page cache and compares
the file with what it wrote; the test migrates it in the middle of the loop:

- with shared storage (both sides open the same qcow2 image);
- with block migration ("blk": true) to the destination's own empty qcow2
  image of the same size.

After the loop (on the destination) the guest drops its caches again, prints
the md5 of every file, unmounts and powers off. The test then wants: no
MISMATCH from the guest, its md5s equal to the ones Python computes,
`qemu-img check` clean on every image, `e2fsck -fn` clean on the final image,
and every file's bytes on the final image (read by debugfs) right.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from test_debian_linux import debian_guest
from test_migration import Vmm, free_port, wait_listening, wait_migration

FILES = 60
HALFWAY = 10
DISK_SIZE = 64 << 20
MKFS = shutil.which("mkfs.ext4") or "/usr/sbin/mkfs.ext4"
DEBUGFS = shutil.which("debugfs") or "/usr/sbin/debugfs"
E2FSCK = shutil.which("e2fsck") or "/usr/sbin/e2fsck"


def file_size(n):
    return 4096 * (n * 37 % 64 + 1)


def file_data(n):
    """What the guest writes into /mnt/fN: `yes fileN | head -c SIZE`."""
    line = f"file{n}\n".encode()
    size = file_size(n)
    return (line * (size // len(line) + 1))[:size]


# No double quotes: the kernel command line quotes ferry_cmd with them.
COMMAND = (
    "dmesg -n 1; grep -qw ext4 /proc/filesystems && echo HAVE-EXT4; mkdir -p /mnt; "
    "mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED; "
    f"n=1; while [ $n -le {FILES} ]; do "
    "yes file$n | head -c $((4096*(n*37%64+1))) > /tmp/b; cp /tmp/b /mnt/f$n; sync; "
    "echo 3 > /proc/sys/vm/drop_caches; cmp -s /mnt/f$n /tmp/b || echo MISMATCH $n; "
    f"[ $n -eq {HALFWAY} ] && echo HALFWAY; n=$((n+1)); done; echo LOOP-DONE; "
    "echo 3 > /proc/sys/vm/drop_caches; "
    f"for n in $(seq {FILES}); do md5sum /mnt/f$n; done; umount /mnt && echo UMOUNTED")


def linux_argv(image, initrd, disk):
    return ["-M", "virt", "-m", "512M", "-nographic", "-kernel", image, "-initrd", initrd,
            "-append", f'console=ttyS0 ferry_cmd="{COMMAND}"',
            "-drive", f"file={disk},format=qcow2,if=none,id=d0",
            "-device", "virtio-blk-device,drive=d0"]


class DiskExt4(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-ext4-")
        self.vmms = []
        self.image, self.initrd = debian_guest()

    def tearDown(self):
        for v in self.vmms:
            v.kill()
        if not os.environ.get("FERRY_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def run_tool(self, *argv):
        r = subprocess.run(list(argv), capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, f"{argv}: {r.stdout}{r.stderr}")
        return r.stdout

    def ext4_qcow2(self):
        raw = os.path.join(self.tmp, "fs.raw")
        with open(raw, "wb") as f:
            f.truncate(DISK_SIZE)
        # Everything initialised now: no lazy init thread writing in the guest.
        self.run_tool(MKFS, "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", raw)
        disk = os.path.join(self.tmp, "src.qcow2")
        self.run_tool("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, disk)
        return disk

    def check_image(self, path):
        r = subprocess.run(["qemu-img", "check", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, f"qemu-img check {path}: {r.stdout}{r.stderr}")

    def migrate_during_file_writes(self, blk):
        src_disk = self.ext4_qcow2()
        dst_disk = src_disk
        if blk:
            dst_disk = os.path.join(self.tmp, "dst.qcow2")
            self.run_tool("qemu-img", "create", "-q", "-f", "qcow2", dst_disk, str(DISK_SIZE))
        uri = f"tcp:127.0.0.1:{free_port()}"
        dst = Vmm(self.tmp, "dst", linux_argv(self.image, self.initrd, dst_disk), incoming=uri)
        self.vmms.append(dst)
        wait_listening(uri, dst)
        src = Vmm(self.tmp, "src", linux_argv(self.image, self.initrd, src_disk))
        self.vmms.append(src)
        src.expect(rb"(?m)^HALFWAY", timeout=300)  # not the command line's echo
        src.qmp.command("migrate", uri=uri, **({"blk": True} if blk else {}))
        info = wait_migration(src, 180)
        self.assertEqual(info["status"], "completed", info)
        self.assertEqual("disk" in info, blk, info)
        self.assertIsNone(re.search(rb"(?m)^LOOP-DONE", src.output()),
                          "the loop ended before the migration")
        self.assertEqual(src.quit(), 0)
        self.assertEqual(dst.wait(timeout=600), 0, dst.stderr_text()[-800:])

        out = (src.output() + dst.output()).decode(errors="replace").replace("\r", "")
        # The kernel echoes the command line: look for whole lines only.
        self.assertRegex(out, r"(?m)^HAVE-EXT4$")
        self.assertNotRegex(out, r"(?m)^MOUNT-FAILED$")
        self.assertIsNone(re.search(r"(?m)^MISMATCH \d+", out), out[-3000:])
        dst_out = dst.output().decode(errors="replace").replace("\r", "")
        self.assertRegex(dst_out, r"(?m)^LOOP-DONE$")
        self.assertRegex(dst_out, r"(?m)^UMOUNTED$")
        self.assertIn("ferry-initramfs: exit 0", dst_out)
        md5s = dict((int(n), h) for h, n in re.findall(r"(?m)^([0-9a-f]{32})  /mnt/f(\d+)$",
                                                         dst_out))
        want = {n: hashlib.md5(file_data(n)).hexdigest() for n in range(1, FILES + 1)}
        self.assertEqual(md5s, want)

        for path in {src_disk, dst_disk}:
            self.check_image(path)
        final = os.path.join(self.tmp, "final.raw")
        self.run_tool("qemu-img", "convert", "-O", "raw", dst_disk, final)
        r = subprocess.run([E2FSCK, "-fn", final], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, f"e2fsck: {r.stdout}{r.stderr}")
        for n in range(1, FILES + 1):
            got = os.path.join(self.tmp, f"f{n}")
            self.run_tool(DEBUGFS, "-R", f"dump /f{n} {got}", final)
            with open(got, "rb") as f:
                self.assertEqual(f.read(), file_data(n), f"/f{n} on the final image")

    def test_shared_storage_migration_of_ext4_on_qcow2(self):
        self.migrate_during_file_writes(blk=False)

    def test_block_migration_of_ext4_on_qcow2(self):
        self.migrate_during_file_writes(blk=True)


if __name__ == "__main__":
    unittest.main()
