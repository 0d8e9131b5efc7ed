#!/usr/bin/env python3
"""The README's demo: a guest runs on one ferry, a second ferry waits with
-incoming, the guest is live-migrated while it prints and dirties 64 MiB, the
migration statistics are shown, and the guest's output continues on the
destination; at the end the guest checks that every page it wrote is intact."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

FERRY = sys.argv[1] if len(sys.argv) > 1 else "build/ferry"
GUEST = sys.argv[2] if len(sys.argv) > 2 else "build/guests/demo.elf"
START = time.monotonic()


def stamp():
    return f"{time.monotonic() - START:7.3f}s"


class Qmp:
    def __init__(self, path):
        for _ in range(100):
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        self.file = self.sock.makefile("rw")
        json.loads(self.file.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.file.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                if reply["event"] in ("STOP", "RESUME"):
                    print(f"{stamp()} [source QMP] event {reply['event']}")
                continue
            return reply


def pump(proc, label, lines):
    for raw in proc.stdout:
        line = raw.decode(errors="replace").rstrip()
        if line:
            lines.append((time.monotonic(), line))
            print(f"{stamp()} [{label}] {line}", flush=True)


def main():
    tmp = tempfile.mkdtemp(prefix="ferry-demo-")
    port = 44000 + os.getpid() % 1000
    common = [FERRY, "-M", "virt", "-m", "1G", "-bios", "none", "-nographic",
              "-kernel", GUEST]
    print(f"=== destination: {' '.join(common)} -incoming tcp:127.0.0.1:{port}")
    dst = subprocess.Popen(common + ["-incoming", f"tcp:127.0.0.1:{port}",
                                     "-qmp", f"unix:{tmp}/dst.qmp,server,nowait"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    print(f"=== source:      {' '.join(common)} -qmp unix:{tmp}/src.qmp,server,nowait")
    src = subprocess.Popen(common + ["-qmp", f"unix:{tmp}/src.qmp,server,nowait"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    src_lines, dst_lines = [], []
    threads = [threading.Thread(target=pump, args=(src, "source", src_lines), daemon=True),
               threading.Thread(target=pump, args=(dst, "destination", dst_lines), daemon=True)]
    for t in threads:
        t.start()
    qmp = Qmp(f"{tmp}/src.qmp")
    time.sleep(1.5)
    print(f"{stamp()} === migrate tcp:127.0.0.1:{port} (the guest keeps running)")
    qmp.cmd("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}])
    reply = qmp.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
    if "error" in reply:
        print("migrate failed:", reply["error"]["desc"])
        return 1
    while True:
        info = qmp.cmd("query-migrate")["return"]
        if info.get("status") in ("completed", "failed", "cancelled"):
            break
        ram = info.get("ram", {})
        print(f"{stamp()} [source QMP] status {info.get('status')}: "
              f"transferred {ram.get('transferred', 0) >> 20} MiB, "
              f"remaining {ram.get('remaining', 0) >> 20} MiB")
        time.sleep(0.05)
    ram = info.get("ram", {})
    print(f"{stamp()} === migration {info['status']}")
    if info["status"] != "completed":
        print("   ", info.get("error-desc"))
        return 1
    print(f"    total time {info['total-time']} ms, downtime {info['downtime']} ms, "
          f"setup {info['setup-time']} ms")
    print(f"    {ram['transferred'] / 1e6:.1f} MB on the wire, {ram['normal']} pages with data, "
          f"{ram['duplicate']} zero pages, {ram['dirty-sync-count']} dirty-log syncs, "
          f"{ram['mbps']:.0f} Mbit/s")
    steps = info.get("ferry-downtime-steps", [])
    if steps:
        print("    the pause, step by step (source): " +
              ", ".join(f"{s['step']} +{s['ms']:.2f} ms" for s in steps))
    print(f"    source: {qmp.cmd('query-status')['return']['status']}")
    time.sleep(1.0)
    print(f"{stamp()} === typing 'q' on the destination's console: the guest checks every page")
    dst.stdin.write(b"q")
    dst.stdin.flush()
    code = dst.wait(timeout=60)
    qmp.cmd("quit")
    src.wait(timeout=10)
    for t in threads:
        t.join(timeout=2)
    last_src = [t for t, l in src_lines if l.startswith("hb ")]
    first_dst = [t for t, l in dst_lines if l.startswith("hb ")]
    if last_src and first_dst:
        print(f"=== last heartbeat on the source -> first on the destination: "
              f"{(first_dst[0] - last_src[-1]) * 1000:.0f} ms (heartbeats are 100 ms apart)")
    print(f"=== destination exited with {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
