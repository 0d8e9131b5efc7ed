"""The blk guest (guests/blk.c): a bare-metal virtio-blk driver (virtio-mmio
version 2, completions by PLIC interrupt) that writes deterministic data in
rounds, reads it back, checks it and flushes, printing a checksum per round.

- On ferry and on QEMU, each on a fresh copy of the same image: the same serial
  output, and the two images end the same (raw and qcow2).
- Migrated in the middle of its rounds with shared storage (source and
  destination open one image): the source's output followed by the
  destination's equals the run without migration, and the image ends as the
  reference run's image.
- The same with block migration (`"blk": true`): the destination has its own
  image of zeros, which ends as the reference image.
- qcow2 images are made by qemu-img and must pass `qemu-img check` afterwards.

Run from tests/system with FERRY_BIN and FERRY_GUESTS_DIR set.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import paths
from test_migration import Vmm, free_port, wait_listening, wait_migration

GUEST = "blk"
DISK_MB = 16
# Migrate once this line is out (of 40 rounds by default).
MIGRATE_AFTER = rb"blk: round 10 checksum [0-9a-f]{8}\r?\n"


def board(disk, fmt, qemu=False):
    return (["-M", "virt", "-m", "256M", "-bios", "none", "-nographic",
             "-kernel", paths.guest(GUEST)] + paths.disk_args(GUEST, disk, fmt, qemu))


def make_image(path, fmt):
    if fmt == "raw":
        with open(path, "wb") as f:
            f.truncate(DISK_MB << 20)
    else:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, f"{DISK_MB}M"],
                       check=True)


def qemu_img_check(testcase, path):
    r = subprocess.run(["qemu-img", "check", path], capture_output=True, text=True)
    testcase.assertEqual(r.returncode, 0, f"qemu-img check {path}: {r.stdout}{r.stderr}")


def image_digest(path, fmt):
    """SHA-256 of the disk's contents (a qcow2 image read through qemu-img)."""
    if fmt == "qcow2":
        raw = path + ".raw"
        subprocess.run(["qemu-img", "convert", "-O", "raw", path, raw], check=True)
        path = raw
    h = hashlib.sha256()
    with open(path, "rb") as f:
        data = f.read()
    h.update(data)
    if fmt == "qcow2":
        os.unlink(path)
    return h.hexdigest(), data.count(0) != len(data)


_references = {}


class BlkGuest(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-blk-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_plain(self, vmm, fmt, name):
        """Runs the guest to its end on a fresh image; (output, image digest)."""
        disk = os.path.join(self.tmp, f"{name}.{fmt}")
        make_image(disk, fmt)
        r = subprocess.run([vmm] + board(disk, fmt, qemu=vmm != paths.FERRY), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=300)
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, f"{vmm}: {r.stderr[-800:]!r} {out[-1500:]}")
        self.assertIn("blk: PASS", out)
        rounds = [int(n) for n in re.findall(r"(?m)^blk: round (\d+) checksum [0-9a-f]{8}\r$", out)]
        self.assertGreater(len(rounds), 12, "too few rounds to migrate in the middle")
        self.assertEqual(rounds, list(range(1, len(rounds) + 1)), out)
        if fmt == "qcow2":
            qemu_img_check(self, disk)
        digest, written = image_digest(disk, fmt)
        self.assertTrue(written, "the guest wrote nothing into the image")
        return out, digest

    def reference(self, fmt):
        """ferry's run without migration (once per format)."""
        if fmt not in _references:
            _references[fmt] = self.run_plain(paths.FERRY, fmt, "reference")
        return _references[fmt]

    # --- ferry and QEMU ------------------------------------------------------------------

    def same_as_qemu(self, fmt):
        out_f, img_f = self.reference(fmt)
        out_q, img_q = self.run_plain(paths.qemu(), fmt, "qemu")
        self.assertEqual(out_f, out_q)
        self.assertEqual(img_f, img_q, "the images differ")
        self.assertIn("blk: id 'ferry-blk'", out_f)
        self.assertIn("blk: reads beyond the capacity: IOERR", out_f)

    def test_raw_same_output_and_image_as_qemu(self):
        self.same_as_qemu("raw")

    def test_qcow2_same_output_and_image_as_qemu(self):
        self.same_as_qemu("qcow2")

    def test_two_runs_write_the_same_image(self):
        out1, img1 = self.reference("raw")
        out2, img2 = self.run_plain(paths.FERRY, "raw", "again")
        self.assertEqual(out1, out2)
        self.assertEqual(img1, img2)

    # --- migration in the middle of the disk I/O -------------------------------------------

    def migrate_mid_run(self, fmt, blk):
        ref_out, ref_img = self.reference(fmt)
        src_disk = os.path.join(self.tmp, f"src.{fmt}")
        make_image(src_disk, fmt)
        dst_disk = src_disk
        if blk:
            dst_disk = os.path.join(self.tmp, f"dst.{fmt}")
            make_image(dst_disk, fmt)
        uri = f"tcp:127.0.0.1:{free_port()}"
        dst = Vmm(self.tmp, "dst", board(dst_disk, fmt), incoming=uri)
        self.addCleanup(dst.kill)
        wait_listening(uri, dst)
        src = Vmm(self.tmp, "src", board(src_disk, fmt))
        self.addCleanup(src.kill)
        src.expect(MIGRATE_AFTER, timeout=120)
        src.qmp.command("migrate", uri=uri, **({"blk": True} if blk else {}))
        info = wait_migration(src, 120)
        self.assertEqual(info.get("status"), "completed", info)
        self.assertEqual(src.run_state(), "postmigrate")
        self.assertEqual("disk" in info, blk, info)
        if blk:
            self.assertEqual(info["disk"]["remaining"], 0, info)
            self.assertGreater(info["disk"]["transferred"], 0, info)
        self.assertNotIn(b"blk: PASS", src.output(), "the guest ended before the migration")
        self.assertEqual(src.quit(), 0, src.stderr_text()[-800:])
        rc = dst.wait(timeout=180)
        combined = (src.output() + dst.output()).decode(errors="replace")
        self.assertEqual(rc, 0, f"dst: {dst.stderr_text()[-1500:]}; output: {combined[-1500:]}")
        last_round = re.findall(r"blk: round \d+ checksum [0-9a-f]{8}\r\n", ref_out)[-1]
        self.assertTrue(dst.output().decode(errors="replace").endswith(last_round + "blk: PASS\r\n"),
                        "the destination did not run the last round")
        self.assertEqual(combined, ref_out)
        if fmt == "qcow2":
            qemu_img_check(self, dst_disk)
        digest, _ = image_digest(dst_disk, fmt)
        self.assertEqual(digest, ref_img, "the image after the migration is not the reference's")

    def test_shared_storage_migration_raw(self):
        self.migrate_mid_run("raw", blk=False)

    def test_shared_storage_migration_qcow2(self):
        self.migrate_mid_run("qcow2", blk=False)

    def test_block_migration_raw(self):
        self.migrate_mid_run("raw", blk=True)

    def test_block_migration_qcow2(self):
        self.migrate_mid_run("qcow2", blk=True)


if __name__ == "__main__":
    unittest.main()
