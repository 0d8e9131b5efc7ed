#!/usr/bin/env python3
"""Disk benchmark: ferry and QEMU (TCG) with the same virtio-blk disk, Debian's kernel and
the busybox initramfs (guests/linux/debian-guest.sh).

    bench/disk/run.py [--reps 1] [--parts io,migrate] [--formats raw,qcow2]
                      [--sizes 1g,4g] [--skip-4g] [--mb 256] [--ops 1000]
                      [--ferry build/ferry] [--qemu qemu-system-riscv64]
                      [--guest-dir build/guests/linux] [--keep DIR]

Both VMMs run the same command line:

    VMM -M virt -m 512M -nographic -kernel Image -initrd initrd.gz
        -append 'console=ttyS0 ferry_cmd="..."'
        -drive if=none,id=d0,file=IMG,format=FMT -device virtio-blk-device,drive=d0

Part `io` (guest disk throughput, a fresh 1 GiB image per run, raw and qcow2): the guest
times with its own clock (/proc/uptime, 10 ms steps) busybox dd on /dev/vda with
O_DIRECT (oflag=direct / iflag=direct: no page cache):
  - SW: sequential write of --mb MiB, 1 MiB requests, from a 16 MiB file of random bytes
    in tmpfs (written 16 MiB per dd);
  - SR: sequential read of the same MiB, 1 MiB requests;
  - RR / RW: --ops random 4 KiB reads / writes inside those MiB, one dd per request
    (offsets from a fixed LCG, the same on both VMMs);
  - SP: the same loop with dd from /dev/zero to /dev/null: what starting dd costs. IOPS
    are given as measured (dd included) and with SP subtracted ("net").
Then the guest reads everything back and compares each 16 MiB with the file it wrote
(random writes wrote the bytes that belong there): a run counts only if it prints
VERIFIED and no BAD/ERR line, and the VMM exits with 0.

Part `migrate` (block migration): an idle guest (`echo IDLE; sleep`) on an image of each
--sizes (1 GiB, 4 GiB), half of it random data (4 MiB of random bytes, then a 4 MiB hole,
and so on; the qcow2 image made from the raw one by qemu-img convert, so its holes are
unallocated), migrated with QMP migrate {"blk": true} over 127.0.0.1 to a destination
with its own empty image of the same size and format (max-bandwidth 10 GiB/s on both
VMMs, other settings at their defaults). Reported: total-time and downtime from
query-migrate, disk.transferred, disk.total and ram.transferred (QEMU shows `disk` only
while the migration is active: its last value then). The source images are fsynced
once made: a VMM that flushes its image when the VM stops would otherwise pay for the
host's write-back of the fresh file in its downtime. A run counts only if the
migration completed, the destination runs, and afterwards `qemu-img compare` finds the
destination image equal to the source image.

Repetitions alternate the VMMs (QEMU, ferry, QEMU, ...). Figures are medians. Failed runs
are listed under FAILED and the script exits with status 1. The report starts with the
commit of the tree and the binaries.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from common.qmp import QMPClient, QMPError, QMPClosed, unix_spec, remove_stale  # noqa: E402
from common.host import describe_binary, exit_status, tree_commit  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30

# The guest's script (ferry_cmd; no double quotes: the kernel command line quotes it).
# t: guest time in 10 ms units; k: the next LCG offset (4 KiB blocks) below B; h: md5.
IO_SCRIPT = (
    "exec 2>/dev/null;"
    "t(){ read u x </proc/uptime;echo ${u%.*}${u#*.};};"
    "h(){ md5sum|cut -c1-32;};"
    "r=1;k(){ r=$(((r*1103515245+12345)%2147483648));k=$(((r/256)%B));};"
    "D=/dev/vda;M=@MB@;N=@OPS@;B=$((M*256));"
    "dd if=/dev/urandom of=/tmp/r bs=1M count=16;m=$(h</tmp/r);"
    "a=$(t);for i in $(seq 0 16 $((M-1)));do "
    "dd if=/tmp/r of=$D bs=1M count=16 seek=$i oflag=direct||echo ERR;done;"
    "echo SW $M $(($(t)-a));"
    "a=$(t);dd if=$D of=/dev/null bs=1M count=$M iflag=direct||echo ERR;"
    "echo SR $M $(($(t)-a));"
    "a=$(t);for i in $(seq $N);do k;"
    "dd if=$D of=/dev/null bs=4k count=1 skip=$k iflag=direct||echo ERR;done;"
    "echo RR $N $(($(t)-a));"
    "a=$(t);for i in $(seq $N);do k;"
    "dd if=/tmp/r of=$D bs=4k count=1 skip=$((k%4096)) seek=$k oflag=direct||echo ERR;done;"
    "echo RW $N $(($(t)-a));"
    "a=$(t);for i in $(seq $N);do k;dd if=/dev/zero of=/dev/null bs=4k count=1;done;"
    "echo SP $N $(($(t)-a));"
    "for i in $(seq 0 16 $((M-1)));do "
    "[ $(dd if=$D bs=1M count=16 skip=$i iflag=direct|h) = $m ]||echo BAD $i;done;"
    "echo VERIFIED")

IDLE_SCRIPT = "echo IDLE;sleep 100000"


def guest(out_dir):
    r = subprocess.run([os.path.join(ROOT, "guests", "linux", "debian-guest.sh"), out_dir],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        sys.exit(f"guests/linux/debian-guest.sh failed:\n{r.stderr[-2000:]}")
    image, initrd = r.stdout.split()
    return image, initrd


def vmm_argv(binary, image, initrd, disk, fmt, script):
    return [binary, "-M", "virt", "-m", "512M", "-nographic", "-kernel", image,
            "-initrd", initrd, "-append", f'console=ttyS0 ferry_cmd="{script}"',
            "-drive", f"if=none,id=d0,file={disk},format={fmt}",
            "-device", "virtio-blk-device,drive=d0"]


def create_image(path, fmt, size):
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, path, str(size)], check=True)


# --- part io ---------------------------------------------------------------------------

def io_once(argv, timeout):
    """The guest's figures {SW: (MiB, s), ...}; raises RuntimeError when the run failed."""
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"no end within {timeout:.0f} s") from None
    out = r.stdout.decode(errors="replace").replace("\r", "")
    if r.returncode != 0:
        raise RuntimeError(f"exit code {r.returncode}; stderr {r.stderr[-300:]!r}")
    bad = re.findall(r"(?m)^(?:ERR|BAD \d+)$", out)
    if bad:
        raise RuntimeError(f"the guest reported {' '.join(sorted(set(bad)))}")
    if not re.search(r"(?m)^VERIFIED$", out):
        raise RuntimeError(f"no VERIFIED; output ends {out[-400:]!r}")
    figures = {}
    for name, n, cs in re.findall(r"(?m)^(SW|SR|RR|RW|SP) (\d+) (\d+)$", out):
        figures[name] = (int(n), int(cs) / 100.0)
    if len(figures) != 5:
        raise RuntimeError(f"only {sorted(figures)} in the output")
    return figures


