#!/usr/bin/env python3
"""Network benchmark: ferry and QEMU (TCG) with the same virtio-net NIC on a tap, Debian's
kernel and the busybox initramfs (guests/linux/debian-guest.sh). Run it as root: it builds
network namespaces, a bridge and taps (tests/system/netns.py).

    bench/net/run.py [--reps 3] [--migrate-reps 5] [--quick] [--parts traffic,migrate]
                     [--mib 512] [--udp-seconds 3] [--udp-rate 0] [--interval 0.005]
                     [--ferry build/ferry] [--qemu qemu-system-riscv64]
                     [--guests build/guests] [--skip-qemu] [--skip-ferry] [-v]

The topology is the network tests' (tests/system/netns.py):

    [host ns]  br0 -- tapsrc    the VMM (the source of a migration)   guest 10.77.0.2/24
                   -- tapdst    the destination of a migration         (52:54:00:12:34:56)
                   -- vclient = eth0 [client ns] 10.77.0.1/24: this script's client

and both VMMs run the network tests' command line (tests/system/test_net_qemu.py, board()):

    VMM -M virt -m 512M -nographic -kernel Image -initrd initrd.gz
        -append 'console=ttyS0 ferry_cmd="..."'
        -netdev tap,id=n0,ifname=tapsrc,script=no,downscript=no
        -device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56
    (QEMU also gets -global virtio-mmio.force-legacy=false: a modern virtio-mmio NIC.)

Part `traffic`, one guest boot per run. The client is this script run inside the client
namespace (`run.py client`, one JSON command per line over a pipe). The guest's script
(TRAFFIC_SCRIPT) waits for the client at each step:
  - h2g, host->guest TCP: the guest runs `nc -l -p 5001 -e dd of=/dev/null bs=64k
    iflag=fullblock` (dd reads the socket itself, 64 KiB at a time); the client connects,
    sends --mib MiB, half-closes and waits for the guest's FIN (dd has read everything).
    Timed by the client from the first send to the FIN.
  - g2h, guest->host TCP: the guest runs `nc 10.77.0.1 5002 -e dd if=/dev/zero bs=64k
    count=N` (dd writes into the socket); the client reads until EOF, timed from its first
    recv to the EOF (what that first recv returned is left out of the bytes).
  - sendfile, guest->host: the client GETs a 64 MiB file of zeros in the guest's tmpfs
    from busybox httpd (which sends it with sendfile: no copy through user space) --mib /
    64 times, one connection each; timed from the first body chunk to the EOF of each.
  - packet rate: the client sends UDP datagrams of 18 bytes (60-byte frames) to a port of
    the guest where nothing listens (the guest's kernel drops them after the UDP lookup; no
    application in the path) for --udp-seconds, as fast as one Python thread can
    (--udp-rate 0) or paced at --udp-rate per s. The guest's own counter, eth0 rx_packets
    (read over TCP from `nc -ll -p 7001 -e cat /sys/class/net/eth0/statistics/rx_packets`
    in the guest, before and 0.5 s after the flood), gives what its driver received;
    rx pkt/s = that / --udp-seconds. The tap's counters (host side) give what the VMM
    read from the tap and what the tap dropped because the VMM did not read it in time.
  - cpu %: the VMM's CPU time (user + system, all threads, /proc/PID/stat) over each step,
    in % of one core.
  The run counts if every transfer was whole (the client's byte counts, zeros only, and the
  guest's dd: "N+0 records in/out" for the N blocks), and the guest then powered off by
  itself (VMM exit status 0).

Part `migrate`, the hand-over gap: the network tests' echo guest (`nc -ll -p 7000 -e cat`)
on tapsrc, a destination on tapdst started with -incoming unix:SOCK; the client
(netns.StreamClient) sends a numbered line every --interval s over one TCP connection and
reads the echo. After 1 s of stream the source gets `migrate` (events capability on both,
max-bandwidth 1 GiB/s, all else at its default); the stream goes on until 2 s after the
destination's RESUME. From the QMP events' timestamps and the client's (both are the
host's time.time()):
  - STOP>RESUME: source STOP event to destination RESUME event;
  - resume>echo: destination RESUME to the first echo the client receives after it (the
    connection moves data again);
  - stop>echo: source STOP to that first echo (the outage as the client sees it);
  - silence: the longest gap between two consecutive echoes from `migrate` on; base: the
    same in the second before `migrate` (the stream's own jitter);
  - rarp: destination RESUME to the first RARP announce from the guest's MAC on tapdst;
  - downtime: query-migrate's `downtime`, as the source reports it.
  The run counts if the migration completed, every line came back once and in order, the
  echo went on after RESUME, and the destination runs.

Repetitions alternate the VMMs (QEMU, ferry, QEMU, ...) in each part. Figures are medians.
Failed runs are listed under FAILED and the script exits with status 1. The report starts
with the commit of the tree and the binaries.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SYSTEM_TESTS = os.path.join(ROOT, "tests", "system")

MiB = 1 << 20

GUEST_IP = "10.77.0.2"   # = test_net_qemu.GUEST_IP (the client tool does not import it)
PUSH_PORT = 5001         # host->guest: the guest's nc -l
PULL_PORT = 5002         # guest->host: the client's listener
STAT_PORT = 7001         # the guest's rx_packets service
BYE_PORT = 5009          # the guest powers off when a connection to it ends
UDP_PORT = 5003          # nobody listens: the datagrams end in the guest's UDP lookup
UDP_PAYLOAD = 18         # 14 + 20 + 8 + 18 = 60-byte frames (the Ethernet minimum)
HTTP_PORT = 80           # guest->host with sendfile: the guest's busybox httpd
HTTP_FILE_MIB = 64       # its file (tmpfs), fetched as many times as --mib asks
STALL_MS = 100           # a silence this long in the echo stream: a lost segment
RX_PACKETS = "/sys/class/net/eth0/statistics/rx_packets"

# The guest's script (ferry_cmd: no double quotes, the kernel command line quotes it).
TRAFFIC_SCRIPT = (
    f"dmesg -n 1; mkdir /www; dd if=/dev/zero of=/www/z bs=1M count={HTTP_FILE_MIB} "
    f"2>/dev/null; httpd -p {HTTP_PORT} -h /www; "
    f"ip addr add {GUEST_IP}/24 dev eth0; ip link set eth0 up; "
    f"(nc -ll -p {STAT_PORT} -e cat {RX_PACKETS} &); echo NET-UP; "
    f"nc -l -p {PUSH_PORT} -e dd of=/dev/null bs=64k iflag=fullblock; echo RX-DONE; "
    f"nc @CLIENT@ {PULL_PORT} -e dd if=/dev/zero bs=64k count=@BLOCKS@; echo TX-DONE; "
    f"nc -l -p {BYE_PORT} >/dev/null; echo BYE")


# ---------------------------------------------------------------------------------------
# the client: `run.py client`, inside the client namespace; one JSON command per line on
# stdin, one JSON reply per line on stdout
# ---------------------------------------------------------------------------------------
def _connect(addr, port, deadline):
    """A TCP connection to the guest, retried while nothing listens there yet."""
    while True:
        try:
            return socket.create_connection((addr, port), timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def client_push(addr, port, nbytes, timeout):
    s = _connect(addr, port, time.monotonic() + timeout)
    try:
        s.settimeout(timeout)
        chunk = memoryview(bytes(256 << 10))
        t0 = time.monotonic()
        sent = 0
        while sent < nbytes:
            n = min(len(chunk), nbytes - sent)
            s.sendall(chunk[:n])
            sent += n
        s.shutdown(socket.SHUT_WR)
        t_sent = time.monotonic()
        extra = 0
        while True:  # the guest's nc closes once it has read everything
            data = s.recv(65536)
            if not data:
                break
            extra += len(data)
        t1 = time.monotonic()
    finally:
        s.close()
    return {"bytes": sent, "seconds": t1 - t0, "sendall_seconds": t_sent - t0,
            "unexpected_bytes": extra}


def client_pull(listener, nbytes, timeout):
    listener.settimeout(timeout)
    c, peer = listener.accept()
    try:
        c.settimeout(timeout)
        buf = bytearray(1 << 20)
        mv = memoryview(buf)
        got = 0
        nonzero = 0
        t_first = t_last = None
        while True:
            n = c.recv_into(mv)
            if n == 0:
                break
            t_last = time.monotonic()
            if t_first is None:
                t_first = t_last
                first = n
            got += n
            if buf.count(0, 0, n) != n:
                nonzero += 1
        # what came in the first recv was in flight before the clock started
    finally:
        c.close()
    if t_first is None:
        return {"bytes": 0, "seconds": 0.0, "peer": peer[0]}
    return {"bytes": got, "timed_bytes": got - first, "seconds": t_last - t_first,
            "peer": peer[0], "nonzero_chunks": nonzero}


def client_http(addr, port, path, size, count, timeout):
    """GETs `path` `count` times, one connection each (busybox httpd: HTTP/1.0); the
    rate counts what arrived after each response's first chunk, timed from it."""
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    total = timed = 0
    seconds = 0.0
    for _ in range(count):
        s = _connect(addr, port, time.monotonic() + timeout)
        try:
            s.settimeout(timeout)
            s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                n = s.recv_into(mv)
                if n == 0:
                    raise ConnectionError(f"the response ended in its header: {head[:200]!r}")
                head += bytes(mv[:n])
            t_first = t_last = time.monotonic()
            status = head.split(b"\r\n", 1)[0].decode(errors="replace")
            if status.split()[1:2] != ["200"]:
                raise ConnectionError(f"GET {path}: {status!r}")
            got = first = len(head.split(b"\r\n\r\n", 1)[1])
            while True:
                n = s.recv_into(mv)
                if n == 0:
                    break
                t_last = time.monotonic()
                if buf.count(0, 0, n) != n:
                    raise ConnectionError(f"GET {path}: bytes other than zeros")
                got += n
        finally:
            s.close()
        if got != size:
            raise ConnectionError(f"GET {path}: {got} bytes, expected {size}")
        total += got
        timed += got - first
        seconds += t_last - t_first
    return {"bytes": total, "timed_bytes": timed, "seconds": seconds}


