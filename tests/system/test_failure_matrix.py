"""Live migration failure matrix: real ferry processes, real sockets, one
failure at a time, at every phase of a migration.

The source migrates to a TCP relay (class Relay, in this file) that forwards
to the destination's `-incoming tcp:` port in both directions and can hold,
drop or cut either direction. The guest is `dirtier-64m` (it dirties 64 MiB at
a steady pace; on `q` typed on its console it checks every page of its working
set and prints `dirtier-64m: PASS` or `FAIL`).

Where the failure hits (every phase is reached through events and counters,
never through sleeps or byte counts):

  setup          the source's status is `setup`: its connection attempt is
                 pending (the relay's accept queue is full, so the kernel
                 drops the SYN; the attempt shows as SYN-SENT)
  first-pass     status `active` and `dirty-sync-count` 1 (max-bandwidth keeps
                 the first pass at about 1 s)
  iteration      `dirty-sync-count` >= 3, after the MIGRATION_PASS event of
                 pass 2 (downtime-limit 0: pre-copy goes on until released)
  stop-and-copy  the source's STOP event; the relay then holds the forward
                 direction, so the destination never has the end of the stream
                 (the relay forwards slower than the source writes, so the
                 socket buffers between them are full when the source stops;
                 downtime-limit is high, so it stops after pass 1 or 2)
  after-eof      the destination has the whole stream and said READY; the
                 relay holds READY (the first byte destination -> source)
  confirm-lost   READY is dropped; the connection stays open
  go-lost        GO (the source's first byte after the destination's READY)
                 is dropped; the connection stays open
  after-go       the destination's RESUME event (GO went through)

What fails:

  none       nothing more (the phase is the failure: a connection that never
             completes, a lost READY, a lost GO)
  kill-src   SIGKILL of the source; the relay loses what it holds and closes
  kill-dst   SIGKILL of the destination; the relay delivers what it holds and
             passes the close on (a READY it held is lost with the connection)
  stall-src  SIGSTOP of the source, then SIGCONT; the relay delivers what it
             holds after SIGCONT
  stall-dst  SIGSTOP of the destination (the relay delivers what it holds into
             it), then SIGCONT
  cut        the relay shuts both connections down and closes them
  cancel     `migrate_cancel` on the source

A stall lasts STALL_S unless an event marks its end (STALL_UNTIL): the
destination giving up (handover-timeout), the source failing
(confirm-timeout) or completing.

What each case asserts: the outcome in MATRIX (below) holds; if it is a
leftover state, the documented operator action is taken; then exactly one
side runs the guest (query-status `running`), the guest verifies all its
memory (PASS) and the other side prints nothing meanwhile. Throughout, the
source's monitor (a second QMP socket, pinged every 100 ms) answers within a
second, except while the source itself is stopped or dead.

Outcomes:

  SRC        the source resumed by itself (migration `failed`, or
             `cancelled` after migrate_cancel); the destination never ran:
             it exited non-zero with a message (it had a connection), or
             still waits in `inmigrate` (it never had one) and is quit
  DST        the destination runs; the source stays `postmigrate` (or is dead)
  LOST       the source died before the destination had the whole stream:
             nobody can run this guest any more; the destination never ran
  DST_WAITS  leftover: the destination has the whole stream but no GO; it
             does not exit and does not run: `paused`, query-migrate `failed`
             with an error-desc saying the source did not hand over.
             Operator: if the source is not running (postmigrate or dead),
             `cont` on the destination; if the source runs, `quit` the
             destination
  SRC_WAITS  leftover: GO went out and the destination died; the source stays
             `postmigrate`. Operator: `cont` on the source

Where MATRIX lists two outcomes, the source may tell a destination that waits
for GO that none will come (ABORT, best effort); a destination that reads it
exits (SRC) instead of waiting (DST_WAITS). Both are safe; which one happens
depends on whether the message gets through before the destination's own
deadline.

Left out of the matrix (physically meaningless or identical to a case in it):

  setup x stall-dst      the destination takes no part in setup beyond its
                         listen queue, which the kernel serves while the
                         process is stopped: the same as first-pass x stall-dst
  confirm-lost x kill-src/kill-dst/cut/cancel
                         once the connection dies, a READY held back and a
                         READY dropped are the same: after-eof x the same
                         failure (the relay loses a held READY when the
                         connection dies)
  go-lost x stall-src    the source has completed and waits for nothing
  go-lost x stall-dst    the destination waits for a GO that never comes; a
                         stall only delays its handover-timeout: go-lost x none
  after-go x stall-src/stall-dst
                         after GO neither side waits for the other: a stall
                         is a paused process, a normal run
  none elsewhere         a migration without a failure (test_migration.py)

The expected outcomes are the guarantees of docs/migration.md ("Hand-over
and its guarantees").

Besides the matrix: the three hand-over timeouts are parameters with their
defaults; `cont`, `stop` and `system_reset` are refused on the source during
stop-and-copy and the hand-over (and `cont`, `system_reset` on a destination
still receiving); ABORT reaches a destination that waits for GO without a
deadline.
"""
import contextlib
import os
import select
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

