"""Guest time across a migration: the heartbeat guest prints "hb N" where N
counts 1 ms periods of guest time (mtime). Across a migration whose
destination waits a whole second before `cont`, N must keep increasing and
must not jump by that second: the guest clock stops while the VM is stopped
and travels with it, so it neither runs backwards nor sees the downtime."""
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

import paths
from qmp import Qmp


def reader(proc, lines):
    for raw in proc.stdout:
        lines.append(raw.decode(errors="replace").strip())


class GuestTime(unittest.TestCase):
    def test_time_is_continuous_across_a_migration(self):
        tmp = tempfile.mkdtemp(prefix="ferry-time-")
        port = 45000 + os.getpid() % 1000
        common = [paths.FERRY, "-M", "virt", "-m", "256M", "-bios", "none", "-nographic",
                  "-kernel", paths.guest("heartbeat")]
        dst = subprocess.Popen(common + ["-S", "-incoming", f"tcp:127.0.0.1:{port}",
                                         "-qmp", f"unix:{tmp}/dst.sock,server,nowait"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        src = subprocess.Popen(common + ["-qmp", f"unix:{tmp}/src.sock,server,nowait"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        src_lines, dst_lines = [], []
        threads = [threading.Thread(target=reader, args=(src, src_lines), daemon=True),
                   threading.Thread(target=reader, args=(dst, dst_lines), daemon=True)]
        for t in threads:
            t.start()
        try:
            qs, qd = Qmp(f"{tmp}/src.sock"), Qmp(f"{tmp}/dst.sock")
            deadline = time.monotonic() + 60
            while sum(line.startswith("hb ") for line in src_lines) < 100:  # it runs
                self.assertLess(time.monotonic(), deadline, src_lines[-5:])
                time.sleep(0.02)
            self.assertNotIn("error", qs.cmd("migrate", uri=f"tcp:127.0.0.1:{port}"))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = qs.cmd("query-migrate")["return"].get("status")
                if status in ("completed", "failed"):
                    break
                time.sleep(0.02)
            self.assertEqual(status, "completed")
            self.assertEqual(qd.cmd("query-status")["return"]["status"], "paused")
            time.sleep(1.0)  # the VM is stopped: guest time must not move
            qd.cmd("cont")
            deadline = time.monotonic() + 60
            while sum(line.startswith("hb ") for line in dst_lines) < 100:  # it runs on
                self.assertLess(time.monotonic(), deadline, dst_lines[-5:])
                time.sleep(0.02)
            qd.cmd("quit")
            qs.cmd("quit")
            dst.wait(timeout=10)
            src.wait(timeout=10)
        finally:
            for p in (src, dst):
                if p.poll() is None:
                    p.kill()
        for t in threads:
            t.join(timeout=5)
        beats = lambda lines: [int(m.group(1)) for m in map(re.compile(r"^hb (\d+)$").match, lines) if m]
        before, after = beats(src_lines), beats(dst_lines)
        self.assertGreater(len(before), 50, src_lines[-5:])
        self.assertGreater(len(after), 50, dst_lines[-5:])
        sequence = before + after
        for a, b in zip(sequence, sequence[1:]):
            self.assertLess(a, b, "guest time ran backwards or stood still")
        # One second of stopped VM, plus the downtime, must not show up.
        self.assertLess(after[0] - before[-1], 200,
                        f"guest time jumped across the migration: hb {before[-1]} -> {after[0]}")


if __name__ == "__main__":
    unittest.main()