def io_rates(f):
    """MB/s (10^6 bytes) and IOPS from one run's figures."""
    mbps = lambda k: f[k][0] * MiB / 1e6 / max(f[k][1], 0.01)
    iops = lambda k: f[k][0] / max(f[k][1], 0.01)
    net = lambda k: f[k][0] / max(f[k][1] - f["SP"][1], 0.01)
    return {"seq write MB/s": mbps("SW"), "seq read MB/s": mbps("SR"),
            "rand read IOPS": iops("RR"), "rand write IOPS": iops("RW"),
            "rand read IOPS net": net("RR"), "rand write IOPS net": net("RW"),
            "dd start ms": f["SP"][1] / f["SP"][0] * 1000}


# --- part migrate ----------------------------------------------------------------------

class Vm:
    """A VMM with its console drained in the background and a QMP connection."""

    def __init__(self, argv, qmp_path, incoming=None):
        remove_stale(qmp_path)
        argv = argv + ["-qmp", unix_spec(qmp_path)]
        if incoming:
            argv += ["-incoming", incoming]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = bytearray()
        self.err = bytearray()
        self.cond = threading.Condition()
        for f, buf in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(f, buf), daemon=True).start()
        try:
            self.qmp = QMPClient(qmp_path, connect_timeout=30)
        except Exception:
            self.kill()
            raise RuntimeError(f"no QMP; stderr {bytes(self.err[-300:])!r}")

    def _pump(self, f, buf):
        while True:
            chunk = os.read(f.fileno(), 65536)
            with self.cond:
                if chunk:
                    buf += chunk
                self.cond.notify_all()
            if not chunk:
                return

    def expect(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not re.search(pattern, self.out):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"no {pattern!r}; output ends {bytes(self.out[-300:])!r}, "
                                       f"stderr {bytes(self.err[-300:])!r}")
                self.cond.wait(min(left, 0.2))

    def quit(self):
        try:
            self.qmp.cmd("quit", timeout=10)
        except (QMPError, QMPClosed, OSError, TimeoutError):
            pass
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_source(path_raw, size):
    """A sparse raw image, half random: 4 MiB of random bytes, then a 4 MiB hole, ..."""
    with open(path_raw, "wb") as f:
        f.truncate(size)
        for off in range(0, size, 8 * MiB):
            f.seek(off)
            f.write(os.urandom(4 * MiB))
        f.flush()
        os.fsync(f.fileno())


