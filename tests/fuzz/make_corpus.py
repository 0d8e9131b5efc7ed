#!/usr/bin/env python3
"""Seed corpus for stream_fuzzer: real migration streams saved by a ferry binary,
plus truncated and damaged copies of them.

    tests/fuzz/make_corpus.py [--ferry build/ferry] [--guests build/guests] OUTDIR

The streams are made when the fuzzer runs (scripts/fuzz.sh), by the ferry built
from the same tree, so they always follow the current stream format; none is
kept in the repository. Each one is a VM saved through QMP `migrate` with the
uri `file:PATH`:

  hello-4m-paused       hello.elf, 4 MiB, saved before its first instruction (-S)
  heartbeat-4m-early    heartbeat.elf, 4 MiB, saved 50 ms after start
  heartbeat-4m-mid      heartbeat.elf, 4 MiB, saved 500 ms after start
  heartbeat-4m-passes   the same, under a bandwidth limit: several RAM passes
  hello-8m-paused       other RAM sizes: refused by the fuzzer's VM (4 MiB)
  hello-64m-paused        when the stream's RAM layout is checked

4 MiB, -bios none is the VM of tests/fuzz/stream_fuzzer.cc (--ram to change).
Then, from hello-4m-paused and heartbeat-4m-mid: truncations (in the header,
early, half way, without the last byte), the first bytes overwritten, and
copies with a few bytes flipped (a fixed random seed: the same corpus every
time).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from qmp import Qmp  # noqa: E402


def save_stream(ferry, kernel, ram, path, *, paused=False, run_for=0.0, max_bandwidth=None,
                timeout=60.0):
    """Starts ferry with `kernel`, lets the guest run `run_for` seconds and
    migrates it to file:`path`. Raises RuntimeError when that fails."""
    tmp = tempfile.mkdtemp(prefix="ferry-corpus-")
    sock = os.path.join(tmp, "qmp.sock")
    argv = [ferry, "-M", "virt", "-m", ram, "-bios", "none", "-nographic", "-kernel", kernel,
            "-qmp", f"unix:{sock},server,nowait"] + (["-S"] if paused else [])
    errlog = open(os.path.join(tmp, "stderr"), "w+b")
    vm = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=errlog)

    def fail(what):
        errlog.seek(0)
        err = errlog.read()[-800:].decode(errors="replace")
        return RuntimeError(f"{' '.join(argv)}: {what}; exit code {vm.poll()}; stderr: {err}")

    try:
        try:
            qmp = Qmp(sock, timeout=30, alive=lambda: vm.poll() is None)
        except Exception as e:
            raise fail(f"no QMP ({e})") from None
        if max_bandwidth:
            qmp.command("migrate-set-parameters", {"max-bandwidth": max_bandwidth})
        time.sleep(run_for)
        reply = qmp.cmd("migrate", uri=f"file:{path}")
        if "error" in reply:
            raise fail(f"migrate: {reply['error']}")
        deadline = time.monotonic() + timeout
        info = {}
        while time.monotonic() < deadline:
            info = qmp.command("query-migrate")
            if info.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.02)
        if info.get("status") != "completed":
            raise fail(f"migration to {path} not completed: {info}")
        try:
            qmp.cmd("quit", timeout=10)
        except (ConnectionError, OSError, AssertionError):
            pass
        qmp.close()
        vm.wait(timeout=30)
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        errlog.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise RuntimeError(f"{path}: no stream was written")
    return path


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def damaged_copies(outdir, name, data, rng):
    """Truncated and corrupted copies of one stream."""
    n = len(data)
    for cut in sorted({4, 6, 16, 64, 512, n // 4, n // 2, n - 1}):
        if 0 < cut < n:
            write(os.path.join(outdir, f"{name}.trunc-{cut}"), data[:cut])
    write(os.path.join(outdir, f"{name}.bad-start"), b"XXXX" + data[4:])
    for i in range(4):
        d = bytearray(data)
        # mostly in the first kilobytes, where the header and the section framing are
        for _ in range(8):
            pos = rng.randrange(min(n, 4096)) if rng.random() < 0.75 else rng.randrange(n)
            d[pos] ^= 1 << rng.randrange(8)
        write(os.path.join(outdir, f"{name}.flip-{i}"), bytes(d))
    # the tail holds the device state and the end marker
    tail = bytearray(data)
    for _ in range(8):
        pos = n - 1 - rng.randrange(min(n, 2048))
        tail[pos] ^= 1 << rng.randrange(8)
    write(os.path.join(outdir, f"{name}.flip-tail"), bytes(tail))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--ferry", default=os.path.join(ROOT, "build", "ferry"))
    ap.add_argument("--guests", default=os.path.join(ROOT, "build", "guests"))
    ap.add_argument("--ram", default="4M", help="RAM of the fuzzer's VM (default 4M)")
    args = ap.parse_args()

    for f in (args.ferry, os.path.join(args.guests, "hello.elf"),
              os.path.join(args.guests, "heartbeat.elf")):
        if not os.path.exists(f):
            sys.exit(f"make_corpus.py: {f} is missing (build the tree first)")
    os.makedirs(args.outdir, exist_ok=True)
    hello = os.path.join(args.guests, "hello.elf")
    heartbeat = os.path.join(args.guests, "heartbeat.elf")
    ram = args.ram
    seeds = [
        (f"hello-{ram.lower()}-paused", hello, ram, dict(paused=True)),
        (f"heartbeat-{ram.lower()}-early", heartbeat, ram, dict(run_for=0.05)),
        (f"heartbeat-{ram.lower()}-mid", heartbeat, ram, dict(run_for=0.5)),
        (f"heartbeat-{ram.lower()}-passes", heartbeat, ram,
         dict(run_for=0.2, max_bandwidth=4_000_000)),
        ("hello-8m-paused", hello, "8M", dict(paused=True)),
        ("hello-64m-paused", hello, "64M", dict(paused=True)),
    ]
    damage = (f"hello-{ram.lower()}-paused", f"heartbeat-{ram.lower()}-mid")
    rng = random.Random(20261202)
    for name, kernel, size, opts in seeds:
        path = save_stream(args.ferry, kernel, size, os.path.join(args.outdir, name), **opts)
        with open(path, "rb") as f:
            data = f.read()
        print(f"  {name}: {len(data)} bytes")
        if name in damage:
            damaged_copies(args.outdir, name, data, rng)
    files = os.listdir(args.outdir)
    total = sum(os.path.getsize(os.path.join(args.outdir, f)) for f in files)
    print(f"seed corpus: {len(files)} files, {total} bytes in {args.outdir}")


if __name__ == "__main__":
    main()