from qmp import Qmp, QmpTimeout
from test_migration import (IS_QEMU, Vmm, free_port, guest_args, tcp_socket_in_state,
                            wait_listening, wait_migration)

GUEST = "dirtier-64m"
RAM = "256M"

# Hand-over timeouts (ms) used by the cases; their defaults are checked apart.
CONNECT_TIMEOUT_MS = 4000   # > 3 s: a released setup connects on the SYN resent at 3 s
CONFIRM_TIMEOUT_MS = 3000   # > HANDOVER_TIMEOUT_MS + a stall that waits for it
HANDOVER_TIMEOUT_MS = 1500
DEFAULT_TIMEOUTS = {"connect-timeout": 5000, "confirm-timeout": 10000, "handover-timeout": 5000}

FAST = 1 << 30                   # bytes/s: no limit to speak of
DEFAULT_DOWNTIME_MS = 300
PRECOPY_BANDWIDTH = 64_000_000   # bytes/s: the 64 MiB first pass lasts about 1 s
RELAY_PACE = 64_000_000          # bytes/s the relay forwards on the way to stop-and-copy
STALL_S = 1.2                    # a SIGSTOP's length when no event ends it (> the monitor bound)
SETTLE_S = 15.0                  # deadline for what the timeouts must bring about
CANCEL_S = 3.0                   # deadline for migrate_cancel to take effect
MONITOR_BOUND_S = 1.0

READY, GO, FAILED, ABORT = 0x01, 0x02, 0x03, 0x04

# --- the matrix -------------------------------------------------------------------------

SRC, DST, LOST, DST_WAITS, SRC_WAITS = "SRC", "DST", "LOST", "DST_WAITS", "SRC_WAITS"
PRE_COPY = ("setup", "first-pass", "iteration", "stop-and-copy")

