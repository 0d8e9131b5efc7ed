#!/usr/bin/env python3
"""CPU benchmark: guest instructions per second on ferry and on QEMU (TCG).

Runs the bench-alu / bench-mem / bench-crc / bench-fp guests (each prints "bench KIND: N
instructions, result R" with N the exact number of guest instructions of its
kernel loop) on ferry and on qemu-system-riscv64 with the same command line,
several times each, interleaved, and keeps the best wall time. Each VMM's
start-up + shut-down time, measured the same way with hello.elf, is subtracted.

    bench/cpu/run.py [--reps 5] [--ferry build/ferry] [--guests build/guests]

Prints, per kernel: ferry MIPS, QEMU MIPS and ferry/QEMU (>1: ferry faster).
Run by hand on a quiet machine; the figures are only as good as the machine is idle.

A run counts as failed, and is left out of the figures, when the VMM exits non-zero or
times out, or the guest's check fails: hello.elf must print "hello: PASS", a kernel its
"bench KIND:" line with the same result as on QEMU (the reference; without QEMU, as the
other runs). Failed runs are listed and the script exits with status 1. The report starts
with the commit of the tree (-dirty: with uncommitted changes) and the binaries.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common.host import describe_binary, tree_commit  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNELS = ["alu", "mem", "crc", "fp"]
LINE = re.compile(rb"bench (\w+): (\d+) instructions, result (\w+)")


def vmm_argv(binary, elf):
    return [binary, "-M", "virt", "-m", "256M", "-bios", "none", "-nographic", "-kernel", elf]


def run_once(argv, timeout):
    """Runs argv to completion; returns (wall seconds, cpu seconds, stdout bytes).
    Raises RuntimeError when it exits non-zero or times out."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"still running after {timeout} s") from None
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0:
        raise RuntimeError(f"exit code {p.returncode}; stdout {p.stdout[-300:]!r}; "
                           f"stderr {p.stderr[-300:]!r}")
    return wall, cpu, p.stdout


def check_output(kind, out):
    """(instructions, result) from a kernel's line; None for hello.elf.
    Raises RuntimeError when the guest did not print what it must."""
    if kind == "hello":
        if b"hello: PASS" not in out:
            raise RuntimeError(f"no 'hello: PASS' in {out[-300:]!r}")
        return None
    m = LINE.search(out)
    if not m or m.group(1).decode() != kind:
        raise RuntimeError(f"no 'bench {kind}:' line in {out[-300:]!r}")
    return int(m.group(2)), m.group(3).decode()


