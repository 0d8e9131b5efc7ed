"""Live migration, end to end: ferry processes migrated over every transport,
with a guest whose output proves that nothing was lost.

A deterministic guest (`checksum`: prints one line per phase and a final
CRC) runs on a source; at some moment it is migrated to a destination
started with -incoming. The source's serial output followed by the
destination's must equal the output of a run without migration, and the
destination must exit 0 when the guest powers off. Faults (cancel, a killed
destination, a mismatched RAM size, damaged streams) must fail cleanly: the
source resumes and still computes the right result, a destination with a
bad stream exits non-zero with a message and never runs the guest.

The harness speaks QMP (qmp.py) and works against QEMU too:
    MIGRATION_VMM=qemu-system-riscv64 python3 -m unittest -v test_migration
(tests of ferry-only features — the file: transport, ferry's stream header —
adapt or skip themselves).
"""
import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import paths
from qmp import Qmp, QmpTimeout

VMM = os.environ.get("MIGRATION_VMM") or paths.FERRY
IS_QEMU = "qemu" in os.path.basename(VMM)
BOARD = ["-M", "virt", "-m", "256M", "-nographic"]
FINAL_STATES = ("completed", "failed", "cancelled")
SLOW_BANDWIDTH = 20_000_000  # bytes/s: keeps a migration of 256 MiB going for seconds
CRAWL_BANDWIDTH = 500_000    # bytes/s: a migration that would take minutes
FAST_BANDWIDTH = 1 << 30


def guest_args(guest, ram="256M"):
    return ["-M", "virt", "-m", ram, "-bios", "none", "-nographic",
            "-kernel", paths.guest(guest)]


# --- reference runs (no migration), once per guest ----------------------------------------

_references = {}