# (phase, failure): (outcome or a tuple of acceptable outcomes, the source's
# state afterwards: running, postmigrate, dead, or any when the specification
# leaves it open)
MATRIX = {
    # The connection never completes: connect-timeout fails the migration.
    ("setup", "none"): (SRC, "running"),
    # No connection yet: the destination still waits (inmigrate) and is quit.
    ("setup", "kill-src"): (LOST, "dead"),
    # The relay's connection to the dead destination is refused; it closes.
    ("setup", "kill-dst"): (SRC, "running"),
    ("setup", "stall-src"): (DST, "postmigrate"),
    # The listener goes away: the pending connection is refused.
    ("setup", "cut"): (SRC, "running"),
    # Cancelled while connecting, without waiting for the peer.
    ("setup", "cancel"): (SRC, "running"),

    ("first-pass", "kill-src"): (LOST, "dead"),
    ("first-pass", "kill-dst"): (SRC, "running"),
    ("first-pass", "stall-src"): (DST, "postmigrate"),
    # The source's writes block; its monitor must keep answering.
    ("first-pass", "stall-dst"): (DST, "postmigrate"),
    ("first-pass", "cut"): (SRC, "running"),
    ("first-pass", "cancel"): (SRC, "running"),

    ("iteration", "kill-src"): (LOST, "dead"),
    ("iteration", "kill-dst"): (SRC, "running"),
    ("iteration", "stall-src"): (DST, "postmigrate"),
    ("iteration", "stall-dst"): (DST, "postmigrate"),
    ("iteration", "cut"): (SRC, "running"),
    ("iteration", "cancel"): (SRC, "running"),

    # The destination lacks the end of the stream: it exits, the guest is lost.
    ("stop-and-copy", "kill-src"): (LOST, "dead"),
    ("stop-and-copy", "kill-dst"): (SRC, "running"),
    ("stop-and-copy", "stall-src"): (DST, "postmigrate"),
    ("stop-and-copy", "stall-dst"): (DST, "postmigrate"),
    ("stop-and-copy", "cut"): (SRC, "running"),
    ("stop-and-copy", "cancel"): (SRC, "running"),

    # Complete stream, READY sent, no GO will come: the destination waits.
    ("after-eof", "kill-src"): (DST_WAITS, "dead"),
    # READY is lost with the connection: the source resumes.
    ("after-eof", "kill-dst"): (SRC, "running"),
    # Stalled until the destination gave up (handover-timeout). On SIGCONT the
    # source gets READY (and sends a GO the destination no longer takes) or
    # finds the connection closed and resumes: either way the destination
    # waits and the operator acts on what the source shows.
    ("after-eof", "stall-src"): (DST_WAITS, "any"),
    # GO waits in the stopped destination's socket; it runs on SIGCONT.
    ("after-eof", "stall-dst"): (DST, "postmigrate"),
    ("after-eof", "cut"): (DST_WAITS, "running"),
    # migrate_cancel while waiting for the confirmation. The source may tell
    # the destination that no GO will come (ABORT, best effort): it then
    # exits instead of waiting.
    ("after-eof", "cancel"): ((DST_WAITS, SRC), "running"),

    # confirm-timeout resumes the source; the shorter handover-timeout has
    # left the destination waiting before that (an ABORT comes too late).
    ("confirm-lost", "none"): (DST_WAITS, "running"),
    ("confirm-lost", "stall-src"): (DST_WAITS, "running"),
    # The source gave up while the destination was stopped: on SIGCONT the
    # destination reads the source's ABORT and exits, or finds its own
    # deadline passed first and waits.
    ("confirm-lost", "stall-dst"): ((DST_WAITS, SRC), "running"),

    # The source sent GO: completed, postmigrate. The destination never got it.
    ("go-lost", "none"): (DST_WAITS, "postmigrate"),
    ("go-lost", "kill-src"): (DST_WAITS, "dead"),
    ("go-lost", "kill-dst"): (SRC_WAITS, "postmigrate"),
    ("go-lost", "cut"): (DST_WAITS, "postmigrate"),
    # Too late to cancel: the source must stay postmigrate.
    ("go-lost", "cancel"): (DST_WAITS, "postmigrate"),

    ("after-go", "kill-src"): (DST, "dead"),
    ("after-go", "kill-dst"): (SRC_WAITS, "postmigrate"),
    ("after-go", "cut"): (DST, "postmigrate"),
    # Too late to cancel: nothing changes.
    ("after-go", "cancel"): (DST, "postmigrate"),
}

# Stalls that end on an event rather than after STALL_S.
STALL_UNTIL = {
    ("after-eof", "stall-src"): "dst-failed",      # past the destination's handover-timeout
    ("after-eof", "stall-dst"): "src-completed",   # the source got READY and sent GO
    ("confirm-lost", "stall-src"): "dst-failed",
    ("confirm-lost", "stall-dst"): "src-failed",   # past the source's confirm-timeout
}


# --- helpers ------------------------------------------------------------------------------

