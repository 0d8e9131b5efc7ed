#!/usr/bin/env python3
"""Live-migration benchmark: ferry and QEMU (TCG) migrate the same guest over loopback TCP.

For each case and each VMM the same QMP script runs:

  1. destination: VMM -M virt -m RAM -bios none -nographic -kernel GUEST
                      -incoming tcp:127.0.0.1:PORT -qmp unix:DST.sock,server=on,wait=off
  2. source:      the same without -incoming, with its own -qmp socket
  3. on both: qmp_capabilities, migrate-set-capabilities (events), migrate-set-parameters
     {"max-bandwidth": 10737418240}; downtime-limit stays at its default (300 ms)
  4. wait until the guest runs (its banner on the serial console) plus --settle seconds
  5. source: migrate {"uri": "tcp:127.0.0.1:PORT"}; poll query-migrate until
     completed/failed/cancelled
  6. destination: check it runs, let it run --after seconds, type 'q' on its console (the
     dirtier/heartbeat guests then verify every page of their working set and print PASS or
     FAIL), then quit both VMMs.

Measured per run: total time and downtime as reported by query-migrate; downtime seen from
outside: (a) for guests that print "hb N" lines, the largest wall-clock gap between two
consecutive hb lines across the switch (source console, then destination console, each line
timestamped by this script as it reads it), (b) for every guest, the source's STOP event to
the destination's RESUME event (QMP event timestamps); bytes on the wire (ram.transferred),
throughput (ram.mbps as reported, and transferred / total time). The machine's loopback TCP
bandwidth and memcpy bandwidth are measured first as the physical limits.

The repetitions of a case alternate between the VMMs (QEMU, ferry, QEMU, ferry, ...) so that
a slow spell of the machine hits both alike. A run counts as failed, and is left out of the
figures, when the migration does not complete or the guest does not print PASS on the
destination; failed runs are listed, and the script then exits with status 1. The report
starts with the commit of the tree (-dirty: with uncommitted changes) and the binaries.

    bench/migration/run.py [--cases idle-256m,idle-1g,...] [--ferry build/ferry]
                           [--skip-qemu] [--skip-ferry] [--reps 1]
"""
import argparse
import os
import re
import shutil
import signal
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
from common.qmp import QMPClient, QMPError, QMPClosed, unix_spec  # noqa: E402
from common.host import describe_binary, tree_commit  # noqa: E402

# name -> (guest, RAM, description, options)
#   start:  regex of the console line after which the --settle time starts
#   settle: seconds before migrate (None: --settle)
#   stop:   "q" = type q on the destination console, the guest verifies its pages and
#           prints NAME: PASS/FAIL; "end" = the guest ends by itself and prints PASS/FAIL
PACED = {"start": r"working set|hb \d+", "settle": None, "stop": "q"}
CASES = {
    "idle-256m": ("heartbeat.elf", "256M", "idle guest (hb every 1 ms), 256 MiB RAM", PACED),
    "idle-1g": ("heartbeat.elf", "1G", "idle guest (hb every 1 ms), 1 GiB RAM", PACED),
    "idle-4g": ("heartbeat.elf", "4G", "idle guest (hb every 1 ms), 4 GiB RAM", PACED),
    "dirty-64m": ("dirtier-64m.elf", "1G", "64 MiB working set, paced (8192 pages/s default)",
                  PACED),
    "dirty-64m-hb": ("dirtier-64m-hb.elf", "1G",
                     "64 MiB working set, paced (8192 pages/s default), hb every 1 ms", PACED),
    "dirty-512m": ("dirtier-512m.elf", "1G",
                   "512 MiB working set, paced (8192 pages/s default)", PACED),
    # unpaced: checksum.elf's mixing passes rewrite a 64 MiB area with random
    # read-modify-writes as fast as the vCPU goes, then it CRCs the area (read only) and
    # prints "checksum: PASS" -- on the destination, if the migration ends in time.
    "unpaced-checksum": ("checksum.elf", "1G",
                         "unpaced: checksum guest, random writes over 64 MiB, migrate "
                         "as its passes start",
                         {"start": r"^fill:", "settle": 0.0, "stop": "end"}),
    # needs a dirtier built with -DFERRY_DIRTIER_PAGES_PER_SEC=0 (see bench/README.md)
    "unpaced-64m": (None, "1G", "64 MiB working set, unpaced dirtier (--unpaced-elf)", PACED),
}
DEFAULT_CASES = ["idle-256m", "idle-1g", "idle-4g", "dirty-64m", "dirty-64m-hb", "dirty-512m",
                 "unpaced-checksum"]