def client_stat(addr, port, timeout):
    s = _connect(addr, port, time.monotonic() + timeout)
    try:
        s.settimeout(timeout)
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    finally:
        s.close()
    return {"value": int(data.strip()), "t": time.monotonic()}


def client_flood(addr, port, seconds, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = bytes(UDP_PAYLOAD)
    dest = (addr, port)
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + seconds
    if rate <= 0:
        now = t0
        while now < end:
            for _ in range(64):
                try:
                    s.sendto(payload, dest)
                    sent += 1
                except OSError:
                    errors += 1
            now = time.monotonic()
    else:
        now = t0
        while now < end:
            due = int((now - t0) * rate)
            while sent + errors < due:
                try:
                    s.sendto(payload, dest)
                    sent += 1
                except OSError:
                    errors += 1
            time.sleep(0.0005)
            now = time.monotonic()
    s.close()
    return {"sent": sent, "errors": errors, "seconds": now - t0}


def client_main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", PULL_PORT))
    listener.listen(1)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        try:
            if op == "push":
                r = client_push(**cmd)
            elif op == "pull":
                r = client_pull(listener, **cmd)
            elif op == "http":
                r = client_http(**cmd)
            elif op == "stat":
                r = client_stat(**cmd)
            elif op == "flood":
                r = client_flood(**cmd)
            elif op == "bye":
                s = _connect(cmd["addr"], cmd["port"], time.monotonic() + cmd["timeout"])
                s.close()
                r = {}
            else:
                r = {"error": f"unknown op {op}"}
        except Exception as e:  # reported to the driver, which fails the run
            r = {"error": f"{op}: {type(e).__name__}: {e}"}
        print(json.dumps(r), flush=True)
    return 0


if len(sys.argv) > 1 and sys.argv[1] == "client":
    sys.exit(client_main())


# ---------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, SYSTEM_TESTS)
from common.host import describe_binary, exit_status, tree_commit  # noqa: E402
import netns  # noqa: E402
import paths  # noqa: E402
import test_net_qemu as nq  # noqa: E402
from test_migration import Vmm, wait_listening  # noqa: E402


class Client:
    """The client tool inside the client namespace."""

    def __init__(self, ns):
        self.proc = ns.popen([sys.executable, "-u", os.path.abspath(__file__), "client"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError(f"client tool: {self.proc.stderr.read()[-500:]}")

    def call(self, op, **args):
        self.proc.stdin.write(json.dumps(dict(op=op, **args)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"client tool exited: {self.proc.stderr.read()[-500:]}")
        r = json.loads(line)
        if "error" in r:
            raise RuntimeError(r["error"])
        return r


def cpu_seconds(pid):
    """user + system time of a process (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Phase:
    """Wall time and the VMM's CPU time over one phase."""

    def __init__(self, pid):
        self.pid = pid
        self.t0, self.c0 = time.monotonic(), cpu_seconds(pid)

    def cpu_percent(self):
        return 100 * (cpu_seconds(self.pid) - self.c0) / (time.monotonic() - self.t0)


def tap_netdev(ifname):
    return f"tap,id=n0,ifname={ifname},script=no,downscript=no"


def guest_dd(console, nbytes, what):
    """The guest's own check: its dd (iflag=fullblock: whole 64 KiB blocks) moved all the
    bytes, "N+0 records in" and "N+0 records out" with N = the 64 KiB blocks sent."""
    blocks = nbytes // (64 << 10)
    for kind in ("in", "out"):
        m = re.findall(rf"(\d+)\+(\d+) records {kind}", console)
        if not m or m[-1] != (str(blocks), "0"):
            raise RuntimeError(f"{what}: the guest's dd says {'+'.join(m[-1]) if m else 'nothing'}"
                               f" records {kind}, expected {blocks}+0; console: "
                               f"{console[-300:]!r}")


def traffic_once(binary, tmp, args):
    """One boot: host->guest TCP, guest->host TCP, UDP packet rate. Returns the figures."""
    nbytes = args.mib * MiB
    script = (TRAFFIC_SCRIPT.replace("@BLOCKS@", str(nbytes // (64 << 10)))
              .replace("@CLIENT@", "10.77.0.1"))
    t = netns.Topology("nbt")
    vm = None
    try:
        client = Client(t.client)
        vm = Vmm(tmp, "vm", nq.board(binary, tap_netdev(t.tap_src), script), vmm=binary,
                 wrapper=t.host.argv([]), qmp=False)
        vm.expect(rb"(?m)^NET-UP", timeout=180)
        r = {}
        timeout = max(120.0, args.mib * 2.0)

        # host->guest: the guest's dd reads the socket (64 KiB reads) into /dev/null
        ph = Phase(vm.proc.pid)
        push = client.call("push", addr=GUEST_IP, port=PUSH_PORT, nbytes=nbytes,
                           timeout=timeout)
        r["h2g cpu %"] = ph.cpu_percent()
        if push["unexpected_bytes"]:
            raise RuntimeError(f"host->guest: the guest sent {push['unexpected_bytes']} bytes")
        guest_dd(vm.expect(rb"(?m)^RX-DONE", timeout=30), nbytes, "host->guest")
        r["h2g MiB/s"] = push["bytes"] / MiB / push["seconds"]

        # guest->host: the guest's dd writes zeros into the socket (64 KiB writes)
        ph = Phase(vm.proc.pid)
        pull = client.call("pull", nbytes=nbytes, timeout=timeout)
        r["g2h cpu %"] = ph.cpu_percent()
        if pull["bytes"] != nbytes or pull.get("nonzero_chunks"):
            raise RuntimeError(f"guest->host: {pull['bytes']} bytes (expected {nbytes}), "
                               f"{pull.get('nonzero_chunks')} chunks not zero")
        guest_dd(vm.expect(rb"(?m)^TX-DONE", timeout=30), nbytes, "guest->host")
        r["g2h MiB/s"] = pull["timed_bytes"] / MiB / pull["seconds"]

        # guest->host with sendfile: the guest's httpd sends a file from tmpfs
        ph = Phase(vm.proc.pid)
        http = client.call("http", addr=GUEST_IP, port=HTTP_PORT, path="/z",
                           size=HTTP_FILE_MIB * MiB,
                           count=max(1, args.mib // HTTP_FILE_MIB), timeout=timeout)
        r["sendfile cpu %"] = ph.cpu_percent()
        r["sendfile MiB/s"] = http["timed_bytes"] / MiB / http["seconds"]

        time.sleep(0.5)
        tap0 = t.host.link_stats(t.tap_src)
        before = client.call("stat", addr=GUEST_IP, port=STAT_PORT, timeout=30)
        ph = Phase(vm.proc.pid)
        flood = client.call("flood", addr=GUEST_IP, port=UDP_PORT, seconds=args.udp_seconds,
                            rate=args.udp_rate)
        r["udp cpu %"] = ph.cpu_percent()
        time.sleep(0.5)  # what sits in the tap's queue and the ring reaches the guest
        after = client.call("stat", addr=GUEST_IP, port=STAT_PORT, timeout=30)
        tap1 = t.host.link_stats(t.tap_src)
        received = after["value"] - before["value"]
        # the stat connections' own frames: a handful, left in
        r["udp sent/s"] = flood["sent"] / flood["seconds"]
        r["udp rx pkt/s"] = received / flood["seconds"]
        r["udp rx %"] = 100.0 * received / max(flood["sent"], 1)
        r["tap read/s"] = (tap1["tx_packets"] - tap0["tx_packets"]) / flood["seconds"]
        r["tap drop/s"] = (tap1["tx_dropped"] - tap0["tx_dropped"]) / flood["seconds"]
        if flood["errors"]:
            r["udp send errors"] = flood["errors"]

        client.call("bye", addr=GUEST_IP, port=BYE_PORT, timeout=30)
        vm.expect(rb"(?m)^BYE", timeout=30)
        rc = vm.wait(timeout=60)
        if rc != 0:
            raise RuntimeError(f"VMM exit status {rc}: {vm.stderr_text()[-300:]!r}")
        r["push detail"] = push
        r["pull detail"] = pull
        r["http detail"] = http
        r["flood detail"] = flood
        return r
    finally:
        if vm is not None:
            vm.kill()
        t.close()


def migrate_once(binary, tmp, args):
    """One live migration with the echo stream; returns the hand-over figures (ms)."""
    t = netns.Topology("nbm")
    vms = []
    client = None
    try:
        uri = "unix:" + os.path.join(tmp, "mig.sock")
        src = Vmm(tmp, "src", nq.board(binary, tap_netdev(t.tap_src), nq.TAP_GUEST),
                  vmm=binary, wrapper=t.host.argv([]))
        vms.append(src)
        dst = Vmm(tmp, "dst", nq.board(binary, tap_netdev(t.tap_dst), nq.TAP_GUEST),
                  vmm=binary, wrapper=t.host.argv([]), incoming=uri)
        vms.append(dst)
        wait_listening(uri, dst)
        for v in (src, dst):
            v.qmp.command("migrate-set-capabilities",
                          capabilities=[{"capability": "events", "state": True}])
        src.expect(rb"(?m)^NET-UP", timeout=180)
        client = netns.StreamClient(t.client, nq.GUEST_IP, nq.ECHO_PORT, interval=args.interval)
        client.wait_echoes(10, timeout=30)
        time.sleep(1.0)
        cap = t.capture([netns.ETH_P_RARP])
        src.set_parameters(max_bandwidth=1 << 30)
        t_migrate = time.time()
        src.qmp.command("migrate", uri=uri)
        done = src.qmp.wait_event("MIGRATION", lambda e: e["data"]["status"] in
                                  ("completed", "failed", "cancelled"), timeout=120)
        if done["data"]["status"] != "completed":
            raise RuntimeError(f"migration {done['data']['status']}")
        stop = nq.event_time(src.qmp.wait_event("STOP", timeout=5))
        resume = nq.event_time(dst.qmp.wait_event("RESUME", timeout=30))
        client.wait_echoed_after(resume + 2.0, timeout=30)
        info = src.migration()
        state = dst.run_state()
        summary = client.finish()
        echoes = client.echoes()
        rarp = [f.t for f in cap.stop() if f.src == nq.GUEST_MAC and f.ifname == t.tap_dst
                and f.pkttype != netns.PACKET_OUTGOING]
        if summary["bad"] or not summary["eof"] or summary["echoed"] != summary["sent"]:
            raise RuntimeError(f"the stream was not whole: {summary}")
        if [e[0] for e in echoes] != list(range(summary["sent"])):
            raise RuntimeError("echoes missing or out of order")
        if state != "running":
            raise RuntimeError(f"destination is {state!r}")
        times = [e[2] for e in echoes]
        after = min((x for x in times if x > resume), default=None)
        if after is None:
            raise RuntimeError("no echo after RESUME")
        since = [x for x in times if x >= t_migrate]
        last_before = max(x for x in times if x < t_migrate)
        since = [last_before] + since
        gaps = [(b - a, a) for a, b in zip(since, since[1:])]
        gap, gap_at = max(gaps)
        base = [x for x in times if t_migrate - 1.0 <= x < t_migrate]
        base_gap = max((b - a for a, b in zip(base, base[1:])), default=0.0)
        return {"downtime ms": float(info.get("downtime", 0)),
                "STOP>RESUME ms": (resume - stop) * 1000,
                "resume>echo ms": (after - resume) * 1000,
                "stop>echo ms": (after - stop) * 1000,
                "silence ms": gap * 1000,
                "base ms": base_gap * 1000,
                "rarp ms": (min(rarp) - resume) * 1000 if rarp else None,
                "silence at": f"{(gap_at - resume) * 1000:+.0f} ms from RESUME",
                "lines": summary["sent"]}
    finally:
        if client is not None and client.proc.poll() is None:
            client.proc.kill()
        for v in vms:
            v.kill()
        t.close()


# --- report ----------------------------------------------------------------------------

def table(title, results, vmms, columns, legend):
    """results: {vmm: [dict, ...]}; medians per VMM and ferry/QEMU."""
    print(f"\n{title}\n")
    print(f"{'VMM':<7}" + "".join(f"{c:>16}" for c in columns))
    med = {}
    for vmm in vmms:
        runs = results.get(vmm, [])
        if runs:
            med[vmm] = {}
            for c in columns:
                values = [r[c] for r in runs if r.get(c) is not None]
                med[vmm][c] = statistics.median(values) if values else None
            print(f"{vmm:<7}" + "".join(f"{med[vmm][c]:>16.1f}" if med[vmm][c] is not None
                                        else f"{'-':>16}" for c in columns)
                  + f"   (median of {len(runs)})")
        else:
            print(f"{vmm:<7}  no run counted")
    if "QEMU" in med and "ferry" in med:
        cells = []
        for c in columns:
            q, f = med["QEMU"][c], med["ferry"][c]
            cells.append(f"{f / q:>16.2f}" if q and f is not None else f"{'-':>16}")
        print(f"{'f/Q':<7}" + "".join(cells))
    for line in legend:
        print(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="runs of part traffic per VMM")
    ap.add_argument("--migrate-reps", type=int, default=5,
                    help="runs of part migrate per VMM (its gap is bimodal: more runs)")
    ap.add_argument("--quick", action="store_true",
                    help="1 run of each part, 128 MiB transfers, 1 s of UDP")
    ap.add_argument("--parts", default="traffic,migrate")
    ap.add_argument("--mib", type=int, default=512, help="MiB per TCP transfer")
    ap.add_argument("--udp-seconds", type=float, default=3.0)
    ap.add_argument("--udp-rate", type=float, default=0.0,
                    help="datagrams per second offered (0: as fast as the client can)")
    ap.add_argument("--interval", type=float, default=0.005,
                    help="seconds between the echo stream's lines during the migration")
    ap.add_argument("--ferry", default=os.path.join(ROOT, "build", "ferry"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "qemu-system-riscv64")
    ap.add_argument("--skip-qemu", action="store_true")
    ap.add_argument("--skip-ferry", action="store_true")
    ap.add_argument("--guests", default=os.environ.get("FERRY_GUESTS_DIR",
                                                       os.path.join(ROOT, "build", "guests")),
                    help="the guest tree (the Debian guest is put together in GUESTS/linux)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.migrate_reps, args.mib, args.udp_seconds = 1, 1, 128, 1.0
    parts = args.parts.split(",")
    for p in parts:
        if p not in ("traffic", "migrate"):
            sys.exit(f"--parts: unknown part {p!r}")
    if os.geteuid() != 0:
        sys.exit("run as root: the benchmark builds network namespaces, a bridge and taps")

    vmms = [(n, b) for n, b, skip in (("QEMU", args.qemu, args.skip_qemu),
                                      ("ferry", args.ferry, args.skip_ferry)) if not skip]
    for name, b in vmms:
        if not (os.path.exists(b) or shutil.which(b)):
            sys.exit(f"{name}: {b} not found")
    vmms = [(n, os.path.abspath(b) if os.path.exists(b) else shutil.which(b)) for n, b in vmms]
    paths.GUESTS = args.guests  # where test_debian_linux.debian_guest() puts the guest
    image, initrd = nq.debian_guest()

    print(f"# bench/net  commit {tree_commit(ROOT)}  {time.strftime('%Y-%m-%d %H:%M:%S')}")
    for name, b in vmms:
        print(f"#   {name}: {describe_binary(b)}")
        tree = os.path.dirname(os.path.dirname(b))
        if name == "ferry" and os.path.exists(os.path.join(tree, ".git")):
            print(f"#   {'':{len(name)}}  built in {tree}, commit {tree_commit(tree)}")
    print(f"#   guest: {os.path.realpath(image)}, {os.path.realpath(initrd)}")
    print(f"#   traffic: {args.mib} MiB per TCP transfer, UDP {args.udp_seconds:g} s at "
          + (f"{args.udp_rate:g}/s" if args.udp_rate > 0 else "the client's full speed")
          + f", {args.reps} runs per VMM; migrate: an echo line every "
          f"{args.interval * 1000:g} ms, {args.migrate_reps} runs per VMM; the VMMs alternate")
    print(f"#   load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
          flush=True)

    tmp = tempfile.mkdtemp(prefix="ferry-netbench-")
    failed = []
    t_start = time.monotonic()
    traffic = {n: [] for n, _ in vmms}
    migrate = {n: [] for n, _ in vmms}
    names = [n for n, _ in vmms]
    try:
        for part, fn, results, reps in (("traffic", traffic_once, traffic, args.reps),
                                        ("migrate", migrate_once, migrate, args.migrate_reps)):
            if part not in parts:
                continue
            for rep in range(reps):
                for name, b in vmms:
                    t0 = time.monotonic()
                    try:
                        r = fn(b, tmp, args)
                    except (RuntimeError, AssertionError, OSError, ValueError) as e:
                        failed.append(f"{part} {name} rep {rep + 1}: {type(e).__name__}: {e}")
                        print(f"  {part} rep {rep + 1} {name}: FAILED: {e}", flush=True)
                        continue
                    results[name].append(r)
                    shown = {k: v for k, v in r.items()
                             if args.verbose or not k.endswith("detail")}
                    print(f"  {part} rep {rep + 1} {name}: "
                          + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in shown.items())
                          + f" ({time.monotonic() - t0:.0f} s)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if "traffic" in parts:
        table(f"Guest TCP throughput over the tap, MiB/s ({args.mib} MiB each way), and the "
              "VMM's CPU time over each transfer (% of one core)", traffic, names,
              ["h2g MiB/s", "g2h MiB/s", "sendfile MiB/s", "h2g cpu %", "g2h cpu %",
               "sendfile cpu %"],
              ["h2g: host->guest, the client sends, the guest's dd reads the socket "
               "(nc -l -e dd of=/dev/null bs=64k iflag=fullblock)",
               "g2h: guest->host, the guest's dd writes zeros into the socket "
               "(nc -e dd if=/dev/zero bs=64k), the client reads",
               f"sendfile: guest->host, the client GETs a {HTTP_FILE_MIB} MiB tmpfs file "
               "from the guest's busybox httpd (sendfile) until it has the same MiB",
               "f/Q = ferry/QEMU: > 1 ferry faster (MiB/s), ferry uses more CPU (cpu %)"])
        table("Packet rate: 60-byte UDP frames from the client to the guest, per second",
              traffic, names,
              ["udp sent/s", "udp rx pkt/s", "udp rx %", "tap read/s", "tap drop/s",
               "udp cpu %"],
              ["udp rx pkt/s: the guest's eth0 rx_packets (driver) over the flood; "
               "udp rx %: of those sent",
               "tap read/s: frames the VMM read from its tap; tap drop/s: dropped by the "
               "tap (the VMM did not read them in time)",
               "f/Q = ferry/QEMU: > 1 ferry received more"])
    if "migrate" in parts:
        table("Hand-over gap during a live migration, an echo stream over one TCP "
              f"connection (a line every {args.interval * 1000:g} ms), ms", migrate, names,
              ["downtime ms", "STOP>RESUME ms", "rarp ms", "resume>echo ms", "stop>echo ms",
               "silence ms", "base ms"],
              ["downtime: query-migrate's; STOP>RESUME: source STOP event to destination "
               "RESUME event; rarp: RESUME to the",
               "first RARP announce on tapdst; resume>echo: RESUME to the client's first "
               "echo after it; stop>echo: the same from STOP",
               "silence: the longest gap between two echoes from migrate on; base: the "
               "same in the second before migrate",
               "f/Q = ferry/QEMU: < 1 ferry shorter"])
        for name in names:
            runs = migrate[name]
            if runs:
                stalls = sum(r["silence ms"] >= STALL_MS for r in runs)
                print(f"{name}: resume>echo per run (ms) "
                      + " ".join(f"{r['resume>echo ms']:.0f}" for r in runs)
                      + "; silence per run (ms) "
                      + " ".join(f"{r['silence ms']:.0f}" for r in runs)
                      + f"; {stalls} of {len(runs)} with a silence of {STALL_MS} ms or more")
        print(f"A silence of ~200 ms is TCP's loss probe: a line the client sent between the "
              f"source's STOP and the\nannounce reaching the bridge went to the stopped source "
              f"and was lost; with Nagle (the stream\nclient's default) the next lines wait "
              f"for its ACK, so only the probe sends again.")
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{time.monotonic() - t_start:.0f} s")
    return exit_status(failed)


if __name__ == "__main__":
    sys.exit(main())
