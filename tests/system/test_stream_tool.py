"""ferry-stream: a VM saved to a file is described section by section, and
a damaged file is reported with what is wrong."""
import os
import subprocess
import tempfile
import time
import unittest

import paths
from qmp import Qmp

STREAM_TOOL = os.path.join(os.path.dirname(paths.FERRY), "ferry-stream")


class StreamTool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ferry-stream-test-")
        cls.state = os.path.join(cls.tmp, "vm.state")
        sock = os.path.join(cls.tmp, "qmp.sock")
        vm = subprocess.Popen([paths.FERRY, "-M", "virt", "-m", "128M", "-bios", "none",
                               "-nographic", "-kernel", paths.guest("hello"), "-S",
                               "-qmp", f"unix:{sock},server,nowait"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            qmp = Qmp(sock)
            reply = qmp.cmd("migrate", uri=f"exec:cat > {cls.state}")
            assert "error" not in reply, reply
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = qmp.cmd("query-migrate")["return"].get("status")
                if status in ("completed", "failed"):
                    break
                time.sleep(0.05)
            assert status == "completed", status
            qmp.cmd("quit")
            qmp.close()
        finally:
            vm.wait(timeout=10)

    def run_tool(self, path):
        return subprocess.run([STREAM_TOOL, path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=60)

    def test_describes_every_section(self):
        p = self.run_tool(self.state)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for needle in ("ferry migration stream, version 3", "hand-over: none", "1 harts",
                       "RAM 128 MiB at 0x80000000",
                       "'ram' instance 0", "'plic'", "'clint'", "'serial'", "'cpu'",
                       "    pc = 0x", "    mstatus = 0x", "end of stream"):
            self.assertIn(needle, p.stdout)

    def test_damaged_streams_are_explained(self):
        with open(self.state, "rb") as f:
            data = f.read()
        truncated = os.path.join(self.tmp, "truncated.state")
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 2])
        p = self.run_tool(truncated)
        self.assertEqual(p.returncode, 1)
        self.assertIn("ended early", p.stdout)
        badmagic = os.path.join(self.tmp, "badmagic.state")
        with open(badmagic, "wb") as f:
            f.write(b"X" + data[1:])
        p = self.run_tool(badmagic)
        self.assertEqual(p.returncode, 1)
        self.assertIn("bad magic", p.stdout)
        # The last byte is the end marker: without it the stream is incomplete.
        noeof = os.path.join(self.tmp, "noeof.state")
        with open(noeof, "wb") as f:
            f.write(data[:-1])
        p = self.run_tool(noeof)
        self.assertEqual(p.returncode, 1)
        self.assertIn("error", p.stdout)

    def test_missing_file(self):
        p = self.run_tool(os.path.join(self.tmp, "nothing-here"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot open", p.stderr)


if __name__ == "__main__":
    unittest.main()
