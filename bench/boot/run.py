#!/usr/bin/env python3
"""Boot benchmark: time from start to a shell prompt for Debian's riscv64 kernel and
the busybox initramfs (guests/linux/debian-guest.sh), on ferry and on QEMU (TCG).

    bench/boot/run.py [--reps 5] [--smp 1,4] [--ferry build/ferry]
                      [--qemu qemu-system-riscv64] [--guest-dir build/guests/linux]

Both VMMs run the same command line:

    VMM -M virt -m 512M -smp N -nographic -kernel Image -initrd initrd.gz -append console=ttyS0

and each run notes, from the serial output, when the kernel printed its banner, when it
ran /init, when the initramfs printed its marker and when the shell prompt appeared.
Then it types `poweroff`: a run counts only if the VMM then exits with status 0 (the
guest powered the board off). Runs alternate between the VMMs (QEMU, ferry, QEMU, …);
the table shows the median of each step and ferry/QEMU of the time to the prompt
(< 1: ferry faster). Failed runs are listed and the script exits with status 1.
"""
import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common.host import describe_binary, exit_status, tree_commit  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = [("kernel", rb"Linux version "), ("/init", rb"Run /init as init process"),
         ("marker", rb"ready \(kernel "), ("prompt", rb"~ # ")]


def guest(out_dir):
    r = subprocess.run([os.path.join(ROOT, "guests", "linux", "debian-guest.sh"), out_dir],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        sys.exit(f"guests/linux/debian-guest.sh failed:\n{r.stderr[-2000:]}")
    image, initrd = r.stdout.split()
    return image, initrd


def boot_once(argv, timeout):
    """Seconds from start to each step; raises RuntimeError when a step does not come
    or the VMM does not end with 0 after poweroff."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    seen = b""
    times = {}
    try:
        for name, pattern in STEPS:
            regex = re.compile(pattern)
            while not regex.search(seen):
                left = timeout - (time.perf_counter() - t0)
                ready, _, _ = select.select([p.stdout], [], [], max(left, 0))
                chunk = os.read(p.stdout.fileno(), 65536) if ready else b""
                if not chunk:
                    raise RuntimeError(f"no '{name}' after {time.perf_counter() - t0:.1f} s; "
                                       f"output ends {seen[-300:]!r}")
                seen += chunk
            times[name] = time.perf_counter() - t0
        for ch in b"poweroff\n":  # one byte at a time: the UART FIFO is small
            p.stdin.write(bytes([ch]))
            p.stdin.flush()
            time.sleep(0.01)
        # Keep draining the console so the VMM never blocks on a full pipe.
        deadline = time.perf_counter() + 60
        while p.poll() is None and time.perf_counter() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.2)
            if ready:
                os.read(p.stdout.fileno(), 65536)
        rc = p.wait(timeout=5)
        if rc != 0:
            raise RuntimeError(f"exit code {rc} after poweroff; stderr {p.stderr.read()[-300:]!r}")
        return times
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--smp", default="1,4", help="comma-separated hart counts")
    ap.add_argument("--ferry", default=os.path.join(ROOT, "build", "ferry"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "qemu-system-riscv64")
    ap.add_argument("--guest-dir", default=os.path.join(ROOT, "build", "guests", "linux"))
    ap.add_argument("--timeout", type=float, default=300.0, help="per run, seconds")
    args = ap.parse_args()

    image, initrd = guest(args.guest_dir)
    print(f"commit: {tree_commit(ROOT)}")
    print(f"ferry:  {describe_binary(args.ferry)}")
    print(f"QEMU:   {describe_binary(args.qemu)}")
    print(f"kernel: {os.path.realpath(image)}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")

    vmms = [("QEMU", args.qemu), ("ferry", args.ferry)]
    failed = []
    rows = []
    for smp in [int(n) for n in args.smp.split(",")]:
        results = {name: [] for name, _ in vmms}
        for rep in range(args.reps):
            for name, binary in vmms:
                argv = [binary, "-M", "virt", "-m", "512M", "-smp", str(smp), "-nographic",
                        "-kernel", image, "-initrd", initrd, "-append", "console=ttyS0"]
                try:
                    times = boot_once(argv, args.timeout)
                except RuntimeError as e:
                    failed.append(f"{name} -smp {smp} rep {rep + 1}: {e}")
                    print(f"  -smp {smp} rep {rep + 1} {name}: failed", flush=True)
                    continue
                results[name].append(times)
                print(f"  -smp {smp} rep {rep + 1} {name}: prompt at {times['prompt']:.2f} s",
                      flush=True)
        rows.append((smp, results))

    print("\nmedian seconds from start (kernel banner / /init / initramfs marker / prompt)\n")
    print(f"{'harts':>5}  {'QEMU':>28}  {'ferry':>28}  {'prompt ferry/QEMU':>17}")
    for smp, results in rows:
        med = {name: {s: statistics.median(r[s] for r in runs) for s, _ in STEPS}
               for name, runs in results.items() if runs}
        cell = lambda n: (" / ".join(f"{med[n][s]:5.2f}" for s, _ in STEPS) if n in med
                          else "failed")
        ratio = (f"{med['ferry']['prompt'] / med['QEMU']['prompt']:.2f}"
                 if "ferry" in med and "QEMU" in med else "-")
        print(f"{smp:>5}  {cell('QEMU'):>28}  {cell('ferry'):>28}  {ratio:>17}")
    return exit_status(failed)


if __name__ == "__main__":
    sys.exit(main())
