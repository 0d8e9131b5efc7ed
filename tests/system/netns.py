"""Network namespaces for the network tests: a small L2 segment on which VMMs
are hosts, built as root with iproute2 and always torn down.

    with netns.Topology("mig") as t:        # or t = Topology(...); ...; t.close()
        # t.host: namespace of the VMMs: bridge t.bridge ("br0") with the taps
        #         t.tap_src ("tapsrc") and t.tap_dst ("tapdst"), and the
        #         veth "vclient" leading to the client
        # t.client: namespace with "eth0" = t.client_addr (10.77.0.1/24)
        vmm = t.host.popen(["qemu-system-riscv64", ..., "-netdev",
                            f"tap,id=n0,ifname={t.tap_src},script=no,downscript=no", ...])
        t.host.argv(["qemu-system-riscv64", ...])  # the same as a command line
        t.client.run(["cat", "/proc/net/arp"])     # -> CompletedProcess (text)
        t.fdb_port("52:54:00:12:34:56")     # -> "tapsrc": the bridge port of a MAC
        t.host.link_stats(t.tap_src)       # -> {"rx_packets": ..., "tx_bytes": ...}
        cap = t.capture([ETH_P_RARP, ETH_P_ARP])   # every interface of the host side
        cap.frames()  # -> [Frame(t, ifname, pkttype, ethertype, src, dst, data)]
        c = StreamClient(t.client, "10.77.0.2", 7000)  # numbered lines to an echo
        c.wait_echoes(50, timeout=30); c.echoes()  # -> [(seq, t_sent, t_echoed)]
        c.finish()    # -> {"sent": N, "echoed": N, "bad": [], "eof": True}
        t.rate_limit(t.tap_src, "10mbit")  # tbf on what the bridge sends to the VMM

    ns = netns.Namespace.create("user")     # a lone namespace (lo up), e.g. for
    ...; ns.delete()                        # slirp's loopback services

Times (Frame.t, the stream's) are time.time(), the clock of QMP event
timestamps. A Frame's ifname and pkttype say where it was seen: a frame a VMM
wrote into its tap is received there (pkttype 0-3), PACKET_OUTGOING is a copy
the bridge sent out of a port.

Names: every namespace is called ferry-TAG-PID-N-ROLE, so test modules running
at once never collide; the links are created inside the namespaces (never in
the root namespace), so their short fixed names (15 bytes at most) cannot
collide either. Namespaces left behind by a run that was killed (its PID gone)
are deleted by the next run when no process is inside them.

Not root, or no namespaces/bridges/taps on this kernel: NetnsError (an
AssertionError), so the tests fail with the reason; they are never skipped.

Taps are made with `ip tuntap add NAME mode tap` (persistent, one queue) and
are up and in the bridge before a VMM opens them by name (QEMU: -netdev
tap,ifname=NAME,script=no,downscript=no). IPv6 is off in every namespace,
so the only frames on the segment are the ones the tests cause.

Run as a program inside a namespace, this file is also the capture tool and the
TCP stream client the tests use (see main()).
"""
import argparse
import atexit
import collections
import ctypes
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_RARP = 0x8035
PACKET_OUTGOING = 4  # sll_pkttype of a frame the interface sent

PREFIX = "ferry-"
_counter = itertools.count(1)
_live = []  # namespaces to delete at exit, in case a test forgot or died


class NetnsError(AssertionError):
    pass


def _run(argv, check=True, timeout=30, input=None):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise NetnsError(f"{argv[0]} is not installed (Debian package iproute2)") from None
    if check and r.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def require_root():
    if os.geteuid() != 0:
        raise NetnsError("the network tests build network namespaces, bridges and taps: run "
                         "them as root")


_prctl = ctypes.CDLL(None).prctl  # looked up here: the forked child only calls it