def migrate_once(binary, image, initrd, src, dst, fmt, tmp, timeout):
    uri = f"tcp:127.0.0.1:{free_port()}"
    vms = []
    try:
        d = Vm(vmm_argv(binary, image, initrd, dst, fmt, IDLE_SCRIPT),
               os.path.join(tmp, "dst.qmp"), incoming=uri)
        vms.append(d)
        s = Vm(vmm_argv(binary, image, initrd, src, fmt, IDLE_SCRIPT),
               os.path.join(tmp, "src.qmp"))
        vms.append(s)
        s.expect(rb"(?m)^IDLE", 300)
        time.sleep(1)
        for vm in (s, d):
            vm.qmp.cmd("migrate-set-parameters", **{"max-bandwidth": 10 * GiB})
        t0 = time.monotonic()
        s.qmp.cmd("migrate", uri=uri, blk=True)
        info = {}
        disk_seen = {}  # QEMU shows 'disk' only while active
        while time.monotonic() - t0 < timeout:
            info = s.qmp.cmd("query-migrate")
            st = info.get("status")
            if "disk" in info:
                disk_seen = info["disk"]
            if st == "completed" and "total-time" in info and "downtime" in info:
                break
            if st in ("failed", "cancelled"):
                raise RuntimeError(f"migration {st}: {info.get('error-desc', info)}")
            time.sleep(0.02)
        else:
            raise RuntimeError(f"not completed after {timeout:.0f} s: {info}")
        wall = time.monotonic() - t0
        # QEMU's destination may still be finishing when the source says completed.
        deadline = time.monotonic() + 60
        while True:
            state = d.qmp.cmd("query-status")["status"]
            if state == "running" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if state != "running":
            raise RuntimeError(f"destination is {state!r}, not running")
        for vm in vms:
            vm.quit()
        cmp = subprocess.run(["qemu-img", "compare", "-f", fmt, "-F", fmt, src, dst],
                             capture_output=True, text=True)
        if cmp.returncode != 0:
            raise RuntimeError(f"qemu-img compare: {(cmp.stdout + cmp.stderr).strip()}")
        disk, ram = info.get("disk") or disk_seen, info.get("ram", {})
        return {"total ms": info["total-time"], "downtime ms": info["downtime"],
                "wall s": wall,
                "disk MB": disk.get("transferred", 0) / 1e6,
                "disk total MB": disk.get("total", 0) / 1e6,
                "ram MB": ram.get("transferred", 0) / 1e6,
                "dst MB on host": allocated(dst) / 1e6}
    finally:
        for vm in vms:
            vm.kill()