def loadavg():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="repetitions per kernel and VMM (best kept)")
    ap.add_argument("--ferry", default=os.path.join(ROOT, "build", "ferry"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "qemu-system-riscv64")
    ap.add_argument("--guests", default=os.path.join(ROOT, "build", "guests"))
    ap.add_argument("--kernels", default=",".join(KERNELS), help="comma-separated subset of alu,mem,crc,fp")
    ap.add_argument("--skip-qemu", action="store_true")
    ap.add_argument("--skip-ferry", action="store_true")
    ap.add_argument("--timeout", type=float, default=600.0, help="per run, seconds")
    args = ap.parse_args()

    kernels = [k for k in args.kernels.split(",") if k]
    vmms = []
    if not args.skip_ferry:
        vmms.append(("ferry", args.ferry))
    if not args.skip_qemu:
        vmms.append(("QEMU", args.qemu))
    for name, binary in vmms:
        if not (os.path.exists(binary) or shutil.which(binary)):
            sys.exit(f"{name}: {binary} not found")
    elfs = {k: os.path.join(args.guests, f"bench-{k}.elf") for k in kernels}
    elfs["hello"] = os.path.join(args.guests, "hello.elf")
    for k, e in elfs.items():
        if not os.path.exists(e):
            sys.exit(f"missing guest {e}")

    print(f"# bench/cpu  commit {tree_commit(ROOT)}  {time.strftime('%Y-%m-%d %H:%M:%S')}  "
          f"host {os.uname().nodename}, {os.cpu_count()} CPUs, load average {loadavg()}")
    for name, binary in vmms:
        print(f"#   {name}: {describe_binary(binary)}")
    print(f"#   {args.reps} repetitions each, best wall time kept; start-up (hello.elf) subtracted")

    runs = []  # one dict per run: vmm, kernel, rep, wall, cpu, info, error
    for rep in range(args.reps):
        for k in ["hello"] + kernels:
            for name, binary in vmms:  # interleaved so that slow spells hit both VMMs alike
                run = {"vmm": name, "kernel": k, "rep": rep + 1}
                try:
                    run["wall"], run["cpu"], out = run_once(vmm_argv(binary, elfs[k]),
                                                            args.timeout)
                    run["info"] = check_output(k, out)
                except RuntimeError as e:
                    run["error"] = str(e)
                    print(f"#   {name} {k} run {rep + 1}: FAILED: {e}", file=sys.stderr)
                runs.append(run)
        print(f"#   repetition {rep + 1}/{args.reps} done (load average {loadavg()})", file=sys.stderr)

    # The same guest does the same work: a kernel's result must be QEMU's (the anchor),
    # or without QEMU the most common one. A run with another result failed its check.
    for k in kernels:
        done = [r for r in runs if r["kernel"] == k and "error" not in r]
        ref_runs = [r for r in done if r["vmm"] == "QEMU"] or done
        results = [r["info"][1] for r in ref_runs]
        if not results:
            continue
        expect = max(set(results), key=results.count)
        for r in done:
            if r["info"][1] != expect:
                r["error"] = f"result {r['info'][1]}, expected {expect}"

    best = {}      # (vmm, kernel) -> best wall, over the runs that passed
    best_cpu = {}  # (vmm, kernel) -> best cpu time (user+sys, all threads)
    info = {}      # kernel -> (instructions, result)
    for r in runs:
        if "error" in r:
            continue
        key = (r["vmm"], r["kernel"])
        best[key] = min(best.get(key, r["wall"]), r["wall"])
        best_cpu[key] = min(best_cpu.get(key, r["cpu"]), r["cpu"])
        if r["info"]:
            info[r["kernel"]] = r["info"]
    failed = [r for r in runs if "error" in r]

    print()
    print("start-up + shut-down (hello.elf), best wall: "
          + ", ".join(f"{n} {best[(n, 'hello')] * 1000:.0f} ms" if (n, "hello") in best
                      else f"{n} n/a (every run failed)" for n, _ in vmms))
    print()
    names = [n for n, _ in vmms]
    hdr = f"{'kernel':<7} {'instructions':>13}"
    for n in names:
        hdr += f" {n + ' s':>9} {n + ' MIPS':>10}"
    if len(names) == 2:
        hdr += f" {'ferry/QEMU':>10}"
    print(hdr)
    print("-" * len(hdr))
    ratios = []
    for k in kernels:
        if k not in info:
            print(f"{k:<7} FAILED: every run failed")
            continue
        n_insn = info[k][0]
        row = f"{k:<7} {n_insn:>13,}"
        mips = {}
        for n in names:
            if (n, k) not in best or (n, "hello") not in best:
                row += f" {'FAILED':>9} {'n/a':>10}"
                continue
            t = best[(n, k)] - best[(n, "hello")]
            if t <= 0:
                row += f" {t:>9.3f} {'n/a':>10}"
                continue
            mips[n] = n_insn / t / 1e6
            row += f" {t:>9.3f} {mips[n]:>10.0f}"
        if len(names) == 2 and len(mips) == 2:
            r = mips["ferry"] / mips["QEMU"]
            ratios.append(r)
            row += f" {r:>10.3f}"
        print(row)
    if ratios:
        g = 1.0
        for r in ratios:
            g *= r
        g **= 1.0 / len(ratios)
        print(f"{'geomean':<7} {'':>13}" + " " * (21 * len(names)) + f" {g:>10.3f}")
    print()
    print("ferry/QEMU = ferry MIPS / QEMU MIPS (wall time); > 1 means ferry is faster.")

    # CPU-time view (user+sys of all the VMM's threads): less sensitive to a busy machine,
    # but counts QEMU's I/O thread too.
    print()
    print("same, from CPU time (user+sys, best; start-up CPU time subtracted):")
    for k in kernels:
        if k not in info:
            continue
        n_insn = info[k][0]
        parts = []
        mips = {}
        for n in names:
            if (n, k) not in best_cpu or (n, "hello") not in best_cpu:
                continue
            t = best_cpu[(n, k)] - best_cpu[(n, "hello")]
            if t > 0:
                mips[n] = n_insn / t / 1e6
                parts.append(f"{n} {mips[n]:.0f} MIPS")
        if len(mips) == 2:
            parts.append(f"ferry/QEMU {mips['ferry'] / mips['QEMU']:.3f}")
        print(f"  {k:<5} " + ", ".join(parts))
    print(f"# load average at the end: {loadavg()}")
    if failed:
        print()
        print(f"FAILED: {len(failed)} of {len(runs)} runs (left out of the figures):")
        for r in failed:
            print(f"  {r['kernel']} on {r['vmm']}, run {r['rep']}: {r['error']}")
        sys.exit(1)


if __name__ == "__main__":
    main()