def _die_with_parent():
    # PR_SET_PDEATHSIG survives the exec of `ip netns exec` and of the program.
    _prctl(1, signal.SIGKILL, 0, 0, 0)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def list_namespaces():
    r = _run(["ip", "netns", "list"])
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def remove_stale():
    """Deletes ferry-* namespaces of runs whose process is gone, when empty."""
    pattern = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9]+-(\d+)-\d+-[a-z]+$")
    for name in list_namespaces():
        m = pattern.match(name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        if _run(["ip", "netns", "pids", name], check=False).stdout.strip():
            continue  # something still runs there: not ours to end
        _run(["ip", "netns", "del", name], check=False)


class Namespace:
    """One named network namespace (ip netns), lo up, IPv6 off."""

    def __init__(self, name):
        self.name = name
        self.procs = []  # what popen() started, ended by delete()

    @classmethod
    def create(cls, tag, role="ns"):
        require_root()
        if not re.fullmatch(r"[A-Za-z0-9]+", tag) or not re.fullmatch(r"[a-z]+", role):
            raise ValueError(f"bad namespace tag/role {tag!r}/{role!r}")
        name = f"{PREFIX}{tag}-{os.getpid()}-{next(_counter)}-{role}"
        r = _run(["ip", "netns", "add", name], check=False)
        if r.returncode != 0:
            raise NetnsError(f"cannot create network namespace {name} (ip netns add: "
                             f"{r.stderr.strip()}); the network tests need root and a kernel "
                             f"with network namespaces")
        ns = cls(name)
        _live.append(ns)
        try:
            # /proc/sys/net is the writer's namespace's (no need for procps' sysctl).
            ns.run(["sh", "-c", "echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 && "
                    "echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6"])
            ns.ip("link", "set", "lo", "up")
        except BaseException:
            ns.delete()
            raise
        return ns

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, check=True, timeout=30, input=None):
        """Runs argv inside the namespace; returns the CompletedProcess (text)."""
        return _run(self.argv(argv), check=check, timeout=timeout, input=input)

    def popen(self, argv, **kw):
        """Starts argv inside the namespace (`ip netns exec` execs it: the
        Popen's pid is the program's own); delete() ends it if still running,
        and it is killed if the test process dies first."""
        kw.setdefault("preexec_fn", _die_with_parent)
        p = subprocess.Popen(self.argv(argv), **kw)
        self.procs.append(p)
        return p

    def ip(self, *args):
        return _run(["ip", "-n", self.name] + list(args)).stdout

    def link_stats(self, dev):
        """The interface's counters: rx_packets, rx_bytes, tx_packets, tx_bytes,
        rx_dropped, tx_dropped (for a tap, rx = what the VMM wrote into it)."""
        info = json.loads(_run(["ip", "-n", self.name, "-s", "-j", "link", "show", dev]).stdout)
        s = info[0]["stats64"]
        return {f"{d}_{k}": s[d][k] for d in ("rx", "tx") for k in ("packets", "bytes", "dropped")}

    def pids(self):
        r = _run(["ip", "netns", "pids", self.name], check=False)
        return [int(p) for p in r.stdout.split()]

    def delete(self):
        """Ends what runs inside (our own processes: nothing else can be in
        this namespace) and deletes it; its links go with it."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdin, p.stdout, p.stderr):
                if f is not None:
                    try:
                        f.close()
                    except (OSError, ValueError):
                        pass
        self.procs = []
        if self.name not in list_namespaces():
            if self in _live:
                _live.remove(self)
            return
        for pid in self.pids():  # e.g. a child of something we started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        _run(["ip", "netns", "del", self.name], check=False)
        if self.name in list_namespaces():
            raise NetnsError(f"could not delete network namespace {self.name}")
        if self in _live:
            _live.remove(self)


def _delete_leftovers():
    for ns in list(_live):
        try:
            ns.delete()
        except Exception as e:
            print(f"netns: {e}", file=sys.stderr)


atexit.register(_delete_leftovers)


class Topology:
    """Two hosts' taps and a client on one bridge:

        [host ns]  br0 ── tapsrc   (the source VMM's NIC)
                       ── tapdst   (the destination VMM's NIC)
                       ── vclient ═══ eth0 [client ns] client_addr
    """

    bridge = "br0"
    tap_src = "tapsrc"
    tap_dst = "tapdst"
    veth = "vclient"
    client_if = "eth0"

    def __init__(self, tag="net", client_addr="10.77.0.1/24"):
        require_root()
        remove_stale()
        self.client_addr = client_addr
        self.client_ip = client_addr.split("/")[0]
        self.host = self.client = None
        self.captures = []
        try:
            self.host = Namespace.create(tag, "host")
            self.client = Namespace.create(tag, "client")
            h = self.host
            h.ip("link", "add", self.bridge, "type", "bridge", "stp_state", "0")
            for tap in (self.tap_src, self.tap_dst):
                h.ip("tuntap", "add", tap, "mode", "tap")
                h.ip("link", "set", tap, "master", self.bridge, "up")
            h.ip("link", "add", self.veth, "type", "veth", "peer", "name", self.client_if,
                 "netns", self.client.name)
            h.ip("link", "set", self.veth, "master", self.bridge, "up")
            h.ip("link", "set", self.bridge, "up")
            self.client.ip("addr", "add", client_addr, "dev", self.client_if)
            self.client.ip("link", "set", self.client_if, "up")
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        errors = []
        for c in self.captures:
            c.stop()
        for ns in (self.client, self.host):
            if ns is not None:
                try:
                    ns.delete()
                except NetnsError as e:
                    errors.append(str(e))
        if errors:
            raise NetnsError("; ".join(errors))

    def fdb(self):
        """The bridge's forwarding database: [{"mac", "ifname", "state", ...}]."""
        return json.loads(_run(["bridge", "-n", self.host.name, "-j", "fdb", "show", "br",
                                self.bridge]).stdout)

    def fdb_port(self, mac):
        """The bridge port on which `mac` was learned (None: not known)."""
        mac = mac.lower()
        for e in self.fdb():
            if e.get("mac") == mac and "self" not in e.get("flags", []):
                return e.get("ifname")
        return None

    def capture(self, ethertypes, iface=None):
        """Starts capturing frames of `ethertypes` in the host namespace (on
        `iface`, or on every interface); stopped by close()."""
        c = Capture(self.host, ethertypes, iface)
        self.captures.append(c)
        return c

    def rate_limit(self, dev, rate="10mbit", burst="32kb", latency="50ms"):
        """Caps what the host side sends out of `dev` with a tbf qdisc."""
        self.host.run(["tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate,
                       "burst", burst, "latency", latency])


Frame = collections.namedtuple("Frame", "t ifname pkttype ethertype src dst data")


class _Lines:
    """Reads a subprocess's stdout lines in the background."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        try:
            for line in self.proc.stdout:
                with self.cond:
                    self.lines.append(line.rstrip("\n"))
                    self.cond.notify_all()
        except (OSError, ValueError):
            pass  # closed by Namespace.delete()
        with self.cond:
            self.lines.append(None)  # EOF
            self.cond.notify_all()

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if line is not None and predicate(line):
                        return line
                if None in self.lines:
                    err = self.proc.stderr.read()[-1500:] if self.proc.stderr else ""
                    raise NetnsError(f"{what}: the tool exited ({self.proc.poll()}): {err}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NetnsError(f"{what}: not within {timeout} s; got {self.lines[-5:]}")
                self.cond.wait(min(remaining, 0.2))

    def snapshot(self):
        with self.cond:
            return [l for l in self.lines if l is not None]


def _tool(ns, args, stdin=subprocess.DEVNULL):
    return ns.popen([sys.executable, "-u", os.path.abspath(__file__)] + list(args),
                    stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Capture:
    """Frames of some ethertypes seen in a namespace (an AF_PACKET socket in a
    helper process), each with its arrival time (time.time(), the clock of QMP
    event timestamps)."""

    def __init__(self, ns, ethertypes, iface=None):
        args = ["capture"] + [f"0x{e:04x}" for e in ethertypes]
        if iface:
            args += ["--iface", iface]
        self.proc = _tool(ns, args)
        self.out = _Lines(self.proc)
        self.out.wait_for(lambda l: l == "ready", 15, "capture")

    def frames(self):
        got = []
        for line in self.out.snapshot():
            if line.startswith("{"):
                d = json.loads(line)
                got.append(Frame(d["t"], d["ifname"], d["pkttype"], d["ethertype"], d["src"],
                                 d["dst"], bytes.fromhex(d["data"])))
        return got

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.thread.join(timeout=5)
        return self.frames()


class StreamClient:
    """A TCP connection from a namespace to an echo service that sends
    numbered lines ("%08d\\n") every `interval` s and reads them back.

    echoes() -> [(seq, t_sent, t_echoed)] so far; finish() stops sending,
    half-closes, reads the rest of the echo and returns the summary
    {"sent": N, "echoed": N, "bad": [...first wrong lines...], "eof": bool}."""

    def __init__(self, ns, addr, port, interval=0.02, connect_timeout=60):
        self.proc = _tool(ns, ["stream", addr, str(port), "--interval", str(interval),
                               "--connect-timeout", str(connect_timeout)],
                          stdin=subprocess.PIPE)
        self.out = _Lines(self.proc)
        self.out.wait_for(lambda l: l.startswith("connected"), connect_timeout + 10,
                          f"stream client to {addr}:{port}")

    def echoes(self):
        got = []
        for line in self.out.snapshot():
            if line.startswith("E "):
                _, seq, sent, echoed = line.split()
                got.append((int(seq), float(sent), float(echoed)))
        return got

    def wait_echoes(self, count, timeout):
        self.out.wait_for(lambda l: l.startswith("E ") and int(l.split()[1]) >= count - 1,
                          timeout, f"{count} echoed lines")

    def wait_echoed_after(self, t, timeout):
        """Waits for a line echoed at time.time() `t` or later."""
        self.out.wait_for(lambda l: l.startswith("E ") and float(l.split()[3]) >= t,
                          timeout, f"an echo after {t:.3f}")

    def finish(self, timeout=60):
        self.proc.stdin.close()  # the tool's signal to stop sending
        line = self.out.wait_for(lambda l: l.startswith("DONE "), timeout, "stream end")
        self.proc.wait(timeout=10)
        return json.loads(line[5:])


# --- the tools, run inside a namespace -------------------------------------------------------

def _mac(b):
    return ":".join(f"{x:02x}" for x in b)


def capture_main(args):
    wanted = {int(e, 0) for e in args.ethertypes}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    if args.iface:
        s.bind((args.iface, ETH_P_ALL))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        data, addr = s.recvfrom(65536)
        t = time.time()
        if len(data) < 14:
            continue
        ethertype = int.from_bytes(data[12:14], "big")
        if ethertype not in wanted:
            continue
        print(json.dumps({"t": t, "ifname": addr[0], "pkttype": addr[2], "ethertype": ethertype,
                          "dst": _mac(data[0:6]), "src": _mac(data[6:12]),
                          "data": data[:128].hex()}), flush=True)


def _echo_handshake(addr, port):
    """A connection whose first line came back: a forwarder (slirp's hostfwd)
    accepts even while nothing listens behind it, then resets."""
    s = socket.create_connection((addr, port), timeout=5)
    try:
        sent = time.time()
        s.sendall(b"%08d\n" % 0)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(64)
            if not chunk:
                raise ConnectionResetError("closed before the first echo")
            buf += chunk
        echoed = time.time()
        if buf != b"%08d\n" % 0:
            raise ConnectionError(f"first echo {buf!r}")
    except BaseException:
        s.close()
        raise
    return s, sent, echoed


def stream_main(args):
    deadline = time.monotonic() + args.connect_timeout
    while True:
        try:
            s, sent0, echoed0 = _echo_handshake(args.addr, args.port)
            break
        except OSError as e:
            if time.monotonic() > deadline:
                print(f"no echo from {args.addr}:{args.port}: {e}", file=sys.stderr)
                return 1
            time.sleep(0.2)
    s.settimeout(None)
    print("connected", flush=True)
    print(f"E 0 {sent0:.6f} {echoed0:.6f}", flush=True)
    sent_at = {}
    lock = threading.Lock()
    stop = threading.Event()
    summary = {"sent": 1, "echoed": 1, "bad": [], "eof": False}

    def receive():
        buf = b""
        expected = 1
        while True:
            chunk = s.recv(65536)
            if not chunk:
                summary["eof"] = True
                return
            t = time.time()
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                want = b"%08d" % expected
                if line != want and len(summary["bad"]) < 10:
                    summary["bad"].append([expected, line.decode(errors="replace")])
                with lock:
                    sent = sent_at.get(expected, 0.0)
                print(f"E {expected} {sent:.6f} {t:.6f}", flush=True)
                expected += 1
                summary["echoed"] = expected

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    seq = 1
    next_t = time.monotonic()
    while not stop.is_set():
        with lock:
            sent_at[seq] = time.time()
        s.sendall(b"%08d\n" % seq)
        seq += 1
        next_t += args.interval
        stop.wait(max(0.0, next_t - time.monotonic()))
    summary["sent"] = seq
    s.shutdown(socket.SHUT_WR)  # the echo service sees EOF and closes
    reader.join(timeout=args.connect_timeout)
    print("DONE " + json.dumps(summary), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description="network test tools (run inside a namespace)")
    sub = p.add_subparsers(dest="tool", required=True)
    c = sub.add_parser("capture", help="print frames of some ethertypes as JSON lines")
    c.add_argument("ethertypes", nargs="+", help="e.g. 0x8035 0x0806")
    c.add_argument("--iface", help="one interface (default: all of the namespace)")
    st = sub.add_parser("stream", help="numbered lines to an echo service; stop: close stdin")
    st.add_argument("addr")
    st.add_argument("port", type=int)
    st.add_argument("--interval", type=float, default=0.02)
    st.add_argument("--connect-timeout", type=float, default=60)
    args = p.parse_args()
    return capture_main(args) if args.tool == "capture" else stream_main(args)


if __name__ == "__main__":
    sys.exit(main())