def allocated(path):
    return os.stat(path).st_blocks * 512


# --- report ----------------------------------------------------------------------------

def table(title, rows, columns, higher_better):
    """rows: [(label, {vmm: [dict, ...]})]; prints medians and ferry/QEMU."""
    print(f"\n{title}\n")
    head = f"{'case':<14} {'VMM':<7}" + "".join(f"{c:>20}" for c in columns)
    print(head)
    for label, results in rows:
        med = {}
        for vmm in ("QEMU", "ferry"):
            runs = results.get(vmm, [])
            if runs:
                med[vmm] = {c: statistics.median(r[c] for r in runs) for c in columns}
                print(f"{label:<14} {vmm:<7}" + "".join(f"{med[vmm][c]:>20.1f}" for c in columns)
                      + f"   (median of {len(runs)})")
            else:
                print(f"{label:<14} {vmm:<7}  no run counted")
        if len(med) == 2:
            cells = []
            for c in columns:
                q = med["QEMU"][c]
                cells.append(f"{med['ferry'][c] / q:>20.2f}" if q else f"{'-':>20}")
            print(f"{label:<14} {'f/Q':<7}" + "".join(cells))
    print(f"(f/Q = ferry/QEMU; {higher_better})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--parts", default="io,migrate")
    ap.add_argument("--formats", default="raw,qcow2")
    ap.add_argument("--sizes", default="1g,4g", help="block-migration image sizes")
    ap.add_argument("--skip-4g", action="store_true")
    ap.add_argument("--mb", type=int, default=256, help="MiB written and read sequentially "
                    "(a multiple of 16, at most 1024)")
    ap.add_argument("--ops", type=int, default=1000, help="random 4 KiB requests per kind")
    ap.add_argument("--ferry", default=os.path.join(ROOT, "build", "ferry"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "qemu-system-riscv64")
    ap.add_argument("--skip-qemu", action="store_true")
    ap.add_argument("--skip-ferry", action="store_true")
    ap.add_argument("--guest-dir", default=os.path.join(ROOT, "build", "guests", "linux"))
    ap.add_argument("--timeout", type=float, default=900.0, help="per run, seconds")
    ap.add_argument("--keep", help="directory for the images (kept; default: a temporary one)")
    args = ap.parse_args()
    if args.mb % 16 or not 16 <= args.mb <= 1024:
        sys.exit("--mb: a multiple of 16 from 16 to 1024")
    parts = args.parts.split(",")
    formats = args.formats.split(",")
    sizes = [s for s in args.sizes.split(",") if not (args.skip_4g and s == "4g")]
    size_bytes = {}
    for s in sizes:
        m = re.fullmatch(r"(\d+)([mg])", s)
        if not m:
            sys.exit(f"--sizes: {s!r} is not like 1g or 512m")
        size_bytes[s] = int(m.group(1)) * (GiB if m.group(2) == "g" else MiB)

    vmms = [(n, b) for n, b, skip in (("QEMU", args.qemu, args.skip_qemu),
                                      ("ferry", args.ferry, args.skip_ferry)) if not skip]
    for name, b in vmms:
        if not (os.path.exists(b) or shutil.which(b)):
            sys.exit(f"{name}: {b} not found")
    image, initrd = guest(args.guest_dir)
    print(f"commit: {tree_commit(ROOT)}")
    for name, b in vmms:
        print(f"{name + ':':<7}{describe_binary(b)}")
    print(f"qemu-img: {subprocess.run(['qemu-img', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
    print(f"kernel: {os.path.realpath(image)}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n",
          flush=True)

    tmp = args.keep or tempfile.mkdtemp(prefix="ferry-diskbench-")
    os.makedirs(tmp, exist_ok=True)
    failed = []
    t_start = time.monotonic()
    io_rows, mig_rows = [], []
    try:
        if "io" in parts:
            script = IO_SCRIPT.replace("@MB@", str(args.mb)).replace("@OPS@", str(args.ops))
            for fmt in formats:
                results = {n: [] for n, _ in vmms}
                for rep in range(args.reps):
                    for name, b in vmms:
                        disk = os.path.join(tmp, f"io.{fmt}")
                        create_image(disk, fmt, GiB)
                        t0 = time.monotonic()
                        try:
                            f = io_once(vmm_argv(b, image, initrd, disk, fmt, script),
                                        args.timeout)
                        except RuntimeError as e:
                            failed.append(f"io {fmt} {name} rep {rep + 1}: {e}")
                            print(f"  io {fmt} rep {rep + 1} {name}: FAILED: {e}", flush=True)
                            continue
                        rates = io_rates(f)
                        results[name].append(rates)
                        print(f"  io {fmt} rep {rep + 1} {name}: "
                              + ", ".join(f"{k} {v:.1f}" for k, v in rates.items())
                              + f" ({time.monotonic() - t0:.0f} s)", flush=True)
                        os.unlink(disk)
                io_rows.append((f"{fmt} 1GiB", results))
        if "migrate" in parts:
            for s in sizes:
                raw_src = os.path.join(tmp, f"src-{s}.raw")
                t0 = time.monotonic()
                make_source(raw_src, size_bytes[s])
                for fmt in formats:
                    src = raw_src
                    if fmt == "qcow2":
                        src = os.path.join(tmp, f"src-{s}.qcow2")
                        subprocess.run(["qemu-img", "convert", "-O", "qcow2", raw_src, src],
                                       check=True)
                        fd = os.open(src, os.O_RDONLY)
                        os.fsync(fd)
                        os.close(fd)
                    print(f"  source {s} {fmt}: {allocated(src) / 1e6:.0f} MB allocated "
                          f"({time.monotonic() - t0:.0f} s to make)", flush=True)
                    results = {n: [] for n, _ in vmms}
                    for rep in range(args.reps):
                        for name, b in vmms:
                            dst = os.path.join(tmp, f"dst-{s}.{fmt}")
                            create_image(dst, fmt, size_bytes[s])
                            try:
                                r = migrate_once(b, image, initrd, src, dst, fmt, tmp,
                                                 args.timeout)
                            except (RuntimeError, QMPError, QMPClosed, OSError,
                                    TimeoutError) as e:
                                failed.append(f"migrate {s} {fmt} {name} rep {rep + 1}: {e}")
                                print(f"  migrate {s} {fmt} rep {rep + 1} {name}: FAILED: {e}",
                                      flush=True)
                                continue
                            results[name].append(r)
                            print(f"  migrate {s} {fmt} rep {rep + 1} {name}: "
                                  + ", ".join(f"{k} {v:.1f}" for k, v in r.items()), flush=True)
                            os.unlink(dst)
                    mig_rows.append((f"{fmt} {s}", results))
                    if src != raw_src:
                        os.unlink(src)
                os.unlink(raw_src)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    if io_rows:
        table(f"Guest disk throughput (dd with O_DIRECT inside the guest; {args.mb} MiB "
              f"sequential in 1 MiB requests, {args.ops} random 4 KiB requests)", io_rows,
              ["seq write MB/s", "seq read MB/s", "rand read IOPS", "rand write IOPS",
               "rand read IOPS net", "rand write IOPS net", "dd start ms"],
              "> 1: ferry faster, except dd start ms")
    if mig_rows:
        table("Block migration of an idle guest (migrate blk: true), half of the image random "
              "data", mig_rows,
              ["total ms", "downtime ms", "disk MB", "disk total MB", "ram MB",
               "dst MB on host"], "< 1: ferry faster / fewer bytes")
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{time.monotonic() - t_start:.0f} s")
    return exit_status(failed)


if __name__ == "__main__":
    sys.exit(main())