def poll_until(predicate, timeout, what, interval=0.02):
    """Calls `predicate` until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(interval)


def wait_flag(event, timeout, what):
    if not event.wait(timeout):
        raise AssertionError(f"not within {timeout}s: {what}")


def syn_sent_to(port):
    """True while a TCP connection attempt to 127.0.0.1:port is pending."""
    return tcp_socket_in_state(port, "02", remote=True)


# --- the relay ----------------------------------------------------------------------------

class Relay:
    """A TCP relay between the source (which connects to `uri`) and the
    destination's -incoming port, forwarding both directions.

    It knows the hand-over protocol (docs/migration-format.md): the first
    byte destination -> source is READY (or FAILED); the source's first byte
    after that is GO or ABORT (`after_ready`). `ready` = "pass" | "hold"
    (until release()) | "drop"; `go` = "pass" | "drop". After a drop the
    connection stays open: an end of either side is not passed on. With
    `block_accept` the accept queue is kept full until release(), so the
    source's connection attempt stays pending (its SYN is dropped).
    """

    CHUNK = 256 * 1024

    def __init__(self, dst_port, block_accept=False, ready="pass", go="pass"):
        self.dst_port = dst_port
        self.ready_mode = ready
        self.go_mode = go
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.accept_open = threading.Event()
        self.forward_open = threading.Event()
        self.forward_open.set()
        self.ready_released = threading.Event()
        self.accepted = threading.Event()
        self.dst_connected = threading.Event()
        self.ready_seen = threading.Event()
        self.go_seen = threading.Event()
        self.go_forwarded = threading.Event()
        self.first_reply = None
        self.after_ready = None
        self.keep_open = False
        self.rate = None
        self._paced = 0
        self._pace_start = 0.0
        self.src = self.dst = None
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0 if block_accept else 4)
        self.port = self.listener.getsockname()[1]
        self.filler = None
        if block_accept:
            # Backlog 0 holds one connection: this one. Further SYNs are dropped.
            self.filler = socket.create_connection(("127.0.0.1", self.port))
            self.filler_addr = self.filler.getsockname()
        else:
            self.accept_open.set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def uri(self):
        return f"tcp:127.0.0.1:{self.port}"

    # controls
    def release(self):
        """Lets everything through: accepts, the forward direction, a held READY, no pacing."""
        self.rate = None
        self.accept_open.set()
        self.forward_open.set()
        self.ready_released.set()

    def hold_forward(self):
        self.forward_open.clear()

    def pace(self, rate):
        self._paced = 0
        self._pace_start = time.monotonic()
        self.rate = rate

    def cut(self):
        """Shuts both connections down and closes them (and the listener);
        whatever the relay holds is lost."""
        with self.lock:
            self.closed.set()
            socks = [s for s in (self.src, self.dst, self.filler, self.listener) if s is not None]
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    # threads
    def _accept(self):
        conn = None
        while not self.closed.is_set():
            if not self.accept_open.wait(0.05):
                continue
            try:
                ready, _, _ = select.select([self.listener], [], [], 0.05)
                if not ready:
                    continue
                conn, addr = self.listener.accept()
            except (OSError, ValueError):
                return
            if self.filler is not None and addr == self.filler_addr:
                conn.close()
                conn = None
                continue
            break
        if conn is None:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            if self.closed.is_set():
                conn.close()
                return
            self.src = conn
        self.accepted.set()
        try:
            dst = socket.create_connection(("127.0.0.1", self.dst_port), timeout=10)
            dst.settimeout(None)
            dst.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self.cut()  # the destination is gone: the source sees its connection close
            return
        with self.lock:
            if self.closed.is_set():
                dst.close()
                return
            self.dst = dst
        self.dst_connected.set()
        threading.Thread(target=self._forward, daemon=True).start()
        threading.Thread(target=self._backward, daemon=True).start()

    def _ended(self):
        if not self.keep_open:
            self.cut()

    def _wait(self, event):
        """Waits for `event`; False when the relay was cut meanwhile."""
        while not event.wait(0.05):
            if self.closed.is_set():
                return False
        return not self.closed.is_set()

    def _pace_wait(self, n):
        rate = self.rate
        if not rate:
            return
        self._paced += n
        ahead = self._paced / rate - (time.monotonic() - self._pace_start)
        if ahead > 0:
            time.sleep(min(ahead, 0.5))

    def _forward(self):  # source -> destination
        try:
            while True:
                data = self.src.recv(self.CHUNK)
                if not data:
                    break
                go = False
                if self.ready_seen.is_set() and self.after_ready is None:
                    self.after_ready = data[0]  # GO, or the source's ABORT
                    if data[0] == GO:
                        self.go_seen.set()
                        go = True
                if go and self.go_mode == "drop":
                    self.keep_open = True
                    data = data[1:]
                    go = False
                if not self._wait(self.forward_open):
                    return
                self._pace_wait(len(data))
                if data:
                    self.dst.sendall(data)
                if go:
                    self.go_forwarded.set()
        except (OSError, AttributeError):
            pass
        self._ended()

    @staticmethod
    def _peer_closed(s):
        try:
            readable, _, _ = select.select([s], [], [], 0)
            return bool(readable) and s.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _hold_ready(self):
        """Holds READY until release(); False if the connection died meanwhile."""
        while True:
            if self.closed.is_set() or self._peer_closed(self.dst):
                return False
            if self.ready_released.wait(0.05):
                return not (self.closed.is_set() or self._peer_closed(self.dst))

    def _backward(self):  # destination -> source
        first = True
        try:
            while True:
                data = self.dst.recv(self.CHUNK)
                if not data:
                    break
                if first:
                    first = False
                    self.first_reply = data[0]
                    if data[0] == READY:
                        self.ready_seen.set()  # before the source can answer
                        if self.ready_mode == "hold" and not self._hold_ready():
                            break  # READY is lost with the connection
                        if self.ready_mode == "drop":
                            self.keep_open = True
                            data = data[1:]
                if data:
                    self.src.sendall(data)
        except (OSError, AttributeError):
            pass
        self._ended()


# --- the source's monitor, watched ----------------------------------------------------------

class MonitorWatch:
    """Pings a QMP socket (query-status) every 100 ms from its own thread and
    keeps the slowest answer. paused() stops the pings (while the process is
    SIGSTOPped); gone() ends them quietly (before the process is killed)."""

    def __init__(self, path):
        self.qmp = Qmp(path, timeout=30)
        self.worst = 0.0
        self.pings = 0
        self.errors = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._gone = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _ping(self):
        """One timed query-status; False once the connection is gone."""
        start = time.monotonic()
        try:
            reply = self.qmp.cmd("query-status", timeout=10)
        except (ConnectionError, OSError, QmpTimeout) as e:
            if not self._gone:
                self.errors.append(f"query-status failed: {e}")
            return False
        self.pings += 1
        if "return" not in reply:
            self.errors.append(f"query-status: {reply}")
        self.worst = max(self.worst, time.monotonic() - start)
        return True

    def _run(self):
        while not self._stop.wait(0.1):
            with self._lock:
                if self._gone or self._stop.is_set() or not self._ping():
                    return

    @contextlib.contextmanager
    def paused(self):
        with self._lock:
            yield

    def gone(self):
        with self._lock:
            self._gone = True

    def stop(self):
        """Ends the pings, with a last one when the process is still there."""
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=15)
            with self._lock:
                if not self._gone and not self.errors:
                    self._ping()
        self.qmp.close()


# --- the cases --------------------------------------------------------------------------

class MigrationFailures(unittest.TestCase):
    """Two ferry processes, the relay and the watch, and the checks."""
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-fm-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.killed = set()

    def vmm(self, name, **kw):
        v = Vmm(self.tmp, name, guest_args(GUEST, RAM), stdin=True, **kw)
        self.addCleanup(v.kill)
        return v

    def start(self, phase):
        """Destination, source (guest going, second QMP socket watched) and
        the relay for `phase`; the source configured."""
        port = free_port()
        uri = f"tcp:127.0.0.1:{port}"
        self.dst = self.vmm("dst", incoming=uri)
        wait_listening(uri, self.dst)
        watch_path = os.path.join(self.tmp, "src-watch.qmp")
        self.src = self.vmm("src", extra=["-qmp", f"unix:{watch_path},server,nowait"])
        self.relay = Relay(port, block_accept=phase == "setup",
                           ready={"after-eof": "hold", "confirm-lost": "drop"}.get(phase, "pass"),
                           go="drop" if phase == "go-lost" else "pass")
        self.addCleanup(self.relay.cut)
        self.watch = MonitorWatch(watch_path)
        self.addCleanup(self.watch.stop)
        self.src.expect(rb"working set", timeout=30)
        q = self.src.qmp
        q.command("migrate-set-capabilities",
                  capabilities=[{"capability": "events", "state": True}])
        # The hand-over timeouts this binary offers (test_timeout_parameters
        # requires all three).
        known = q.command("query-migrate-parameters")
        timeouts = {"connect-timeout": CONNECT_TIMEOUT_MS, "confirm-timeout": CONFIRM_TIMEOUT_MS,
                    "handover-timeout": HANDOVER_TIMEOUT_MS}
        params = {k: v for k, v in timeouts.items() if k in known}
        params["max-bandwidth"] = PRECOPY_BANDWIDTH if phase in ("first-pass", "iteration") \
            else FAST
        params["downtime-limit"] = {"iteration": 0, "stop-and-copy": 60000}.get(
            phase, DEFAULT_DOWNTIME_MS)
        q.command("migrate-set-parameters", params)
        if phase == "stop-and-copy":
            self.relay.pace(RELAY_PACE)

    def reach(self, phase):
        """Starts the migration and returns once it is in `phase`."""
        q = self.src.qmp
        q.command("migrate", uri=self.relay.uri)
        if phase == "setup":
            poll_until(lambda: syn_sent_to(self.relay.port), 10,
                       "the source's connection attempt (SYN-SENT)")
            info = self.src.migration()
            self.assertEqual(info.get("status"), "setup", info)
        elif phase == "first-pass":
            q.wait_event("MIGRATION", lambda e: e["data"]["status"] == "active", timeout=30)
            info = self.src.migration()
            self.assertEqual((info.get("status"), info.get("ram", {}).get("dirty-sync-count")),
                             ("active", 1), info)
        elif phase == "iteration":
            q.wait_event("MIGRATION_PASS", lambda e: e["data"]["pass"] >= 2, timeout=30)
            info = self.src.migration()
            self.assertEqual(info.get("status"), "active", info)
            self.assertGreaterEqual(info["ram"]["dirty-sync-count"], 3, info)
        elif phase == "stop-and-copy":
            q.wait_event("STOP", timeout=30)
            self.relay.hold_forward()
            self.assertEqual(self.src.run_state(), "finish-migrate")
            self.assertFalse(self.relay.ready_seen.is_set(),
                             "the destination had the whole stream before the relay held it")
        elif phase in ("after-eof", "confirm-lost"):
            wait_flag(self.relay.ready_seen, 30, f"READY from the destination "
                      f"(first byte back: {self.relay.first_reply})")
            info = self.src.migration()
            self.assertEqual(info.get("status"), "active", info)
            self.assertEqual(self.src.run_state(), "finish-migrate")
        elif phase == "go-lost":
            wait_flag(self.relay.go_seen, 30, f"GO from the source (first byte after READY: "
                      f"{self.relay.after_ready})")
            info = wait_migration(self.src, 10)
            self.assertEqual(info.get("status"), "completed", info)
        elif phase == "after-go":
            self.dst.qmp.wait_event("RESUME", timeout=30)
            self.assertTrue(self.relay.go_forwarded.is_set())
        else:
            raise ValueError(phase)

    def stall(self, phase, failure):
        until = STALL_UNTIL.get((phase, failure))
        if until is None:
            time.sleep(STALL_S)  # the failure's length, not a synchronisation
        elif until == "dst-failed":
            poll_until(lambda: self.dst.migration().get("status") == "failed", SETTLE_S,
                       "the destination gives up waiting for GO (handover-timeout)")
        elif until == "src-failed":
            poll_until(lambda: self.src.migration().get("status") == "failed", SETTLE_S,
                       "the source gives up waiting for READY (confirm-timeout)")
        elif until == "src-completed":
            poll_until(lambda: self.src.migration().get("status") == "completed", SETTLE_S,
                       "the source completes (READY in, GO out)")

    def inject(self, phase, failure):
        src, dst = self.src, self.dst
        if failure == "none":
            pass
        elif failure == "kill-src":
            self.watch.gone()
            src.proc.kill()
            src.proc.wait(timeout=10)
            self.killed.add("src")
            self.relay.cut()
        elif failure == "kill-dst":
            dst.proc.kill()
            dst.proc.wait(timeout=10)
            self.killed.add("dst")
            self.relay.release()
        elif failure == "stall-src":
            with self.watch.paused():
                os.kill(src.proc.pid, signal.SIGSTOP)
                try:
                    self.stall(phase, failure)
                finally:
                    os.kill(src.proc.pid, signal.SIGCONT)
            self.relay.release()
        elif failure == "stall-dst":
            os.kill(dst.proc.pid, signal.SIGSTOP)
            try:
                self.relay.release()
                self.stall(phase, failure)
            finally:
                os.kill(dst.proc.pid, signal.SIGCONT)
        elif failure == "cut":
            self.relay.cut()
        elif failure == "cancel":
            src.qmp.command("migrate_cancel")
            self.relay.release()
        else:
            raise ValueError(failure)
        if phase in PRE_COPY and "src" not in self.killed:
            # Whatever goes on now may converge.
            src.set_parameters(max_bandwidth=FAST, downtime_limit=DEFAULT_DOWNTIME_MS)

    # outcome checks
    def check_source(self, state, failure):
        """The source's migration and run state; returns the run state."""
        if state == "dead":
            self.assertIn("src", self.killed)
            return "dead"
        # migrate_cancel unblocks the source at once, whatever it waits for.
        info = wait_migration(self.src, CANCEL_S if failure == "cancel" else SETTLE_S)
        if state == "any":
            state = "postmigrate" if info["status"] == "completed" else "running"
        if state == "running":
            want = "cancelled" if failure == "cancel" else "failed"
            self.assertEqual(info["status"], want, info)
            if want == "failed":
                self.assertTrue(info.get("error-desc"), f"failed without error-desc: {info}")
            poll_until(lambda: self.src.run_state() == "running", 5,
                       f"the source resumes by itself ({self.src.run_state()})")
        else:
            self.assertEqual(info["status"], "completed", info)
            self.assertEqual(self.src.run_state(), "postmigrate")
        return state

    def check_destination_never_ran(self):
        if "dst" not in self.killed:
            if self.relay.dst_connected.is_set():
                rc = self.dst.wait(timeout=SETTLE_S)
                self.assertGreater(rc, 0, f"the destination with a broken stream: exit {rc}; "
                                   f"{self.dst.stderr_text()[-600:]}")
                self.assertTrue(self.dst.stderr_text().strip(),
                                "the destination exited without a message")
            else:
                self.assertEqual(self.dst.run_state(), "inmigrate")
                self.assertEqual(self.dst.quit(), 0, self.dst.stderr_text())
        self.assertEqual(self.dst.output(), b"", "the destination ran the guest")

    def check_destination_waits(self):
        """The leftover: whole stream, no GO, paused, failed, says why."""
        self.assertNotIn("dst", self.killed)

        def waiting():
            info = self.dst.migration()
            status = self.dst.qmp.command("query-status")
            if info.get("status") == "failed" and status["status"] == "paused":
                return info, status
            return None
        info, status = poll_until(waiting, SETTLE_S, "the destination reports failed (no GO) "
                                  "and stays paused")
        self.assertRegex(info.get("error-desc", ""), r"(?i)hand", info)
        self.assertFalse(status["running"], status)
        self.assertIsNone(self.dst.proc.poll(), "the destination exited")
        self.assertEqual(self.dst.output(), b"", "the destination ran the guest")

    def check_one_runs_and_verify(self, runner):
        """Exactly `runner` (or nobody) runs; its guest checks all its memory."""
        self.watch.stop()
        alive = [v for v in (self.src, self.dst) if v.proc.poll() is None]
        running = [v.name for v in alive if v.run_state() == "running"]
        self.assertEqual(running, [runner.name] if runner else [],
                         "exactly one side must run the guest")
        self.assertEqual(self.watch.errors, [])
        self.assertLess(self.watch.worst, MONITOR_BOUND_S,
                        f"the source's monitor took {self.watch.worst:.2f}s to answer")
        if runner is None:
            return
        others = {v.name: len(v.output()) for v in alive if v is not runner}
        runner.send("q")
        runner.expect(rb"dirtier-64m: (PASS|FAIL)", timeout=60)
        self.assertEqual(runner.wait(timeout=60), 0,
                         f"{runner.name}: {runner.output()[-400:]!r}")
        self.assertIn(b"dirtier-64m: PASS", runner.output())
        for v in alive:
            if v is not runner:
                self.assertEqual(len(v.output()), others[v.name], f"{v.name} printed meanwhile")

    def destination_outcome(self, outcomes):
        """SRC if the destination exits (it never ran), DST_WAITS if it
        waits with the whole stream (failed, paused)."""
        self.assertEqual(set(outcomes), {SRC, DST_WAITS})

        def probe():
            if self.dst.proc.poll() is not None:
                return SRC
            try:
                if (self.dst.migration().get("status") == "failed"
                        and self.dst.run_state() == "paused"):
                    return DST_WAITS
            except (ConnectionError, OSError):
                self.dst.proc.wait(timeout=10)
                return SRC
            return None
        return poll_until(probe, SETTLE_S, "the destination exits, or waits without GO")

    def run_case(self, phase, failure):
        outcome, src_state = MATRIX[(phase, failure)]
        self.start(phase)
        self.reach(phase)
        self.inject(phase, failure)
        if isinstance(outcome, tuple):
            outcome = self.destination_outcome(outcome)
        if outcome == SRC:
            self.check_source(src_state, failure)
            self.check_destination_never_ran()
            runner = self.src
        elif outcome == LOST:
            self.check_source(src_state, failure)
            self.check_destination_never_ran()
            runner = None
        elif outcome == DST:
            self.check_source(src_state, failure)
            poll_until(lambda: self.dst.run_state() == "running"
                       and self.dst.migration().get("status") == "completed", SETTLE_S,
                       "the destination runs the guest, its migration completed")
            runner = self.dst
        elif outcome == DST_WAITS:
            state = self.check_source(src_state, failure)
            self.check_destination_waits()
            if state == "running":
                self.assertEqual(self.dst.quit(), 0, self.dst.stderr_text())  # operator
                runner = self.src
            else:
                self.dst.qmp.command("cont")  # operator
                runner = self.dst
        elif outcome == SRC_WAITS:
            self.check_source(src_state, failure)
            self.assertIn("dst", self.killed)
            self.src.qmp.command("cont")  # operator
            runner = self.src
        else:
            raise ValueError(outcome)
        self.check_one_runs_and_verify(runner)