def reference(guest):
    """(serial output, wall time in s) of `guest` run without migration."""
    if guest not in _references:
        start = time.monotonic()
        p = subprocess.run([VMM] + guest_args(guest), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        elapsed = time.monotonic() - start
        if p.returncode != 0:
            raise AssertionError(f"{guest} fails without migration: rc {p.returncode}, "
                                 f"stderr {p.stderr[-500:]!r}")
        _references[guest] = (p.stdout, elapsed)
    return _references[guest]


# --- listening sockets ------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_socket_in_state(port, state, remote=False, proc="/proc"):
    """True when a TCP socket whose local (or, with `remote`, remote) port is
    `port` is in `state` ("0A" listening, "02" SYN-SENT), per /proc/net/tcp*
    (or /proc/PID/net/tcp*: the network namespace of process PID)."""
    column = 2 if remote else 1
    for table in (f"{proc}/net/tcp", f"{proc}/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[column].rsplit(":", 1)[1], 16) == port and cols[3] == state:
                        return True
        except FileNotFoundError:
            pass
    return False


def _tcp_listening(port, proc="/proc"):
    return tcp_socket_in_state(port, "0A", proc=proc)


def _unix_listening(path, proc="/proc"):
    with open(f"{proc}/net/unix") as f:
        next(f)
        for line in f:
            cols = line.split()
            if len(cols) >= 8 and cols[7] == path and int(cols[3], 16) & 0x10000:
                return True
    return False


def wait_listening(uri, vmm, timeout=30.0):
    """Waits until the destination listens on a tcp: or unix: URI (without
    connecting, which would use up its one accept)."""
    proc = f"/proc/{vmm.proc.pid}"  # the VMM's view: it may run in another network namespace
    if uri.startswith("tcp:"):
        port = int(uri.rsplit(":", 1)[1])
        check = lambda: _tcp_listening(port, proc)
    elif uri.startswith("unix:"):
        path = uri[len("unix:"):]
        check = lambda: _unix_listening(path, proc)
    else:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                break
        except OSError:  # /proc/PID/net is gone with the process: reported below
            pass
        if vmm.proc.poll() is not None:
            raise AssertionError(f"{vmm.name} exited ({vmm.proc.returncode}) before listening on "
                                 f"{uri}: {vmm.stderr_text()[-1000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{vmm.name} does not listen on {uri} after {timeout}s")
        time.sleep(0.02)


# --- one VMM process --------------------------------------------------------------------

class Vmm:
    """A VMM process with its serial output collected in the background, a
    QMP connection, and (optionally) a serial input pipe."""

    def __init__(self, tmpdir, name, args, incoming=None, pass_fds=(), stdin=False, qmp=True,
                 extra=(), vmm=None, wrapper=()):
        """`vmm`: the program (default: VMM); `wrapper`: what runs it (e.g.
        `ip netns exec NS`, which execs it: proc.pid is the VMM's own)."""
        self.name = name
        self.qmp_path = os.path.join(tmpdir, name + ".qmp")
        argv = list(wrapper) + [vmm or VMM] + list(args)
        if qmp:
            argv += ["-qmp", f"unix:{self.qmp_path},server,nowait"]
        if incoming:
            argv += ["-incoming", incoming]
        argv += list(extra)
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=tuple(pass_fds))
        self._out = bytearray()
        self._err = bytearray()
        self._pos = 0  # expect() consumed the output up to here
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._pump, args=(f, buf), daemon=True)
                         for f, buf in ((self.proc.stdout, self._out),
                                        (self.proc.stderr, self._err))]
        for t in self._readers:
            t.start()
        self.qmp = None
        if qmp:
            try:
                self.qmp = Qmp(self.qmp_path, timeout=30, alive=lambda: self.proc.poll() is None,
                               describe=self.describe)
            except Exception as e:
                self.kill()
                raise AssertionError(f"{name}: no QMP ({e}); stderr: "
                                     f"{self.stderr_text()[-1000:]}") from e

    def _pump(self, f, buf):
        while True:
            chunk = os.read(f.fileno(), 65536)
            if not chunk:
                break
            with self._cond:
                buf += chunk
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def describe(self):
        time.sleep(0.2)  # let a dying process finish
        return (f"{self.name}: exit {self.proc.poll()}, stderr {self.stderr_text()[-800:]!r}, "
                f"output {self.output()[-300:]!r}")

    # output
    def output(self):
        with self._cond:
            return bytes(self._out)

    def stderr_text(self):
        with self._cond:
            return self._err.decode(errors="replace")

    def expect(self, pattern, timeout=60.0):
        """Waits for `pattern` (bytes regex) in the serial output after what
        the last expect() consumed; returns the text before it."""
        regex = re.compile(pattern if isinstance(pattern, bytes) else pattern.encode())
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = regex.search(self._out, self._pos)
                if m:
                    before = bytes(self._out[self._pos:m.start()])
                    self._pos = m.end()
                    return before.decode(errors="replace")
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and
                                      not any(t.is_alive() for t in self._readers)):
                    raise AssertionError(
                        f"{self.name}: no {pattern!r} within {timeout}s; last output: "
                        f"{bytes(self._out[-600:])!r}; stderr: {self._err[-600:]!r}")
                self._cond.wait(min(remaining, 0.2))

    # input
    def send(self, text):
        self.proc.stdin.write(text.encode() if isinstance(text, str) else text)
        self.proc.stdin.flush()

    def type_slowly(self, text, delay=0.01):
        for ch in text:
            self.send(ch)
            time.sleep(delay)

    # QMP shortcuts
    def run_state(self):
        return self.qmp.command("query-status")["status"]

    def migration(self):
        return self.qmp.command("query-migrate")

    def set_parameters(self, **params):
        self.qmp.command("migrate-set-parameters",
                         {k.replace("_", "-"): v for k, v in params.items()})

    # life
    def wait(self, timeout=120.0):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still runs after {timeout}s; last output "
                                 f"{self.output()[-400:]!r}; stderr "
                                 f"{self.stderr_text()[-600:]}") from None
        for t in self._readers:
            t.join(timeout=10)
        return rc

    def quit(self, timeout=60.0):
        try:
            self.qmp.cmd("quit", timeout=10)
        except (ConnectionError, OSError, QmpTimeout):
            pass  # the VMM may close the socket before replying
        return self.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.qmp is not None:
            self.qmp.close()
        for t in self._readers:
            t.join(timeout=5)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass


def _query(vmm, history):
    """query-migrate, with a clear failure when the VMM is gone."""
    try:
        info = vmm.migration()
    except (ConnectionError, OSError, QmpTimeout) as e:
        raise AssertionError(
            f"{vmm.name}: lost QMP during the migration (exit code {vmm.proc.poll()}; a source "
            f"whose guest powered off ends the migration); statuses so far: {history[-8:]}; "
            f"{e}") from None
    ram = info.get("ram", {})
    history.append((info.get("status"), ram.get("transferred"), ram.get("remaining")))
    return info


def wait_migration(vmm, timeout=180.0, states=FINAL_STATES):
    """Polls query-migrate until its status is one of `states`; returns it."""
    deadline = time.monotonic() + timeout
    history = []
    info = {}
    while time.monotonic() < deadline:
        info = _query(vmm, history)
        if info.get("status") in states:
            return info
        time.sleep(0.05)
    raise AssertionError(f"{vmm.name}: migration not in {states} after {timeout}s: {info}")


def wait_transferred(vmm, at_least, timeout=60.0):
    """Waits until an active migration moved `at_least` bytes of RAM."""
    deadline = time.monotonic() + timeout
    history = []
    info = {}
    while time.monotonic() < deadline:
        info = _query(vmm, history)
        if info.get("status") not in ("setup", "active"):
            raise AssertionError(f"{vmm.name}: migration ended early: {info}")
        if info.get("ram", {}).get("transferred", 0) >= at_least:
            return info
        time.sleep(0.05)
    raise AssertionError(f"{vmm.name}: less than {at_least} bytes moved in {timeout}s: {info}")