HB = re.compile(r"^hb (\d+)$")
VERIFIED = re.compile(r": PASS\b")
FINAL_STATES = ("completed", "failed", "cancelled")
MAX_BANDWIDTH = 10737418240  # 10 GiB/s: lifts QEMU's 128 MiB/s default


# ---------------------------------------------------------------------------------------
# physical limits
# ---------------------------------------------------------------------------------------
def loopback_bandwidth(total=2 << 30, chunk=4 << 20):
    """Bytes/s of one TCP connection over 127.0.0.1 (Python sendall / recv_into, 4 MiB)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    received = [0]

    def receiver():
        c, _ = srv.accept()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        buf = bytearray(chunk)
        mv = memoryview(buf)
        while True:
            n = c.recv_into(mv)
            if n == 0:
                break
            received[0] += n
        c.close()

    t = threading.Thread(target=receiver)
    t.start()
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    data = b"\x5a" * chunk
    t0 = time.perf_counter()
    sent = 0
    while sent < total:
        s.sendall(data)
        sent += chunk
    s.shutdown(socket.SHUT_WR)
    t.join()
    dt = time.perf_counter() - t0
    s.close()
    srv.close()
    return received[0] / dt


def memcpy_bandwidth(size=256 << 20, rounds=4):
    """Bytes/s copied by memoryview slice assignment (a memcpy), best of `rounds` over 1 GiB."""
    src = bytearray(b"\xa5") * size
    dst = bytearray(size)
    dmv, smv = memoryview(dst), memoryview(src)
    dmv[:] = smv  # fault the pages in
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(4):
            dmv[:] = smv
        dt = time.perf_counter() - t0
        best = max(best, 4 * size / dt)
    return best


# ---------------------------------------------------------------------------------------
# a VMM process with a timestamped serial console
# ---------------------------------------------------------------------------------------
class Vmm:
    def __init__(self, label, argv, qmp_path, log_path):
        self.label = label
        self.argv = argv
        self.qmp_path = qmp_path
        self.lines = []  # (monotonic time, text)
        self.partial = b""
        self.errlog = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errlog, start_new_session=True)
        self.qmp = None
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            now = time.monotonic()
            if not chunk:
                break
            data = self.partial + chunk
            parts = data.split(b"\n")
            self.partial = parts.pop()
            with self.lock:
                for p in parts:
                    self.lines.append((now, p.rstrip(b"\r").decode(errors="replace")))

    def connect(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with code {self.proc.returncode} "
                                   f"before QMP was up: {self.stderr_tail()}")
            try:
                self.qmp = QMPClient(self.qmp_path, connect_timeout=0.5)
                return
            except QMPClosed:
                if time.monotonic() > deadline:
                    raise

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_line(self, pattern, timeout):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, line in self.snapshot():
                if rx.search(line):
                    return t, line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        return None

    def type(self, text):
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def stderr_tail(self):
        self.errlog.flush()
        try:
            with open(self.errlog.name, "rb") as f:
                return f.read()[-600:].decode(errors="replace").strip()
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        if self.proc.poll() is None and self.qmp is not None:
            try:
                self.qmp.cmd("quit", timeout=5)
            except Exception:
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own child's process group only
            self.proc.wait()
        if self.qmp is not None:
            self.qmp.close()
        self.reader.join(timeout=5)
        self.errlog.close()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def event_time(ev):
    ts = ev.get("timestamp", {})
    return ts.get("seconds", 0) + ts.get("microseconds", 0) / 1e6


def hb_lines(lines):
    out = []
    for t, text in lines:
        m = HB.match(text.strip())
        if m:
            out.append((t, int(m.group(1))))
    return out


# ---------------------------------------------------------------------------------------
# one migration
# ---------------------------------------------------------------------------------------
def migrate_once(vmm_name, binary, elf, ram, opts, args, workdir, log):
    """Runs one migration; returns a dict of results (r["error"] set on failure)."""
    r = {"vmm": vmm_name}
    port = free_port()
    tag = f"{vmm_name.lower()}-{os.path.basename(elf).split('.')[0]}-{ram}-{port}"
    base = [binary, "-M", "virt", "-m", ram, "-bios", "none", "-nographic", "-kernel", elf]
    dst_sock = os.path.join(workdir, f"{tag}-dst.sock")
    src_sock = os.path.join(workdir, f"{tag}-src.sock")
    dst = src = None
    try:
        dst = Vmm(f"{vmm_name} destination",
                  base + ["-incoming", f"tcp:127.0.0.1:{port}", "-qmp", unix_spec(dst_sock)],
                  dst_sock, os.path.join(workdir, f"{tag}-dst.stderr"))
        dst.connect()
        src = Vmm(f"{vmm_name} source", base + ["-qmp", unix_spec(src_sock)], src_sock,
                  os.path.join(workdir, f"{tag}-src.stderr"))
        src.connect()

        st = dst.qmp.cmd("query-status")
        if st.get("status") != "inmigrate":
            log(f"    note: destination status is {st.get('status')!r}, not 'inmigrate'")
        r["setup_notes"] = []
        for side, v in (("source", src), ("destination", dst)):
            for cap in args.capability:
                try:
                    v.qmp.cmd("migrate-set-capabilities",
                              capabilities=[{"capability": cap, "state": True}])
                except QMPError as e:
                    r["setup_notes"].append(f"{side}: migrate-set-capabilities {cap}: {e}")
            try:
                v.qmp.cmd("migrate-set-parameters", **{"max-bandwidth": args.max_bandwidth})
            except QMPError as e:
                r["setup_notes"].append(f"{side}: migrate-set-parameters: {e}")
        for n in r["setup_notes"]:
            log(f"    note: {n}")
        try:
            r["params"] = src.qmp.cmd("query-migrate-parameters")
        except QMPError:
            r["params"] = {}

        # the guest runs: its banner, then let it settle (working set initialised, hb flowing)
        if not src.wait_line(opts["start"], 120):
            raise RuntimeError(f"source guest did not print {opts['start']!r}: "
                               f"{src.snapshot()[-3:]} {src.stderr_tail()}")
        settle = args.settle if opts["settle"] is None else opts["settle"]
        time.sleep(settle)

        t_migrate = time.monotonic()
        src.qmp.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
        info = {}
        last_active = {}
        deadline = t_migrate + args.timeout
        while True:
            info = src.qmp.cmd("query-migrate")
            status = info.get("status")
            if status == "active":
                last_active = info
            if status in FINAL_STATES:
                break
            if time.monotonic() > deadline:
                try:
                    src.qmp.cmd("migrate_cancel")
                except QMPError:
                    pass
                r["error"] = f"not completed within {args.timeout}s (status {status})"
                info = src.qmp.cmd("query-migrate")
                break
            if src.proc.poll() is not None:
                last = src.snapshot()[-1:]
                raise RuntimeError(f"source exited with code {src.proc.returncode} during "
                                   f"migration (last console line {last}): "
                                   f"{src.stderr_tail()}")
            time.sleep(args.poll)
        t_done = time.monotonic()
        # QEMU sets "completed" a moment before it fills in total-time, downtime and mbps:
        # a poll in between reads zeros. Ask again until the figures are there.
        for _ in range(50):
            if info.get("status") != "completed" or info.get("total-time"):
                break
            time.sleep(0.02)
            info = src.qmp.cmd("query-migrate")
        r["status"] = info.get("status")
        r["info"] = info
        r["last_active"] = last_active
        r["wall"] = t_done - t_migrate
        if r["status"] != "completed":
            r.setdefault("error", f"status {r['status']}: {info.get('error-desc', '')}".strip())
            return r

        ram_info = info.get("ram", {})
        r["total_ms"] = info.get("total-time")
        r["downtime_ms"] = info.get("downtime")
        r["setup_ms"] = info.get("setup-time")
        r["transferred"] = ram_info.get("transferred")
        r["mbps"] = ram_info.get("mbps")
        r["rounds"] = ram_info.get("dirty-sync-count")
        r["duplicate"] = ram_info.get("duplicate")
        r["normal"] = ram_info.get("normal")
        if r["transferred"] and r["total_ms"]:
            r["eff_mbps"] = r["transferred"] * 8 / (r["total_ms"] / 1000) / 1e6
        r["warnings"] = []
        nb = ram_info.get("normal-bytes")
        if nb is not None and r["transferred"] is not None and r["transferred"] < nb:
            r["warnings"].append(f"ram.transferred {r['transferred']} < ram.normal-bytes {nb}")
        for key in ("total-time", "downtime"):
            if not isinstance(info.get(key), (int, float)):
                r["warnings"].append(f"query-migrate has no {key}")

        # destination: running? let it run, then ask the guest to verify its pages
        try:
            dst_status = dst.qmp.cmd("query-status").get("status")
        except (QMPError, QMPClosed, TimeoutError) as e:
            dst_status = f"? ({e})"
        if dst_status != "running":
            # QEMU may report 'inmigrate'/'paused' for a moment after completion
            time.sleep(0.5)
            try:
                dst_status = dst.qmp.cmd("query-status").get("status")
            except (QMPError, QMPClosed, TimeoutError) as e:
                dst_status = f"? ({e})"
        r["dst_status"] = dst_status
        if dst_status != "running":
            r["warnings"].append(f"destination status {dst_status!r} after completion")
        try:
            src_status = src.qmp.cmd("query-status").get("status")
            if src_status != "postmigrate":
                r["warnings"].append(f"source status {src_status!r} after completion "
                                     "(QEMU: 'postmigrate')")
        except (QMPError, QMPClosed, TimeoutError) as e:
            r["warnings"].append(f"source query-status: {e}")
        time.sleep(args.after)

        # events: source STOP -> destination RESUME (VMM host-clock timestamps)
        src_ev = src.qmp.events(0.1)
        dst_ev = dst.qmp.events(0.1)
        stops = [e for e in src_ev if e.get("event") == "STOP"]
        resumes = [e for e in dst_ev if e.get("event") == "RESUME"]
        r["src_events"] = [e.get("event") for e in src_ev]
        r["dst_events"] = [e.get("event") for e in dst_ev]
        if stops and resumes:
            r["event_downtime_ms"] = (event_time(resumes[-1]) - event_time(stops[-1])) * 1000

        # heartbeat: largest gap between consecutive hb lines from the migrate command to
        # the end, source lines then destination lines (source lines after the first
        # destination line are stale output and are dropped)
        all_src_hb = hb_lines(src.snapshot())
        # baseline: the largest gap while the guest just runs, before migrate (the noise
        # of the machine and of the console path, to read the other figures against)
        base = [t for t, _ in all_src_hb if t_migrate - max(settle - 0.5, 0.5) <= t < t_migrate]
        if len(base) > 10:
            r["hb_base_ms"] = max(b - a for a, b in zip(base, base[1:])) * 1000
        # from the last line before the migrate command on
        before = [x for x in all_src_hb if x[0] < t_migrate]
        src_hb = before[-1:] + [x for x in all_src_hb if x[0] >= t_migrate]
        dst_hb = hb_lines(dst.snapshot())
        if src_hb and dst_hb:
            seq = ([(t, n, "source") for t, n in src_hb if t <= dst_hb[0][0]] +
                   [(t, n, "destination") for t, n in dst_hb])
            gaps = [(b[0] - a[0], a, b) for a, b in zip(seq, seq[1:])]
            worst = max(gaps, key=lambda g: g[0])
            r["hb_gap_ms"] = worst[0] * 1000
            r["hb_gap_where"] = (f"hb {worst[1][1]} ({worst[1][2]}) -> hb {worst[2][1]} "
                                 f"({worst[2][2]}), {(worst[1][0] - t_migrate) * 1000:+.0f} ms "
                                 f"after migrate")
            last_src = src_hb[-1]
            first_dst = dst_hb[0]
            r["hb_switch_ms"] = (first_dst[0] - last_src[0]) * 1000
            r["hb_missed"] = first_dst[1] - last_src[1] - 1  # beats skipped in guest time
            r["hb_src_last"], r["hb_dst_first"] = last_src[1], first_dst[1]
            if r["hb_missed"] * 1.0 > r["hb_switch_ms"] + 5:  # more beats skipped than ms passed
                r["warnings"].append(f"guest time jumped: {r['hb_missed']} beats skipped over "
                                     f"a {r['hb_switch_ms']:.1f} ms switch")
            if r["hb_missed"] < 0:
                r["warnings"].append(f"guest time ran backwards: hb {last_src[1]} -> "
                                     f"{first_dst[1]}")
        elif src_hb and not dst_hb:
            r["hb_note"] = "no hb line from the destination"

        # verify: 'q' makes the guest check every page and power off
        if opts["stop"] == "q":
            dst.type("q")
        res = dst.wait_line(r": (PASS|FAIL)", args.verify_timeout)
        r["verify"] = res[1].strip() if res else "no answer"
        if not VERIFIED.search(r["verify"]):
            # the guest found a stale page (or said nothing): the run does not count
            r["error"] = f"guest verification failed: {r['verify']!r}, not 'NAME: PASS'"
        try:
            dst.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        r["dst_exit"] = dst.proc.poll()
        return r
    except (RuntimeError, QMPError, QMPClosed, TimeoutError, OSError) as e:
        r["error"] = f"{type(e).__name__}: {e}"
        for v in (src, dst):
            if v is not None and v.proc.poll() is not None and "exited" not in r["error"]:
                last = v.snapshot()[-1:]
                r["error"] += (f" [{v.label} exited with code {v.proc.returncode}, last console "
                               f"line {last[0][1] if last else None!r}; {v.stderr_tail()!r}]")
        return r
    finally:
        for v in (src, dst):
            if v is not None:
                v.stop()
        for p in (src_sock, dst_sock):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------
def fmt(v, spec, none="-"):
    if v is None:
        return none
    return format(v, spec)


def fmt_mb(v):
    return "-" if v is None else f"{v / 1e6:.1f}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs):
    """Median of each metric over the repetitions that completed and whose guest
    verified its memory (failed runs are counted, not measured)."""
    ok = [r for r in runs if r.get("status") == "completed" and "error" not in r]
    if not ok:
        if not runs:
            return {"error": "not run"}
        return {"error": f"{runs[-1].get('error', 'failed')}"
                         + (f" (all {len(runs)} runs failed)" if len(runs) > 1 else "")}
    s = {"n": len(ok), "of": len(runs)}
    for k in ("total_ms", "downtime_ms", "hb_base_ms", "hb_gap_ms", "hb_switch_ms", "hb_missed",
              "event_downtime_ms", "transferred", "mbps", "eff_mbps", "rounds"):
        s[k] = median([r.get(k) for r in ok])
    s["verify"] = sorted({r.get("verify", "?") for r in ok})
    s["dst_status"] = sorted({str(r.get("dst_status")) for r in ok})
    return s


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def print_tables(results, cases, vmms, limits):
    print()
    if limits:
        lb, mc = limits
        print(f"physical limits: loopback TCP {lb / 1e9:.2f} GB/s ({lb * 8 / 1e6:,.0f} Mbit/s), "
              f"memcpy {mc / 1e9:.2f} GB/s")
        print()
    cols = [("total ms", "total_ms", ".0f"), ("downtime ms", "downtime_ms", ".0f"),
            ("hb base ms", "hb_base_ms", ".1f"), ("hb gap ms", "hb_gap_ms", ".1f"),
            ("hb switch ms", "hb_switch_ms", ".1f"),
            ("STOP>RESUME ms", "event_downtime_ms", ".1f"),
            ("MB on wire", "transferred", None), ("mbps", "mbps", ".0f"),
            ("eff mbps", "eff_mbps", ".0f"), ("rounds", "rounds", ".0f")]
    w = max(len(c[0]) for c in cols)
    hdr = f"{'case':<16} {'VMM':<6}" + "".join(f" {c[0]:>{w}}" for c in cols) + "  verify"
    print(hdr)
    print("-" * len(hdr))
    for case in cases:
        for v in vmms:
            s = results.get((case, v))
            if s is None:
                continue
            row = f"{case:<16} {v:<6}"
            if "error" in s:
                print(row + f" FAILED: {s['error']}")
                continue
            for _, key, spec in cols:
                val = s.get(key)
                if key == "transferred":
                    row += f" {fmt(val / 1e6 if val is not None else None, '.1f'):>{w}}"
                else:
                    row += f" {fmt(val, spec):>{w}}"
            row += "  " + ",".join(s["verify"])
            if s["of"] > 1:
                row += f"  (median of {s['n']}/{s['of']}"
                row += f", {s['of'] - s['n']} FAILED)" if s["n"] < s["of"] else ")"
            print(row)
        if len(vmms) == 2:
            a, b = results.get((case, "ferry")), results.get((case, "QEMU"))
            if a and b and "error" not in a and "error" not in b:
                row = f"{case:<16} {'f/Q':<6}"
                for _, key, _spec in cols:
                    row += f" {fmt(ratio(a.get(key), b.get(key)), '.2f'):>{w}}"
                print(row)
    print()
    print("total/downtime ms: query-migrate total-time / downtime (as reported by the VMM)")
    print("hb gap ms: largest wall-clock gap between consecutive 'hb' lines (1 ms apart in guest")
    print("           time) from the migrate command to the end, source console then destination")
    print("           console, each line timestamped as the script reads it (heartbeat guest only)")
    print("hb switch ms: last source hb line to first destination hb line (the hand-over alone)")
    print("hb base ms: largest gap between hb lines before migrate (baseline jitter)")
    print("STOP>RESUME ms: source STOP event to destination RESUME event (QMP timestamps)")
    print("MB on wire: ram.transferred / 1e6; mbps: ram.mbps as reported; eff mbps: transferred")
    print("           * 8 / total-time; rounds: ram.dirty-sync-count")
    print("f/Q: ferry / QEMU for each column (times: < 1 is better for ferry; mbps: > 1)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default=None,
                    help="comma-separated, from: " + ",".join(CASES) +
                    f" (default {','.join(DEFAULT_CASES)}, + unpaced-64m if --unpaced-elf)")
    ap.add_argument("--ferry", default=os.path.join(ROOT, "build", "ferry"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "qemu-system-riscv64")
    ap.add_argument("--guests", default=os.path.join(ROOT, "build", "guests"))
    ap.add_argument("--unpaced-elf", default=None,
                    help="a dirtier built with FERRY_DIRTIER_PAGES_PER_SEC=0 (unpaced-64m case)")
    ap.add_argument("--skip-qemu", action="store_true")
    ap.add_argument("--skip-ferry", action="store_true")
    ap.add_argument("--skip-limits", action="store_true", help="don't measure loopback/memcpy")
    ap.add_argument("--reps", type=int, default=1, help="migrations per case and VMM (median)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds the guest runs before migrate")
    ap.add_argument("--after", type=float, default=1.0,
                    help="seconds the destination runs before the guest is told to verify")
    ap.add_argument("--timeout", type=float, default=300.0, help="per migration, seconds")
    ap.add_argument("--verify-timeout", type=float, default=60.0)
    ap.add_argument("--poll", type=float, default=0.02, help="query-migrate period, seconds")
    ap.add_argument("--max-bandwidth", type=int, default=MAX_BANDWIDTH, help="bytes/s")
    ap.add_argument("--capability", action="append", default=None,
                    help="migration capability to enable on both sides (default: events)")
    ap.add_argument("--keep-logs", default=None, help="directory for the VMMs' stderr logs")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.capability is None:
        args.capability = ["events"]

    if args.cases:
        cases = [c for c in args.cases.split(",") if c]
    else:
        cases = list(DEFAULT_CASES) + (["unpaced-64m"] if args.unpaced_elf else [])
    for c in cases:
        if c not in CASES:
            sys.exit(f"unknown case {c!r}; known: {', '.join(CASES)}")

    def case_elf(case):
        guest = CASES[case][0]
        if case == "unpaced-64m":
            return args.unpaced_elf
        return os.path.join(args.guests, guest) if guest else None
    for c in cases:  # a case asked for is run or fails, never dropped
        if not case_elf(c) or not os.path.exists(case_elf(c)):
            sys.exit(f"{c}: guest {case_elf(c)} not found"
                     + (" (give --unpaced-elf)" if c == "unpaced-64m" else ""))

    vmms = []
    if not args.skip_qemu:
        vmms.append(("QEMU", args.qemu))
    if not args.skip_ferry:
        vmms.append(("ferry", args.ferry))
    for name, b in vmms:
        if not (os.path.exists(b) or shutil.which(b)):
            sys.exit(f"{name}: {b} not found")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    print(f"# bench/migration  commit {tree_commit(ROOT)}  {time.strftime('%Y-%m-%d %H:%M:%S')}  "
          f"host {os.uname().nodename}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, b in vmms:
        print(f"#   {name}: {describe_binary(b)}")
    print(f"#   loopback TCP, max-bandwidth {args.max_bandwidth}, capabilities "
          f"{','.join(args.capability) or 'none'}, settle {args.settle}s, reps {args.reps} "
          f"(the VMMs alternate)")

    limits = None
    if not args.skip_limits:
        log("measuring loopback TCP and memcpy bandwidth ...")
        lb = max(loopback_bandwidth() for _ in range(2))
        mc = memcpy_bandwidth()
        limits = (lb, mc)
        log(f"  loopback {lb / 1e9:.2f} GB/s, memcpy {mc / 1e9:.2f} GB/s")

    workdir = args.keep_logs or tempfile.mkdtemp(prefix="ferry-bench-mig-")
    os.makedirs(workdir, exist_ok=True)
    results = {}
    details = []
    for case in cases:
        _, ram, desc, opts = CASES[case]
        elf = case_elf(case)
        runs = {name: [] for name, _ in vmms}
        # repetitions interleaved (QEMU, ferry, QEMU, ferry, ...): a slow spell of the
        # machine hits both VMMs alike
        for rep in range(args.reps):
            for name, b in vmms:
                log(f"{case} ({desc}) on {name}, run {rep + 1}/{args.reps} ...")
                r = migrate_once(name, b, elf, ram, opts, args, workdir, log)
                runs[name].append(r)
                if "error" in r:
                    log(f"  FAILED: {r['error']}")
                else:
                    log(f"  {r['status']}: total {r.get('total_ms')} ms, downtime "
                        f"{r.get('downtime_ms')} ms, hb gap {fmt(r.get('hb_gap_ms'), '.1f')} ms, "
                        f"STOP>RESUME {fmt(r.get('event_downtime_ms'), '.1f')} ms, "
                        f"{fmt((r.get('transferred') or 0) / 1e6, '.1f')} MB, "
                        f"{r.get('rounds')} rounds, destination {r.get('dst_status')}, "
                        f"{r.get('verify')}")
                details.append((case, r))
        for name, _ in vmms:
            results[(case, name)] = summarize(runs[name])

    names = [n for n, _ in vmms]
    print_tables(results, cases, names, limits)

    print()
    print("details (per run):")
    for case, r in details:
        line = f"  {case:<16} {r['vmm']:<6}"
        if "error" in r:
            line += f" FAILED: {r['error']}"
            extra = r.get("info", {}).get("error-desc")
            if extra:
                line += f" ({extra})"
        if r.get("status") == "completed":
            if "error" in r:
                line += f"\n{'':20}(not counted) total {r.get('total_ms')} ms, downtime " \
                        f"{r.get('downtime_ms')} ms;"
            hb = ""
            if "hb_missed" in r:
                hb = (f", hb switch {r['hb_switch_ms']:.1f} ms (hb {r['hb_src_last']} -> "
                      f"{r['hb_dst_first']}, {r['hb_missed']} beats skipped in guest time), "
                      f"largest hb gap {r['hb_gap_ms']:.1f} ms: {r['hb_gap_where']}")
            elif "hb_note" in r:
                hb = ", " + r["hb_note"]
            la = r.get("last_active") or {}
            lar = la.get("ram", {})
            act = ""
            if la:
                act = (f", last active poll: remaining {fmt_mb(lar.get('remaining'))} MB, "
                       f"expected-downtime {la.get('expected-downtime', '-')} ms, "
                       f"dirty-pages-rate {lar.get('dirty-pages-rate', '-')}/s, "
                       f"mbps {fmt(lar.get('mbps'), '.0f')}")
            db = r.get("info", {}).get("ram", {}).get("downtime-bytes")
            if db is not None:
                act += f"; downtime-bytes {fmt_mb(db)} MB"
            line += (f" setup {r.get('setup_ms')} ms, {r.get('normal')} normal + "
                     f"{r.get('duplicate')} zero pages{act}, destination {r.get('dst_status')} "
                     f"(exit {r.get('dst_exit')}){hb}; events src {r.get('src_events')} "
                     f"dst {r.get('dst_events')}")
        for n in r.get("setup_notes", []):
            line += f"\n{'':20}note: {n}"
        for n in r.get("warnings", []):
            line += f"\n{'':20}WARNING: {n}"
        print(line)
        if args.verbose:
            print(f"{'':20}query-migrate: {r.get('info')}")
    if not args.keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"\nVMM stderr logs in {workdir}")

    failed = [(case, r) for case, r in details if "error" in r]
    if failed or not details:
        print()
        print(f"FAILED: {len(failed)} of {len(details)} runs (left out of the figures):")
        for case, r in failed:
            print(f"  {case} on {r['vmm']}: {r['error']}")
        if not details:
            print("  no run at all")
        sys.exit(1)


if __name__ == "__main__":
    main()