@unittest.skipIf(IS_QEMU, "ferry's hand-over protocol and timeouts")
class FailureMatrix(MigrationFailures):
    """One test per MATRIX entry, named test_PHASE__FAILURE."""


def _add_case(phase, failure):
    def test(self):
        self.run_case(phase, failure)
    outcome, src_state = MATRIX[(phase, failure)]
    outcome = " or ".join(outcome) if isinstance(outcome, tuple) else outcome
    test.__doc__ = f"{phase} x {failure} -> {outcome} (source {src_state})"
    name = f"test_{phase}__{failure}".replace("-", "_")
    setattr(FailureMatrix, name, test)


for _phase, _failure in MATRIX:
    _add_case(_phase, _failure)


# --- beside the matrix ---------------------------------------------------------------------

@unittest.skipIf(IS_QEMU, "ferry's hand-over parameters")
class HandOver(MigrationFailures):
    def test_timeout_parameters(self):
        src = self.vmm("src")
        params = src.qmp.command("query-migrate-parameters")
        for name, default in DEFAULT_TIMEOUTS.items():
            self.assertEqual(params.get(name), default, f"{name}: {params}")
        src.set_parameters(connect_timeout=1234, confirm_timeout=2345, handover_timeout=3456)
        params = src.qmp.command("query-migrate-parameters")
        self.assertEqual((params["connect-timeout"], params["confirm-timeout"],
                          params["handover-timeout"]), (1234, 2345, 3456), params)
        reply = src.qmp.cmd("migrate-set-parameters", {"confirm-timeout": "soon"})
        self.assertIn("error", reply, reply)

    def assert_refused(self, vmm, commands, state, where):
        for command in commands:
            reply = vmm.qmp.cmd(command)
            self.assertIn("error", reply, f"{vmm.name}: {command} during {where}: {reply}")
            self.assertTrue(reply["error"].get("desc"), reply)
        self.assertEqual(vmm.run_state(), state, f"{vmm.name} during {where}")

    def assert_run_state_refused(self, where):
        self.assert_refused(self.src, ("cont", "stop", "system_reset"), "finish-migrate", where)

    def test_run_state_commands_refused_during_stop_and_copy_and_hand_over(self):
        self.start("stop-and-copy")
        self.relay.ready_mode = "hold"
        self.reach("stop-and-copy")
        self.assert_run_state_refused("stop-and-copy")
        # The destination is still receiving.
        self.assert_refused(self.dst, ("cont", "system_reset"), "inmigrate", "the stream")
        self.relay.rate = None
        self.relay.forward_open.set()
        wait_flag(self.relay.ready_seen, 30, "READY from the destination")
        self.assert_run_state_refused("the hand-over")
        self.relay.release()
        self.assertEqual(wait_migration(self.src, SETTLE_S)["status"], "completed")
        self.assertEqual(self.src.run_state(), "postmigrate")
        poll_until(lambda: self.dst.run_state() == "running", SETTLE_S,
                   "the destination runs the guest")
        self.check_one_runs_and_verify(self.dst)

    def test_abort_reaches_a_destination_that_waits_without_deadline(self):
        # READY lost, the destination told to wait for GO without a deadline
        # (handover-timeout 0): at confirm-timeout the source sends ABORT and
        # resumes; the destination reads it and exits without running.
        self.start("confirm-lost")
        self.src.set_parameters(handover_timeout=0)
        self.reach("confirm-lost")
        self.check_source("running", "none")
        rc = self.dst.wait(timeout=SETTLE_S)
        self.assertGreater(rc, 0, self.dst.stderr_text())
        self.assertTrue(self.dst.stderr_text().strip(), "the destination exited without a message")
        self.assertEqual(self.dst.output(), b"", "the destination ran the guest")
        self.assertEqual(self.relay.after_ready, ABORT, "the source's message after the stream")
        self.check_one_runs_and_verify(self.src)


if __name__ == "__main__":
    unittest.main()