class MigrationTestCase(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-mig-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def vmm(self, name, args, **kw):
        v = Vmm(self.tmp, name, args, **kw)
        self.addCleanup(v.kill)
        return v

    def source(self, guest="checksum", name="src", ram="256M", **kw):
        reference(guest)  # before the source starts: delay() needs its run time
        return self.vmm(name, guest_args(guest, ram), **kw)

    def destination(self, uri, guest="checksum", name="dst", ram="256M", **kw):
        v = self.vmm(name, guest_args(guest, ram), incoming=uri, **kw)
        wait_listening(uri, v)
        return v

    def tcp_uri(self):
        return f"tcp:127.0.0.1:{free_port()}"

    def delay(self, guest, fraction):
        """Sleeps `fraction` of the guest's run time without migration."""
        time.sleep(reference(guest)[1] * fraction)

    def migrate(self, src, uri, expect="completed", timeout=180.0):
        src.qmp.command("migrate", uri=uri)
        info = wait_migration(src, timeout)
        self.assertEqual(info.get("status"), expect, f"{src.name}: {info}")
        return info

    def finish(self, guest, src, *dsts, quit_source=True):
        """The source (paused after a completed migration) is told to quit;
        the last destination runs the guest to its end. Their outputs, in
        order, must be the reference output."""
        ref = reference(guest)[0]
        if quit_source:
            self.assertEqual(src.run_state(), "postmigrate")
            self.assertEqual(src.quit(), 0, src.stderr_text())
        for middle in dsts[:-1]:
            self.assertEqual(middle.run_state(), "postmigrate")
            self.assertEqual(middle.quit(), 0, middle.stderr_text())
        last = dsts[-1]
        rc = last.wait(timeout=180)
        combined = src.output() + b"".join(d.output() for d in dsts)
        self.assertEqual(rc, 0, f"{last.name} stderr: {last.stderr_text()[-2000:]}; "
                         f"output: {combined.decode(errors='replace')}")
        combined = src.output() + b"".join(d.output() for d in dsts)
        self.assertEqual(combined.decode(errors="replace"), ref.decode(errors="replace"))
        self.assertNotEqual(last.output(), b"", "the guest printed nothing on the destination")


# --- the guest's result survives a migration -----------------------------------------------

class Determinism(MigrationTestCase):
    def check_tcp(self, fraction):
        src = self.source()
        uri = self.tcp_uri()
        dst = self.destination(uri)
        self.assertEqual(dst.run_state(), "inmigrate")
        self.delay("checksum", fraction)
        self.migrate(src, uri)
        self.finish("checksum", src, dst)

    def test_early(self):
        self.check_tcp(0.05)

    def test_mid(self):
        self.check_tcp(0.33)

    def test_twice_in_a_row(self):
        a = self.source(name="a")
        uri_b = self.tcp_uri()
        b = self.destination(uri_b, name="b")
        self.delay("checksum", 0.1)
        self.migrate(a, uri_b)
        uri_c = self.tcp_uri()
        c = self.destination(uri_c, name="c")
        self.delay("checksum", 0.2)
        self.assertEqual(b.run_state(), "running")
        self.migrate(b, uri_c)
        self.finish("checksum", a, b, c)

    def test_there_and_back(self):
        # A -> B, then B -> a fresh process in A's place (same name and QMP
        # socket path) once the old A has gone.
        a = self.source(name="a")
        uri_b = self.tcp_uri()
        b = self.destination(uri_b, name="b")
        self.delay("checksum", 0.1)
        self.migrate(a, uri_b)
        self.assertEqual(a.run_state(), "postmigrate")
        self.assertEqual(a.quit(), 0, a.stderr_text())
        uri_a = self.tcp_uri()
        a2 = self.destination(uri_a, name="a")
        self.delay("checksum", 0.2)
        self.migrate(b, uri_a)
        self.finish("checksum", a, b, a2, quit_source=False)

    def test_dirtier_mid_run(self):
        src = self.source("dirtier")
        uri = self.tcp_uri()
        dst = self.destination(uri, "dirtier")
        self.delay("dirtier", 0.4)
        self.migrate(src, uri)
        self.finish("dirtier", src, dst)
        self.assertIn(b"dirtier: PASS", dst.output())

    def test_fp_guest_mid_run(self):
        # An FP kernel rounding down (frm = RDN) keeps f registers and fflags
        # live all the time: they and mstatus.FS must travel (the cpu's fpu
        # subsection), or the result differs.
        src = self.source("fp-migrate")
        uri = self.tcp_uri()
        dst = self.destination(uri, "fp-migrate")
        self.delay("fp-migrate", 0.4)
        self.migrate(src, uri)
        self.finish("fp-migrate", src, dst)
        self.assertIn(b"fflags: 0x1", dst.output())


class Transports(MigrationTestCase):
    def test_unix(self):
        src = self.source()
        uri = "unix:" + os.path.join(self.tmp, "mig.sock")
        dst = self.destination(uri)
        self.delay("checksum", 0.2)
        self.migrate(src, uri)
        self.finish("checksum", src, dst)

    def test_exec(self):
        src = self.source()
        stream = os.path.join(self.tmp, "stream.bin")
        self.delay("checksum", 0.2)
        self.migrate(src, f"exec:cat > {stream}")
        self.assertGreater(os.path.getsize(stream), 1 << 20)
        dst = self.destination(f"exec:cat {stream}")
        self.finish("checksum", src, dst)

    def exec_into_listener(self, return_path):
        """The source pipes its stream through exec: into a relay that
        connects to the destination's tcp: listener."""
        relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay.py")
        src = self.source()
        uri = self.tcp_uri()
        dst = self.destination(uri)
        wait_listening(uri, dst)
        if return_path:
            src.qmp.command("migrate-set-capabilities",
                            capabilities=[{"capability": "return-path", "state": True}])
        self.delay("checksum", 0.2)
        port = uri.rsplit(":", 1)[1]
        info = self.migrate(src, f"exec:python3 {relay} {port}" + (" --both" if return_path else ""))
        return src, dst, info

    def test_exec_one_way_into_a_tcp_listener(self):
        # No way back: the source says so in the stream, and the destination
        # runs at its end instead of waiting for a GO that can't come.
        src, dst, info = self.exec_into_listener(return_path=False)
        if not IS_QEMU:
            steps = [s["step"] for s in info.get("ferry-downtime-steps", [])]
            self.assertNotIn("confirmed", steps)
        self.finish("checksum", src, dst)

    def test_exec_with_return_path_into_a_tcp_listener(self):
        # The command's stdout carries READY back and GO goes out.
        src, dst, info = self.exec_into_listener(return_path=True)
        if not IS_QEMU:
            steps = [s["step"] for s in info.get("ferry-downtime-steps", [])]
            self.assertIn("confirmed", steps)
            self.assertIn("go-sent", steps)
        self.finish("checksum", src, dst)

    @unittest.skipIf(IS_QEMU, "QEMU 7.2 has no file: migration transport")
    def test_file(self):
        src = self.source()
        stream = os.path.join(self.tmp, "stream.bin")
        self.delay("checksum", 0.2)
        self.migrate(src, f"file:{stream}")
        self.assertGreater(os.path.getsize(stream), 1 << 20)
        dst = self.destination(f"file:{stream}")
        self.finish("checksum", src, dst)

    def test_fd_from_getfd(self):
        mine, theirs = socket.socketpair()
        src = self.source()
        dst = self.destination(f"fd:{theirs.fileno()}", pass_fds=[theirs.fileno()])
        theirs.close()
        reply = src.qmp.cmd("getfd", fdname="migfd", fds=[mine.fileno()])
        mine.close()
        self.assertIn("return", reply, reply)
        self.delay("checksum", 0.2)
        self.migrate(src, "fd:migfd")
        self.finish("checksum", src, dst)

    def test_getfd_without_fd_and_closefd(self):
        src = self.source()
        reply = src.qmp.cmd("getfd", fdname="nothing")
        self.assertEqual(reply.get("error", {}).get("desc"),
                         "No file descriptor supplied via SCM_RIGHTS", reply)
        r, w = os.pipe()
        self.assertIn("return", src.qmp.cmd("getfd", fdname="spare", fds=[w]))
        os.close(w)
        self.assertIn("return", src.qmp.cmd("closefd", fdname="spare"))
        # The VMM's copy is closed: the pipe now has no writer left.
        self.assertEqual(os.read(r, 1), b"")
        os.close(r)
        reply = src.qmp.cmd("closefd", fdname="spare")
        self.assertIn("error", reply, reply)
        self.assertIn("spare", reply["error"]["desc"])


# --- what QMP shows --------------------------------------------------------------------

RAM_FIELDS = ("transferred", "remaining", "total", "duplicate", "normal", "normal-bytes",
              "dirty-pages-rate", "mbps", "dirty-sync-count", "pages-per-second")


class Monitoring(MigrationTestCase):
    def test_query_migrate_and_events(self):
        src = self.source()
        src.qmp.command("migrate-set-capabilities",
                        capabilities=[{"capability": "events", "state": True}])
        caps = {c["capability"]: c["state"]
                for c in src.qmp.command("query-migrate-capabilities")}
        self.assertTrue(caps.get("events"), caps)
        src.set_parameters(max_bandwidth=SLOW_BANDWIDTH)
        self.assertEqual(src.qmp.command("query-migrate-parameters")["max-bandwidth"],
                         SLOW_BANDWIDTH)
        before = src.migration()
        self.assertNotIn(before.get("status"), ("setup", "active"), before)
        uri = self.tcp_uri()
        dst = self.destination(uri)
        self.delay("checksum", 0.05)
        src.qmp.command("migrate", uri=uri)

        active = wait_transferred(src, 4 << 20)
        self.assertEqual(active["status"], "active", active)
        for key in ("total-time", "expected-downtime", "setup-time"):
            self.assertIn(key, active)
        self.assertNotIn("downtime", active)
        ram = active["ram"]
        for key in RAM_FIELDS:
            self.assertIn(key, ram)
        self.assertGreaterEqual(ram["total"], 256 << 20)
        self.assertGreater(ram["remaining"], 0)
        self.assertGreater(ram["normal"], 0)
        self.assertGreater(ram["mbps"], 0, "mbps must be measured during the first pass too "
                           f"(QEMU updates it every 100 ms): {active}")
        # The limit holds (generously: setup may send a burst).
        self.assertLess(ram["transferred"],
                        SLOW_BANDWIDTH * (active["total-time"] / 1000.0 + 1.0) * 1.5, active)
        self.assertEqual(src.run_state(), "running")

        # A new limit applies to the running migration at once (as in QEMU).
        src.set_parameters(max_bandwidth=FAST_BANDWIDTH)
        done = wait_migration(src)
        self.assertEqual(done["status"], "completed", done)
        for key in ("total-time", "downtime", "setup-time"):
            self.assertIn(key, done)
        self.assertGreaterEqual(done["total-time"], active["total-time"])
        ram = done["ram"]
        for key in RAM_FIELDS:
            self.assertIn(key, ram)
        self.assertEqual(ram["remaining"], 0)
        self.assertGreaterEqual(ram["transferred"], ram["normal-bytes"])
        self.assertGreaterEqual(ram["normal-bytes"], ram["normal"] * 4096)
        self.assertGreaterEqual(ram["dirty-sync-count"], 2)
        self.assertEqual(src.run_state(), "postmigrate")
        self.assertEqual(dst.run_state(), "running")

        src.qmp.poll_events(0.2)
        statuses = [e["data"]["status"] for e in src.qmp.take_events("MIGRATION")]
        self.assertEqual([s for s in statuses if s in ("setup", "active", "completed")],
                         ["setup", "active", "completed"], statuses)
        passes = [e["data"]["pass"] for e in src.qmp.take_events("MIGRATION_PASS")]
        self.assertGreaterEqual(len(passes), 1)
        self.assertEqual(passes, sorted(passes))
        self.assertEqual(passes[0], 1, passes)
        self.finish("checksum", src, dst)

    def test_new_bandwidth_applies_at_once(self):
        # At the first limit the migration would take minutes (the guest has
        # written some 70 MB); raised, it completes well within the deadline.
        src = self.source()
        src.set_parameters(max_bandwidth=CRAWL_BANDWIDTH)
        uri = self.tcp_uri()
        dst = self.destination(uri)
        src.qmp.command("migrate", uri=uri)
        self.assertEqual(wait_migration(src, 30, states=("active",) + FINAL_STATES)["status"],
                         "active")
        src.set_parameters(max_bandwidth=FAST_BANDWIDTH)
        info = wait_migration(src, timeout=60)
        self.assertEqual(info["status"], "completed",
                         f"the raised max-bandwidth was not applied to the running migration: {info}")
        self.finish("checksum", src, dst)

    def test_no_events_without_the_capability(self):
        src = self.source()
        uri = self.tcp_uri()
        dst = self.destination(uri)
        self.migrate(src, uri)
        src.qmp.poll_events(0.3)
        self.assertEqual(src.qmp.take_events("MIGRATION"), [])
        self.assertEqual(src.qmp.take_events("MIGRATION_PASS"), [])
        self.finish("checksum", src, dst)

    def test_destination_with_S_waits_for_cont(self):
        src = self.source()
        uri = self.tcp_uri()
        dst = self.destination(uri, extra=["-S"])
        self.delay("checksum", 0.2)
        self.migrate(src, uri)
        # The destination reports completed only after it settled its run
        # state: had it started the guest, RESUME would have come first.
        deadline = time.monotonic() + 30
        while dst.qmp.command("query-migrate").get("status") != "completed":
            self.assertLess(time.monotonic(), deadline, "the destination never completed")
            time.sleep(0.02)
        status = dst.qmp.command("query-status")
        self.assertFalse(status["running"], status)
        self.assertEqual(status["status"], "paused", status)
        self.assertEqual(dst.qmp.take_events("RESUME"), [])
        self.assertEqual(dst.output(), b"", "the guest ran before cont")
        dst.qmp.command("cont")
        self.finish("checksum", src, dst)

    def test_incoming_defer(self):
        src = self.source()
        dst = self.vmm("dst", guest_args("checksum"), incoming="defer")
        self.assertEqual(dst.run_state(), "inmigrate")
        uri = self.tcp_uri()
        dst.qmp.command("migrate-incoming", uri=uri)
        wait_listening(uri, dst)
        again = dst.qmp.cmd("migrate-incoming", uri=self.tcp_uri())
        self.assertIn("error", again, again)
        self.delay("checksum", 0.2)
        self.migrate(src, uri)
        self.finish("checksum", src, dst)

    def test_hmp_migrate_and_info(self):
        hmp_path = os.path.join(self.tmp, "hmp.sock")
        src = self.source(extra=["-monitor", f"unix:{hmp_path},server,nowait"])
        hmp = HmpClient(hmp_path)
        self.addCleanup(hmp.close)
        hmp.run("migrate_set_parameter max-bandwidth 100M")
        self.assertIn("max-bandwidth: 104857600 bytes/second",
                      hmp.run("info migrate_parameters"))
        hmp.run("migrate_set_parameter downtime-limit 500")
        self.assertIn("downtime-limit: 500 ms", hmp.run("info migrate_parameters"))
        self.assertIn("Error", hmp.run("migrate_set_parameter max-bandwidth 12x"))
        self.assertIn("Error", hmp.run("migrate_set_parameter no-such-thing 1"))
        hmp.run("migrate_set_capability events on")
        self.assertIn("events: on", hmp.run("info migrate_capabilities"))
        self.assertIn("Error", hmp.run("migrate foo:bar"))
        uri = self.tcp_uri()
        dst = self.destination(uri)
        self.delay("checksum", 0.1)
        out = hmp.run(f"migrate {uri}", timeout=180)  # blocks until done
        self.assertNotIn("Error", out)
        self.assertEqual(src.migration()["status"], "completed")
        if not IS_QEMU:
            self.assertIn("Migration status: completed", out)
        info = hmp.run("info migrate")
        self.assertIn("Migration status: completed", info)
        for line in ("total time: ", "downtime: ", "transferred ram: ", "total ram: ",
                     "normal: ", "dirty sync count: "):
            self.assertIn(line, info)
        self.finish("checksum", src, dst)


class HmpClient:
    """The human monitor on a UNIX socket: run() sends a line and returns
    what came back before the next prompt."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.buffer = b""
        self._until_prompt(timeout)

    def _until_prompt(self, timeout):
        deadline = time.monotonic() + timeout
        prompt = re.compile(rb"\((?:ferry|qemu)\) ")
        while True:
            m = prompt.search(self.buffer)
            if m:
                text = self.buffer[:m.start()]
                self.buffer = self.buffer[m.end():]
                # QEMU redraws the line while echoing: keep the last state of each line.
                lines = [ln.split(b"\x1b[K")[-1].split(b"\x1b[D")[-1]
                         for ln in text.replace(b"\r", b"").split(b"\n")]
                return b"\n".join(lines).decode(errors="replace")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no monitor prompt in {timeout}s: {self.buffer[-500:]!r}")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"monitor closed: {self.buffer[-500:]!r}")
            self.buffer += chunk

    def run(self, line, timeout=30.0):
        self.sock.sendall(line.encode() + b"\n")
        return self._until_prompt(timeout)

    def close(self):
        self.sock.close()


# --- refused and cancelled migrations ---------------------------------------------------

class Errors(MigrationTestCase):
    def test_second_migrate_refused(self):
        src = self.source()
        src.set_parameters(max_bandwidth=SLOW_BANDWIDTH)
        uri = self.tcp_uri()
        dst = self.destination(uri)
        src.qmp.command("migrate", uri=uri)
        wait_transferred(src, 1 << 20)
        reply = src.qmp.cmd("migrate", uri=self.tcp_uri())
        self.assertIn("error", reply, reply)
        self.assertEqual(reply["error"]["class"], "GenericError")
        self.assertTrue(reply["error"]["desc"])
        self.assertIn(src.migration()["status"], ("setup", "active"))
        # The first one goes on and succeeds.
        src.set_parameters(max_bandwidth=FAST_BANDWIDTH)
        self.assertEqual(wait_migration(src)["status"], "completed")
        self.finish("checksum", src, dst)

    def test_bad_uris(self):
        src = self.source()
        for uri in ("foo:bar", "tcp:nohost", "nothing"):
            with self.subTest(uri=uri):
                reply = src.qmp.cmd("migrate", uri=uri)
                self.assertIn("error", reply, reply)
                self.assertEqual(reply["error"]["class"], "GenericError")
                self.assertGreater(len(reply["error"]["desc"]), 5, reply)
                self.assertEqual(src.run_state(), "running")
        for uri in (f"tcp:127.0.0.1:{free_port()}", "unix:" + os.path.join(self.tmp, "none")):
            with self.subTest(uri=uri):
                # Nobody listens: refused at once, or failed soon after.
                reply = src.qmp.cmd("migrate", uri=uri)
                if "return" in reply:
                    info = wait_migration(src, 30)
                    self.assertEqual(info["status"], "failed", info)
                else:
                    self.assertTrue(reply["error"]["desc"])
                self.assertEqual(src.run_state(), "running")
        for args in ({"resume": True},):  # (blk / inc: block migration, tests in test_disk)
            with self.subTest(args=args):
                reply = src.qmp.cmd("migrate", dict(args, uri=self.tcp_uri()))
                self.assertIn("error", reply, reply)
                self.assertEqual(src.run_state(), "running")
        # Nothing is left stuck: a good migration still works.
        uri = self.tcp_uri()
        dst = self.destination(uri)
        self.migrate(src, uri)
        self.finish("checksum", src, dst)

    def cancel_mid_way(self):
        src = self.source()
        src.set_parameters(max_bandwidth=SLOW_BANDWIDTH)
        uri = self.tcp_uri()
        dst = self.destination(uri)
        self.delay("checksum", 0.05)
        src.qmp.command("migrate", uri=uri)
        wait_transferred(src, 4 << 20)
        src.qmp.command("migrate_cancel")
        info = wait_migration(src, 30)
        self.assertEqual(info["status"], "cancelled", info)
        self.assertEqual(src.run_state(), "running")
        # The destination saw the stream end early: it fails and exits.
        rc = dst.wait(timeout=60)
        self.assertNotEqual(rc, 0)
        self.assertEqual(dst.output(), b"", "the destination ran a half-migrated guest")
        return src

    def test_cancel_unblocks_an_exec_child_that_stopped_reading(self):
        # The child never reads: the source blocks writing into a full pipe.
        # migrate_cancel must end it at once, and the guest runs on.
        src = self.source()
        marker = os.path.join(self.tmp, "child.pid")
        src.qmp.command("migrate", uri=f"exec:echo $$ > {marker}; exec sleep 600")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            info = src.migration()
            if info.get("status") == "active" and os.path.exists(marker):
                break
            time.sleep(0.05)
        src.qmp.command("migrate_cancel")
        # The child sleeps 600 s: cancelled within the deadline means it did not wait for it.
        info = wait_migration(src, 10)
        self.assertEqual(info["status"], "cancelled", info)
        self.assertEqual(src.run_state(), "running")
        with open(marker) as f:
            pid = int(f.read())
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "the exec: child still runs")
        self.assertEqual(src.wait(timeout=180), 0, src.stderr_text())
        self.assertEqual(src.output().decode(errors="replace"),
                         reference("checksum")[0].decode(errors="replace"))

    def test_cancel_then_source_finishes(self):
        src = self.cancel_mid_way()
        self.assertEqual(src.wait(timeout=180), 0, src.stderr_text())
        self.assertEqual(src.output().decode(errors="replace"),
                         reference("checksum")[0].decode(errors="replace"))

    def test_cancel_then_retry(self):
        src = self.cancel_mid_way()
        src.set_parameters(max_bandwidth=FAST_BANDWIDTH)
        uri = self.tcp_uri()
        dst2 = self.destination(uri, name="dst2")
        self.migrate(src, uri)
        self.finish("checksum", src, dst2)


# --- faults -----------------------------------------------------------------------------

_saved_streams = {}
_stream_dir = tempfile.mkdtemp(prefix="ferry-mig-streams-")
atexit.register(shutil.rmtree, _stream_dir, ignore_errors=True)


class Faults(MigrationTestCase):
    def test_destination_killed(self):
        src = self.source()
        src.set_parameters(max_bandwidth=SLOW_BANDWIDTH)
        uri = self.tcp_uri()
        dst = self.destination(uri)
        self.delay("checksum", 0.05)
        src.qmp.command("migrate", uri=uri)
        wait_transferred(src, 4 << 20)
        dst.proc.kill()  # SIGKILL
        dst.wait()
        info = wait_migration(src, 60)
        self.assertEqual(info["status"], "failed", info)
        self.assertEqual(src.run_state(), "running")
        self.assertEqual(src.wait(timeout=180), 0, src.stderr_text())
        self.assertEqual(src.output().decode(errors="replace"),
                         reference("checksum")[0].decode(errors="replace"))

    def test_ram_size_mismatch(self):
        src = self.source()
        uri = self.tcp_uri()
        dst = self.destination(uri, ram="128M")
        self.delay("checksum", 0.1)
        src.qmp.command("migrate", uri=uri)
        info = wait_migration(src, 120)
        self.assertEqual(info["status"], "failed", info)
        self.assertEqual(src.run_state(), "running")
        rc = dst.wait(timeout=60)
        self.assertNotEqual(rc, 0)
        self.assertGreater(rc, 0, "the destination died of a signal")
        err = dst.stderr_text()
        self.assertRegex(err, r"(?i)ram")
        self.assertRegex(err, r"128|256|0x8000000|0x10000000|134217728|268435456")
        self.assertEqual(dst.output(), b"")
        self.assertEqual(src.wait(timeout=180), 0, src.stderr_text())
        self.assertEqual(src.output().decode(errors="replace"),
                         reference("checksum")[0].decode(errors="replace"))

    # Damaged streams, loaded from a file.
    def saved_stream(self):
        """A copy of a stream saved mid-run (made once), and the output the
        source printed before it."""
        if "checksum" not in _saved_streams:
            path = os.path.join(_stream_dir, "checksum.bin")
            src = self.source(name="saver")
            self.delay("checksum", 0.2)
            self.migrate(src, f"exec:cat > {path}" if IS_QEMU else f"file:{path}")
            before = src.output()
            self.assertEqual(src.quit(), 0)
            _saved_streams["checksum"] = (path, before)
        path, before = _saved_streams["checksum"]
        copy = os.path.join(self.tmp, "stream.bin")
        shutil.copyfile(path, copy)
        return copy, before

    def load(self, path):
        """Loads a stream file on a new destination; returns (rc, stderr)."""
        uri = f"exec:cat {path}" if IS_QEMU else f"file:{path}"
        # No QMP: a VMM refusing the stream may exit before opening its socket.
        dst = self.vmm("dst", guest_args("checksum"), incoming=uri, qmp=False)
        rc = dst.wait(timeout=120)
        return rc, dst.stderr_text(), dst.output()

    def assert_refused(self, path, pattern):
        rc, err, out = self.load(path)
        self.assertNotEqual(rc, 0, err)
        self.assertGreater(rc, 0, f"the destination died of signal {-rc}: {err}")
        self.assertRegex(err, pattern)
        self.assertEqual(out, b"", "the guest ran from a bad stream")

    def test_intact_stream_loads(self):
        path, before = self.saved_stream()
        rc, err, out = self.load(path)
        self.assertEqual(rc, 0, err)
        self.assertEqual((before + out).decode(errors="replace"),
                         reference("checksum")[0].decode(errors="replace"))

    def test_truncated_stream(self):
        path, _ = self.saved_stream()
        size = os.path.getsize(path)
        os.truncate(path, size // 2)
        self.assert_refused(path, r"\S")

    def test_truncated_in_the_header(self):
        path, _ = self.saved_stream()
        os.truncate(path, 6)
        self.assert_refused(path, r"\S")

    def test_bad_magic(self):
        path, _ = self.saved_stream()
        with open(path, "r+b") as f:
            f.write(b"XXXX")
        self.assert_refused(path, r"migration stream" if IS_QEMU else r"(?i)magic")

    def test_bad_version(self):
        path, _ = self.saved_stream()
        with open(path, "r+b") as f:
            if IS_QEMU:
                f.seek(4)
                f.write((99).to_bytes(4, "big"))
            else:
                f.seek(8)
                f.write((99).to_bytes(4, "little"))
        self.assert_refused(path, r"(?i)version")


# --- real firmware ----------------------------------------------------------------------

class Firmware(MigrationTestCase):
    def uboot(self, name, incoming=None):
        # Required (scripts/install-deps.sh): a missing image fails the test.
        args = BOARD + ["-bios", paths.firmware(paths.OPENSBI_JUMP),
                        "-kernel", paths.firmware(paths.UBOOT_SMODE)]
        v = self.vmm(name, args, incoming=incoming, stdin=True)
        if incoming:
            wait_listening(incoming, v)
        return v

    def command(self, v, text):
        v.type_slowly(text + "\n")
        v.expect(re.escape(text.encode()))  # the echo
        return v.expect(rb"=> ").replace("\r\n", "\n").strip("\n")

    def test_uboot_prompt_survives(self):
        src = self.uboot("src")
        src.expect(rb"Hit any key to stop autoboot")
        src.send("x")
        src.expect(rb"=> ")
        version = self.command(src, "version")
        self.assertIn("U-Boot 20", version)
        uri = self.tcp_uri()
        dst = self.uboot("dst", incoming=uri)
        self.migrate(src, uri)
        self.assertEqual(src.quit(), 0)
        self.assertEqual(self.command(dst, "version"), version)
        self.assertIn("12345678", (self.command(dst, "mw.l 0x84000000 0x12345678 4"),
                                   self.command(dst, "md.l 0x84000000 4"))[1])
        dst.type_slowly("poweroff\n")
        self.assertEqual(dst.wait(timeout=60), 0, dst.stderr_text())


if __name__ == "__main__":
    unittest.main()
