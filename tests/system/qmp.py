"""A small QMP client for the system tests (ferry and QEMU alike).

    q = Qmp("/tmp/x/qmp.sock")            # connects, reads the greeting, negotiates
    q.cmd("query-status")                 # the reply: {"return": ...} or {"error": ...}
    q.command("query-status")             # just "return"; raises QmpError on an error
    q.cmd("migrate-set-parameters", {"max-bandwidth": 20000000})
    q.cmd("getfd", fdname="mig", fds=[fd])   # fds travel with the command (SCM_RIGHTS)
    q.wait_event("MIGRATION", lambda e: e["data"]["status"] == "completed")

Events that arrive while waiting for replies are kept in `events` (oldest first).
"""
import json
import os
import select
import socket
import time


class QmpError(Exception):
    def __init__(self, name, error):
        super().__init__(f"{name}: {error.get('class')}: {error.get('desc')}")
        self.name = name
        self.error_class = error.get("class")
        self.desc = error.get("desc", "")


class QmpTimeout(AssertionError):
    pass


class Qmp:
    def __init__(self, path, timeout=30.0, alive=None, negotiate=True, describe=None):
        """Connects to the server socket at `path`, retrying until it exists.

        `alive` (optional) is called between attempts; when it returns False
        (the VMM exited) connecting stops at once. `describe` (optional)
        returns text added to connection errors (e.g. the VMM's stderr)."""
        self.path = path
        self.describe = describe
        self.sock = None
        self.buffer = b""
        self.events = []
        self.greeting = None
        self._next_id = 1
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                self.sock = s
                break
            except OSError as e:
                s.close()
                last_error = e
            if alive is not None and not alive():
                raise ConnectionError(f"QMP {path}: the VMM exited before its socket opened")
            if time.monotonic() > deadline:
                raise QmpTimeout(f"QMP {path}: cannot connect within {timeout}s: {last_error}")
            time.sleep(0.05)
        self.greeting = self._read_message(deadline=time.monotonic() + timeout)
        if "QMP" not in self.greeting:
            raise AssertionError(f"QMP {path}: not a greeting: {self.greeting!r}")
        if negotiate:
            self.command("qmp_capabilities")

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- low level ---------------------------------------------------------

    def _fill(self, deadline):
        """Reads what arrives before `deadline` (at least one poll); False if nothing."""
        remaining = max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.sock], [], [], remaining)
        if not ready:
            return False
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"QMP {self.path}: connection closed by the VMM")
        self.buffer += chunk
        return True

    def _read_message(self, deadline):
        while b"\n" not in self.buffer:
            if not self._fill(deadline):
                raise QmpTimeout(f"QMP {self.path}: no message in time "
                                 f"(partial: {self.buffer[-300:]!r})")
        line, self.buffer = self.buffer.split(b"\n", 1)
        line = line.strip()
        if not line:
            return self._read_message(deadline)
        return json.loads(line)

    def send_raw(self, obj, fds=()):
        data = json.dumps(obj).encode() + b"\n"
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.sendall(data)

    # --- commands ----------------------------------------------------------

    def cmd(self, name, arguments=None, fds=(), timeout=60.0, **kwargs):
        """Runs a command; returns the whole reply ({"return"} or {"error"}).

        Arguments come from `arguments` (a dict, for names with '-') and
        keyword arguments; `fds` are passed with the command (SCM_RIGHTS)."""
        args = dict(arguments or {})
        args.update(kwargs)
        msg_id = self._next_id
        self._next_id += 1
        msg = {"execute": name, "id": msg_id}
        if args:
            msg["arguments"] = args
        try:
            self.send_raw(msg, fds)
            deadline = time.monotonic() + timeout
            while True:
                reply = self._read_message(deadline)
                if "event" in reply:
                    self.events.append(reply)
                    continue
                if reply.get("id") != msg_id:
                    continue  # a reply to something else (should not happen)
                return reply
        except OSError as e:
            extra = f" [{self.describe()}]" if self.describe else ""
            raise ConnectionError(f"QMP {self.path}: {name}: {e}{extra}") from e

    def command(self, name, arguments=None, **kwargs):
        """Runs a command and returns its "return" value; raises QmpError."""
        reply = self.cmd(name, arguments, **kwargs)
        if "error" in reply:
            raise QmpError(name, reply["error"])
        return reply["return"]

    # --- events ------------------------------------------------------------

    def poll_events(self, timeout=0.0):
        """Reads whatever events arrived (waiting `timeout` for more)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                if line.strip():
                    msg = json.loads(line)
                    if "event" in msg:
                        self.events.append(msg)
            if not self._fill(deadline):
                return self.events

    def wait_event(self, name, predicate=None, timeout=60.0):
        """Waits for (and removes from `events`) the first event called
        `name` for which predicate(event) holds."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("event") == name and (predicate is None or predicate(ev)):
                    return self.events.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QmpTimeout(f"QMP {self.path}: no {name} event within {timeout}s; "
                                 f"got {[e.get('event') for e in self.events]}")
            self.poll_events(min(remaining, 0.2))

    def take_events(self, name=None):
        """Removes and returns the collected events (all, or those called `name`)."""
        self.poll_events()
        taken = [e for e in self.events if name is None or e.get("event") == name]
        self.events = [e for e in self.events if not (name is None or e.get("event") == name)]
        return taken


def socket_path_ok(path):
    """UNIX socket paths are limited to 107 bytes."""
    return len(os.fsencode(path)) < 108
