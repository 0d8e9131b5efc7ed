"""Disks: virtio-blk on a raw image, in QEMU's spelling, driven by Debian's
kernel (its virtio_blk module, from the initramfs).

- The guest reads the whole disk (md5sum of /dev/vda equals the host's) and
  writes blocks that the host then finds in the image, on ferry and on QEMU.
- Image locks as QEMU's: a second ferry on the image refuses to start, and so
  do QEMU after ferry and ferry after QEMU.
- Shared storage: source and destination open one image; the guest writes and
  reads back numbered blocks while it is migrated; afterwards every block is
  what the guest wrote, the destination holds the lock and the source none.
- Bad input: a missing image, a raw image given as qcow2.
"""
import hashlib
import os
import re
import subprocess
import tempfile
import time
import unittest

import paths
from test_debian_linux import debian_guest
from test_migration import Vmm, free_port, wait_listening, wait_migration

BLOCK = 4096


def linux_argv(image, initrd, disk, command, extra=(), fmt="raw"):
    return ["-M", "virt", "-m", "512M", "-nographic", "-kernel", image, "-initrd", initrd,
            "-append", f'console=ttyS0 ferry_cmd="{command}"',
            "-drive", f"file={disk},format={fmt},if=none,id=d0",
            "-device", "virtio-blk-device,drive=d0"] + list(extra)


