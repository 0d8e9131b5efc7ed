"""Drives a VMM's serial console (or monitor) through pipes, like expect.

Used by the system tests to type into u-boot and read what it prints, for
ferry and for qemu-system-riscv64 alike.
"""
import os
import re
import select
import subprocess
import time


class ConsoleTimeout(AssertionError):
    pass


class Console:
    def __init__(self, argv, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env)
        self.buffer = b""
        self.log = b""

    def _read_some(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
        if not ready:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self.buffer += chunk
        self.log += chunk
        return True

    def expect(self, pattern, timeout=30.0):
        """Waits for `pattern` (bytes regex); returns the text before it."""
        regex = re.compile(pattern if isinstance(pattern, bytes) else pattern.encode())
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.buffer)
            if m:
                before = self.buffer[:m.start()]
                self.buffer = self.buffer[m.end():]
                return before.decode(errors="replace")
            if not self._read_some(deadline):
                raise ConsoleTimeout(
                    f"{self.argv[0]}: did not see {pattern!r} within {timeout}s; "
                    f"last output: {self.buffer[-800:]!r}")

    def send(self, text):
        self.proc.stdin.write(text.encode() if isinstance(text, str) else text)
        self.proc.stdin.flush()

    def type_slowly(self, text, delay=0.01):
        """Types one byte at a time (a UART FIFO holds only 16 bytes)."""
        for ch in text:
            self.send(ch)
            time.sleep(delay)

    def wait(self, timeout=30.0):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def read_rest(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self._read_some(deadline):
            pass
        rest = self.buffer
        self.buffer = b""
        return rest.decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except Exception:
                pass
