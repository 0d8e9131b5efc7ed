"""A small QMP client (QEMU Machine Protocol) over a UNIX socket, standard library only.

Works with QEMU and with ferry alike:

    with QMPClient("/tmp/x.sock", connect_timeout=10) as q:   # greeting + qmp_capabilities
        q.cmd("migrate-set-parameters", **{"max-bandwidth": 10 << 30})
        q.cmd("migrate", uri="tcp:127.0.0.1:4444")
        info = q.cmd("query-migrate")
        ev = q.wait_event("STOP", timeout=5)

Messages are JSON objects; QEMU ends each with CRLF, but the parser does not rely on
line breaks. Asynchronous events that arrive while a command is pending are queued
and can be read with events() / wait_event().
"""
import json
import os
import socket
import time


class QMPError(Exception):
    """The VMM answered a command with {"error": {...}}."""

    def __init__(self, command, error):
        self.command = command
        self.error = error
        super().__init__(f"{command}: {error.get('class', '?')}: {error.get('desc', error)}")


class QMPClosed(Exception):
    """The connection was closed by the VMM (or never opened)."""


class QMPClient:
    def __init__(self, path, connect_timeout=10.0, negotiate=True):
        self.path = path
        self.sock = None
        self.buf = b""
        self.greeting = None
        self.pending_events = []
        self._id = 0
        self._decoder = json.JSONDecoder()
        self._connect(connect_timeout)
        self.greeting = self._read_message(connect_timeout)
        if "QMP" not in self.greeting:
            raise QMPClosed(f"{path}: no QMP greeting, got {self.greeting!r}")
        if negotiate:
            self.cmd("qmp_capabilities")

    # --- connection -------------------------------------------------------------------
    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.path)
                self.sock = s
                return
            except (FileNotFoundError, ConnectionRefusedError) as e:
                s.close()
                last = e
            if time.monotonic() >= deadline:
                raise QMPClosed(f"{self.path}: could not connect within {timeout}s: {last}")
            time.sleep(0.02)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- framing ----------------------------------------------------------------------
    def _try_parse(self):
        text = self.buf.lstrip()
        if not text:
            self.buf = b""
            return None
        try:
            s = text.decode("utf-8")
        except UnicodeDecodeError:
            return None  # a multi-byte character cut in two: wait for more
        try:
            obj, end = self._decoder.raw_decode(s)
        except json.JSONDecodeError:
            return None  # incomplete
        self.buf = s[end:].encode("utf-8")
        return obj

    def _read_message(self, timeout):
        """Returns the next JSON object from the VMM (event or reply)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        tried = False
        while True:
            obj = self._try_parse()
            if obj is not None:
                return obj
            if self.sock is None:
                raise QMPClosed(f"{self.path}: not connected")
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 and tried:
                    raise TimeoutError(f"{self.path}: no QMP message within {timeout}s")
                # timeout 0 still looks once at what has already arrived
                self.sock.settimeout(max(remaining, 0.0))
            else:
                self.sock.settimeout(None)
            tried = True
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, BlockingIOError):
                raise TimeoutError(f"{self.path}: no QMP message within {timeout}s") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise QMPClosed(f"{self.path}: connection closed by the VMM")
            self.buf += chunk

    # --- commands and events ----------------------------------------------------------
    def cmd_raw(self, name, args=None, timeout=30.0):
        """Sends one command; returns the whole reply object ({"return":..} or {"error":..})."""
        self._id += 1
        msg = {"execute": name, "id": self._id}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\r\n")
        while True:
            obj = self._read_message(timeout)
            if "event" in obj:
                obj["_received"] = time.monotonic()
                self.pending_events.append(obj)
                continue
            if obj.get("id") not in (None, self._id):
                continue  # a stale reply to an earlier command that timed out
            return obj

    def cmd(self, name, timeout=30.0, **args):
        """Sends a command; returns its "return" value or raises QMPError."""
        reply = self.cmd_raw(name, args, timeout)
        if "error" in reply:
            raise QMPError(name, reply["error"])
        return reply.get("return")

    def events(self, timeout=0.0):
        """Returns (and clears) the queued events, reading what has already arrived."""
        try:
            while True:
                obj = self._read_message(timeout)
                if "event" in obj:
                    obj["_received"] = time.monotonic()
                    self.pending_events.append(obj)
                timeout = 0.0
        except (TimeoutError, QMPClosed):
            pass
        out, self.pending_events = self.pending_events, []
        return out

    def wait_event(self, name, timeout=30.0):
        """Waits for an event called `name`; other events stay queued."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.pending_events):
                if ev.get("event") == name:
                    return self.pending_events.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.path}: no {name} event within {timeout}s")
            obj = self._read_message(remaining)
            if "event" in obj:
                obj["_received"] = time.monotonic()
                self.pending_events.append(obj)


def unix_spec(path):
    """The -qmp argument that makes the VMM listen on `path` without waiting for a client."""
    return f"unix:{path},server=on,wait=off"


def remove_stale(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