def make_disk(path, size=8 << 20):
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def block_pattern(n):
    """What the guest writes into block n: `yes N | head -c 4096`."""
    line = f"{n}\n".encode()
    return (line * (BLOCK // len(line) + 1))[:BLOCK]


class Disk(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-disk-")
        self.vmms = []
        self.image, self.initrd = debian_guest()

    def tearDown(self):
        for v in self.vmms:
            v.kill()

    def run_guest(self, vmm, disk, command, timeout=300):
        r = subprocess.run([vmm] + linux_argv(self.image, self.initrd, disk, command),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        out = r.stdout.decode(errors="replace").replace("\r", "")
        self.assertEqual(r.returncode, 0, f"{vmm}: {r.stderr[-600:]!r} {out[-800:]}")
        self.assertIn("ferry-initramfs: exit 0", out)
        return out

    def test_guest_reads_and_writes_the_image_as_on_qemu(self):
        command = ("cat /sys/block/vda/size; md5sum /dev/vda; "
                   "yes 7 | head -c 4096 | dd of=/dev/vda bs=4096 seek=7 conv=fsync 2>/dev/null; "
                   "dd if=/dev/vda bs=4096 skip=7 count=1 2>/dev/null | md5sum")
        outputs = {}
        for vmm in (paths.FERRY, paths.qemu()):
            disk = os.path.join(self.tmp, os.path.basename(vmm) + ".img")
            make_disk(disk)
            with open(disk, "rb") as f:
                original = f.read()
            want_md5 = hashlib.md5(original).hexdigest()
            out = self.run_guest(vmm, disk, command)
            self.assertRegex(out, r"(?m)^16384$")  # sectors
            self.assertIn(f"{want_md5}  /dev/vda", out)
            self.assertIn(hashlib.md5(block_pattern(7)).hexdigest() + "  -", out)
            with open(disk, "rb") as f:
                after = f.read()
            self.assertEqual(after[7 * BLOCK:8 * BLOCK], block_pattern(7))
            self.assertEqual(after[:7 * BLOCK], original[:7 * BLOCK])
            self.assertEqual(after[8 * BLOCK:], original[8 * BLOCK:])
            outputs[vmm] = re.findall(r"(?m)^[0-9a-f]{32}  -$", out)
        self.assertEqual(outputs[paths.FERRY], outputs[paths.qemu()])

    def start_holder(self, vmm, disk):
        """A VMM that holds `disk` open (paused at start, -S)."""
        argv = [vmm, "-M", "virt", "-m", "128M", "-nographic", "-S", "-bios", "none",
                "-kernel", paths.guest("hello"), "-drive", f"file={disk},format=raw,if=none,id=d0",
                "-device", "virtio-blk-device,drive=d0"]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        # Started once it holds the write lock (byte 101) on the image.
        inode = os.stat(disk).st_ino
        deadline = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < deadline:
            with open("/proc/locks") as f:  # "… OFDLCK ADVISORY READ -1 fe:00:INODE 100 101"
                ranges = re.findall(rf"OFDLCK .*:{inode} (\d+) (\d+)", f.read())
            if any(int(a) <= 101 <= int(b) for a, b in ranges):
                return p
            time.sleep(0.02)
        p.kill()
        self.fail(f"{vmm} took no write lock on {disk}: {p.communicate()[1]!r}")

    def test_image_locks_as_qemu(self):
        disk = os.path.join(self.tmp, "locked.img")
        make_disk(disk, 1 << 20)
        for first, second in ((paths.FERRY, paths.FERRY), (paths.qemu(), paths.FERRY),
                              (paths.FERRY, paths.qemu())):
            holder = self.start_holder(first, disk)
            try:
                r = subprocess.run([second, "-M", "virt", "-m", "128M", "-nographic", "-bios",
                                    "none", "-kernel", paths.guest("hello"), "-drive",
                                    f"file={disk},format=raw,if=none,id=d0", "-device",
                                    "virtio-blk-device,drive=d0"],
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
                self.assertNotEqual(r.returncode, 0, f"{second} started beside {first}")
                self.assertIn("Failed to get", r.stderr.decode(), r.stderr)
                self.assertIn(disk, r.stderr.decode())
            finally:
                holder.kill()
                holder.communicate()
        # Released when the holder ends: ferry runs the guest now.
        r = subprocess.run([paths.FERRY, "-M", "virt", "-m", "128M", "-nographic", "-bios", "none",
                            "-kernel", paths.guest("hello"), "-drive", f"file={disk},format=raw"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_images_are_refused_by_name(self):
        raw = os.path.join(self.tmp, "plain.img")
        make_disk(raw, 1 << 20)
        cases = [
            (f"file={self.tmp}/missing.img,format=raw", "Could not open"),
            (f"file={raw},format=qcow2", "Image is not in qcow2 format"),
        ]
        for drive, message in cases:
            r = subprocess.run([paths.FERRY, "-M", "virt", "-nographic", "-bios", "none",
                                "-kernel", paths.guest("hello"), "-drive", drive],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 1, drive)
            self.assertIn(message, r.stderr.decode(), drive)
        with open(raw, "rb") as f:
            self.assertEqual(len(f.read()), 1 << 20)

    def test_qcow2_with_a_backing_file(self):
        # An image made by qemu-img over a raw base: the guest reads the base
        # through it and writes a block; qemu-img finds it clean and the same bytes.
        base = os.path.join(self.tmp, "base.raw")
        make_disk(base)
        with open(base, "rb") as f:
            original = f.read()
        top = os.path.join(self.tmp, "top.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", top],
                       check=True)
        command = ("md5sum /dev/vda; yes 7 | head -c 4096 | "
                   "dd of=/dev/vda bs=4096 seek=7 conv=fsync 2>/dev/null")
        r = subprocess.run([paths.FERRY] + linux_argv(self.image, self.initrd, top, command,
                                                       fmt="qcow2"),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-600:])
        self.assertIn(f"{hashlib.md5(original).hexdigest()}  /dev/vda", r.stdout.decode())
        check = subprocess.run(["qemu-img", "check", top], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        out = os.path.join(self.tmp, "converted.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", top, out], check=True)
        with open(out, "rb") as f:
            converted = f.read()
        self.assertEqual(converted, original[:7 * BLOCK] + block_pattern(7) + original[8 * BLOCK:])
        with open(base, "rb") as f:
            self.assertEqual(f.read(), original, "the backing file was written")

    def test_shared_storage_migration_during_disk_io(self):
        disk = os.path.join(self.tmp, "shared.img")
        make_disk(disk, 8 << 20)
        self.shared_storage_migration(disk, "raw")

    def test_shared_storage_migration_of_a_qcow2_disk(self):
        disk = os.path.join(self.tmp, "shared.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "8M"], check=True)
        self.shared_storage_migration(disk, "qcow2")
        check = subprocess.run(["qemu-img", "check", disk], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_block_migration_of_a_raw_disk(self):
        # migrate -b: the destination's own image (zeros, the same size) ends
        # with the source's contents plus everything the guest wrote.
        src_disk = os.path.join(self.tmp, "src.img")
        make_disk(src_disk, 8 << 20)
        with open(src_disk, "rb") as f:
            original = f.read()
        dst_disk = os.path.join(self.tmp, "dst.img")
        with open(dst_disk, "wb") as f:
            f.truncate(8 << 20)
        info = self.shared_storage_migration(src_disk, "raw", dst_disk=dst_disk, blk=True)
        self.assertGreaterEqual(info["disk"]["total"], 8 << 20, info)
        self.assertEqual(info["disk"]["remaining"], 0, info)
        with open(dst_disk, "rb") as f:
            data = f.read()
        self.assertEqual(data[401 * BLOCK:], original[401 * BLOCK:])
        self.assertEqual(data[:BLOCK], original[:BLOCK])

    def test_incremental_block_migration_of_a_qcow2_disk(self):
        # migrate -i: both sides have the backing file; only the top image travels.
        base = os.path.join(self.tmp, "base.raw")
        make_disk(base, 8 << 20)
        with open(base, "rb") as f:
            original = f.read()
        disks = []
        for name in ("src.qcow2", "dst.qcow2"):
            path = os.path.join(self.tmp, name)
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
                            path], check=True)
            disks.append(path)
        info = self.shared_storage_migration(disks[0], "qcow2", dst_disk=disks[1], inc=True)
        self.assertLess(info["disk"]["total"], 8 << 20, "the backing file was sent too")
        for path in disks:
            check = subprocess.run(["qemu-img", "check", path], capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        out = os.path.join(self.tmp, "dst.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", disks[1], out], check=True)
        with open(out, "rb") as f:
            data = f.read()
        self.assertEqual(data[401 * BLOCK:], original[401 * BLOCK:])
        self.assertEqual(data[:BLOCK], original[:BLOCK])

    def test_cancelled_block_migration_leaves_the_source_as_it_was(self):
        src_disk = os.path.join(self.tmp, "src.img")
        make_disk(src_disk, 8 << 20)
        with open(src_disk, "rb") as f:
            before = hashlib.md5(f.read()).hexdigest()
        dst_disk = os.path.join(self.tmp, "dst.img")
        with open(dst_disk, "wb") as f:
            f.truncate(8 << 20)
        command = "echo IDLE; sleep 600"
        uri = f"tcp:127.0.0.1:{free_port()}"
        dst = Vmm(self.tmp, "dst", linux_argv(self.image, self.initrd, dst_disk, command),
                  incoming=uri)
        self.vmms.append(dst)
        wait_listening(uri, dst)
        src = Vmm(self.tmp, "src", linux_argv(self.image, self.initrd, src_disk, command))
        self.vmms.append(src)
        src.expect(rb"(?m)^IDLE", timeout=300)
        src.qmp.command("migrate-set-parameters", **{"max-bandwidth": 2 << 20})
        src.qmp.command("migrate", uri=uri, blk=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = src.qmp.command("query-migrate")
            if info.get("disk", {}).get("transferred", 0) > 0:
                break
            time.sleep(0.1)
        self.assertGreater(info.get("disk", {}).get("transferred", 0), 0, info)
        src.qmp.command("migrate_cancel")
        info = wait_migration(src, 60)
        self.assertEqual(info["status"], "cancelled", info)
        self.assertEqual(src.run_state(), "running")
        self.assertNotEqual(dst.wait(timeout=60), 0)
        self.assertIn(f"'{dst_disk}' holds an incomplete copy", dst.stderr_text())
        self.assertEqual(src.quit(), 0)
        with open(src_disk, "rb") as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(), before)

    def test_two_disks_one_shared_one_copied(self):
        # migrate -b copies the writable disk; the read-only one stays shared
        # (both sides open the same file), as QEMU does.
        shared = os.path.join(self.tmp, "shared-ro.img")
        make_disk(shared, 4 << 20)
        copied = {side: os.path.join(self.tmp, f"{side}-rw.img") for side in ("src", "dst")}
        make_disk(copied["src"], 8 << 20)
        with open(copied["dst"], "wb") as f:
            f.truncate(8 << 20)
        with open(shared, "rb") as f:
            shared_data = f.read()
        with open(copied["src"], "rb") as f:
            copied_data = f.read()
        command = ("for d in /sys/block/vd*; do echo DISK $(cat $d/size) $(cat $d/ro); done; "
                   "for d in /dev/vd*; do [ $(cat /sys/block/${d#/dev/}/ro) = 0 ] && "
                   "yes 5 | head -c 4096 | dd of=$d bs=4096 seek=5 conv=fsync 2>/dev/null; done; "
                   "echo HALFWAY; sleep 8; md5sum /dev/vd*")

        def argv(side):
            return ["-M", "virt", "-m", "512M", "-nographic", "-kernel", self.image,
                    "-initrd", self.initrd, "-append", f'console=ttyS0 ferry_cmd="{command}"',
                    "-drive", f"file={shared},format=raw,readonly=on",
                    "-drive", f"file={copied[side]},format=raw"]
        uri = f"tcp:127.0.0.1:{free_port()}"
        dst = Vmm(self.tmp, "dst", argv("dst"), incoming=uri)
        self.vmms.append(dst)
        wait_listening(uri, dst)
        src = Vmm(self.tmp, "src", argv("src"))
        self.vmms.append(src)
        src.expect(rb"(?m)^HALFWAY", timeout=300)
        src.qmp.command("migrate", uri=uri, blk=True)
        info = wait_migration(src, 120)
        self.assertEqual(info["status"], "completed", info)
        self.assertEqual(info["disk"]["total"], 8 << 20, info)  # the writable disk only
        self.assertEqual(src.quit(), 0)
        self.assertEqual(dst.wait(timeout=300), 0, dst.stderr_text()[-800:])
        out = (src.output() + dst.output()).decode(errors="replace")
        self.assertIn("DISK 8192 1", out)
        self.assertIn("DISK 16384 0", out)
        written = copied_data[:5 * BLOCK] + block_pattern(5) + copied_data[6 * BLOCK:]
        self.assertIn(hashlib.md5(shared_data).hexdigest(), dst.output().decode())
        self.assertIn(hashlib.md5(written).hexdigest(), dst.output().decode())
        with open(copied["dst"], "rb") as f:
            self.assertEqual(f.read(), written)

    def shared_storage_migration(self, disk, fmt, dst_disk=None, blk=False, inc=False):
        """Migrates a guest that writes, reads back and checks numbered blocks
        1..400 of its disk; with dst_disk, the destination has its own image and
        the disk is copied (blk: all of it, inc: the top image). The markers are
        looked for at the start of a line: the kernel echoes its command line,
        ferry_cmd and its `echo HALFWAY` included, while it boots."""
        blocks = 400
        # Write block n, read it back and check it, for n = 1..blocks; then sum all.
        command = (f"n=1; while [ $n -le {blocks} ]; do yes $n | head -c 4096 > /tmp/b; "
                   f"dd if=/tmp/b of=/dev/vda bs=4096 seek=$n conv=fsync 2>/dev/null; "
                   f"dd if=/dev/vda bs=4096 skip=$n count=1 2>/dev/null | cmp -s - /tmp/b "
                   f"|| echo MISMATCH $n; [ $n -eq 40 ] && echo HALFWAY; n=$((n+1)); done; "
                   f"dd if=/dev/vda bs=4096 skip=1 count={blocks} 2>/dev/null | md5sum")
        args = linux_argv(self.image, self.initrd, disk, command, fmt=fmt)
        uri = f"tcp:127.0.0.1:{free_port()}"
        dst_args = linux_argv(self.image, self.initrd, dst_disk or disk, command, fmt=fmt)
        dst = Vmm(self.tmp, "dst", dst_args, incoming=uri)
        self.vmms.append(dst)
        wait_listening(uri, dst)
        src = Vmm(self.tmp, "src", args)
        self.vmms.append(src)
        src.expect(rb"(?m)^HALFWAY", timeout=300)
        extra = {"blk": True} if blk else {"inc": True} if inc else {}
        src.qmp.command("migrate", uri=uri, **extra)
        info = wait_migration(src, 120)
        self.assertEqual(info["status"], "completed", info)
        self.assertEqual(src.run_state(), "postmigrate")
        self.assertEqual("disk" in info, bool(dst_disk), info)
        disk = dst_disk or disk
        # The destination holds the image now: another writer is refused.
        r = subprocess.run([paths.FERRY, "-M", "virt", "-nographic", "-bios", "none", "-kernel",
                            paths.guest("hello"), "-drive", f"file={disk},format={fmt}"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Failed to get", r.stderr.decode())
        self.assertNotIn(b"ferry-initramfs: exit", src.output(), "the work ended before the migration")
        self.assertEqual(src.quit(), 0)
        self.assertEqual(dst.wait(timeout=300), 0, dst.stderr_text()[-800:])
        out = (src.output() + dst.output()).decode(errors="replace").replace("\r", "")
        self.assertIsNone(re.search(r"(?m)^MISMATCH \d+", out), out[-2000:])
        self.assertIn("ferry-initramfs: exit 0", out)
        want = hashlib.md5(b"".join(block_pattern(n) for n in range(1, blocks + 1))).hexdigest()
        self.assertIn(f"{want}  -", out)
        if fmt == "qcow2":
            raw = disk + ".raw"
            subprocess.run(["qemu-img", "convert", "-O", "raw", disk, raw], check=True)
            disk = raw
        with open(disk, "rb") as f:
            data = f.read()
        for n in range(1, blocks + 1):
            self.assertEqual(data[n * BLOCK:(n + 1) * BLOCK], block_pattern(n), f"block {n}")
        return info


if __name__ == "__main__":
    unittest.main()
