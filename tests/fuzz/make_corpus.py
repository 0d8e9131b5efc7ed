#!/usr/bin/env python3
"""Seed corpus for stream_fuzzer: real migration streams saved by a ferry binary,
plus truncated and damaged copies of them.

    tests/fuzz/make_corpus.py [--ferry build/ferry] [--guests build/guests] OUTDIR

The streams are made when the fuzzer runs (scripts/fuzz.sh), by the ferry built
from the same tree, so they always follow the current stream format; none is
kept in the repository. Each one is a VM saved through QMP `migrate` with the
uri `file:PATH`:

  hello-4m-paused       hello.elf, 4 MiB, saved before its first instruction (-S)
  heartbeat-4m-early    heartbeat.elf, 4 MiB, saved 50 ms after start
  heartbeat-4m-mid      heartbeat.elf, 4 MiB, saved 500 ms after start
  heartbeat-4m-passes   the same, under a bandwidth limit: several RAM passes
  hello-8m-paused       other RAM sizes: refused by the fuzzer's VM (4 MiB)
  hello-64m-paused        when the stream's RAM layout is checked

4 MiB, -bios none, a virtio-net card on a user-mode network (-netdev user,id=n0
-device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56) is the VM of
tests/fuzz/stream_fuzzer.cc (--ram to change). These guests leave the card
unconfigured; its section (and libslirp's state in it) is in every stream all
the same.
hello-4m-paused.card-ready is hello-4m-paused with the card's fields patched to
what a driver leaves (DRIVER_OK, its queues ready in RAM, a DHCP lease), and
hello-4m-paused.slirp-* the same stream with other libslirp states: one of
each older version (1 to 3), and a newer version, a short and a long one and
one with a guestfwd socket, which the destination refuses.
Then, from hello-4m-paused and heartbeat-4m-mid: truncations (in the header,
early, half way, without the last byte), the first bytes overwritten, and
copies with a few bytes flipped (a fixed random seed: the same corpus every
time).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from qmp import Qmp  # noqa: E402


# The fuzzer's VM has this card: a stream of a VM without it is refused at once.
NET = ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0,mac=52:54:00:12:34:56"]


def save_stream(ferry, kernel, ram, path, *, paused=False, run_for=0.0, max_bandwidth=None,
                timeout=60.0):
    """Starts ferry with `kernel`, lets the guest run `run_for` seconds and
    migrates it to file:`path`. Raises RuntimeError when that fails."""
    tmp = tempfile.mkdtemp(prefix="ferry-corpus-")
    sock = os.path.join(tmp, "qmp.sock")
    argv = [ferry, "-M", "virt", "-m", ram, "-bios", "none", "-nographic", "-kernel", kernel,
            "-qmp", f"unix:{sock},server,nowait"] + NET + (["-S"] if paused else [])
    errlog = open(os.path.join(tmp, "stderr"), "w+b")
    vm = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=errlog)

    def fail(what):
        errlog.seek(0)
        err = errlog.read()[-800:].decode(errors="replace")
        return RuntimeError(f"{' '.join(argv)}: {what}; exit code {vm.poll()}; stderr: {err}")

    try:
        try:
            qmp = Qmp(sock, timeout=30, alive=lambda: vm.poll() is None)
        except Exception as e:
            raise fail(f"no QMP ({e})") from None
        if max_bandwidth:
            qmp.command("migrate-set-parameters", {"max-bandwidth": max_bandwidth})
        time.sleep(run_for)
        reply = qmp.cmd("migrate", uri=f"file:{path}")
        if "error" in reply:
            raise fail(f"migrate: {reply['error']}")
        deadline = time.monotonic() + timeout
        info = {}
        while time.monotonic() < deadline:
            info = qmp.command("query-migrate")
            if info.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.02)
        if info.get("status") != "completed":
            raise fail(f"migration to {path} not completed: {info}")
        try:
            qmp.cmd("quit", timeout=10)
        except (ConnectionError, OSError, AssertionError):
            pass
        qmp.close()
        vm.wait(timeout=30)
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        errlog.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise RuntimeError(f"{path}: no stream was written")
    return path


# A device section (src/migration/format.h): u8 FULL, u32 id, str name, u32
# instance, u32 version, u32 length, then its fields, each a u8 tag and a str
# name before its value.
SECTION_FULL = 0x05
FIELD_U32, FIELD_U64, FIELD_BOOL, FIELD_BYTES = 2, 3, 4, 7


def find_section(data, name):
    """Offset of the length of device section `name`, and of its payload."""
    head = bytes([len(name)]) + name.encode()
    at = 0
    while True:
        at = data.find(head, at)
        if at < 0:
            raise RuntimeError(f"the stream has no section {name!r}")
        if at >= 5 and data[at - 5] == SECTION_FULL:
            length_at = at + len(head) + 8
            return length_at, length_at + 4
        at += 1


def find_field(data, start, tag, name, nth=0):
    """Offset of the value of the `nth` field `name` (of type `tag`) after `start`."""
    head = bytes([tag, len(name)]) + name.encode()
    at = start
    for _ in range(nth + 1):
        at = data.find(head, at)
        if at < 0:
            raise RuntimeError(f"field {name!r} not found in the stream")
        at += len(head)
    return at


def set_field(data, start, tag, name, value, nth=0):
    at = find_field(data, start, tag, name, nth)
    size = {FIELD_U32: 4, FIELD_U64: 8, FIELD_BOOL: 1}[tag]
    data[at:at + size] = value.to_bytes(size, "little")


def slirp_state(data):
    """libslirp's state in the virtio-net section: u32 version (little-endian,
    ferry's), then libslirp's own stream (big-endian): u8 0 (no guestfwd
    sockets), u16 ip_id (version 2 on), 16 DHCP clients of u16 allocated and a
    6-byte MAC (version 3 on)."""
    _, payload = find_section(data, "virtio-net")
    at = find_field(data, payload, FIELD_BYTES, "backend")
    n = int.from_bytes(data[at:at + 4], "little")
    return bytes(data[at + 4:at + 4 + n])


def with_slirp_state(data, state):
    """A copy of a stream with another libslirp state in the virtio-net section
    (the field's and the section's lengths follow)."""
    d = bytearray(data)
    length_at, payload = find_section(d, "virtio-net")
    at = find_field(d, payload, FIELD_BYTES, "backend")
    old = int.from_bytes(d[at:at + 4], "little")
    d[at:at + 4 + old] = len(state).to_bytes(4, "little") + state
    section = int.from_bytes(d[length_at:length_at + 4], "little")
    d[length_at:length_at + 4] = (section - old + len(state)).to_bytes(4, "little")
    return bytes(d)


def lease_table(*macs):
    table = b"".join(b"\x00\x01" + bytes.fromhex(m) for m in macs)
    return table + bytes(8 * (16 - len(macs)))


def with_card_configured(data, ram_base=0x80000000):
    """A copy of a stream in which the virtio-net card is as a driver leaves it:
    DRIVER_OK with VERSION_1, MAC, STATUS, MRG_RXBUF, CTRL_VQ and EVENT_IDX, its
    three queues of 256 entries ready in RAM, and a DHCP lease for its MAC in
    libslirp's state. No guest of this tree drives the card without a kernel."""
    d = bytearray(data)
    _, payload = find_section(d, "virtio-net")
    set_field(d, payload, FIELD_U32, "status", 0x0F)  # ACK | DRIVER | FEATURES_OK | DRIVER_OK
    features = (1 << 32) | (1 << 5) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 29)
    set_field(d, payload, FIELD_U64, "driver_features", features)
    for q in range(3):
        base = ram_base + 0x200000 + q * 0x10000
        set_field(d, payload, FIELD_U32, "num", 256, nth=q)
        set_field(d, payload, FIELD_BOOL, "ready", 1, nth=q)
        set_field(d, payload, FIELD_U64, "desc", base, nth=q)
        set_field(d, payload, FIELD_U64, "avail", base + 0x1000, nth=q)
        set_field(d, payload, FIELD_U64, "used", base + 0x2000, nth=q)
    state = slirp_state(d)
    if len(state) != 4 + 1 + 2 + 16 * 8:
        raise RuntimeError(f"libslirp's state has {len(state)} bytes, not 135 (version 4?)")
    return with_slirp_state(d, state[:5] + b"\x12\x34" + lease_table("525400123456"))


def slirp_variants(data):
    """(suffix, stream) pairs: the stream with libslirp states of each version
    this libslirp loads, and refused ones."""
    v = lambda n: n.to_bytes(4, "little")  # noqa: E731
    ip_id = b"\xbe\xef"
    leases = lease_table("525400123456", "525400123457")
    return [
        ("slirp-v1", with_slirp_state(data, v(1) + b"\x00")),
        ("slirp-v2", with_slirp_state(data, v(2) + b"\x00" + ip_id)),
        ("slirp-v3", with_slirp_state(data, v(3) + b"\x00" + ip_id + leases)),
        ("slirp-v5", with_slirp_state(data, v(5) + b"\x00" + ip_id + leases)),
        ("slirp-short", with_slirp_state(data, v(4) + b"\x00" + ip_id + leases[:40])),
        ("slirp-long", with_slirp_state(data, v(4) + b"\x00" + ip_id + leases + b"\x00")),
        # a guestfwd socket (libslirp writes 42 before each): so_urgc, the
        # addresses, then socket buffers of the size the stream names
        ("slirp-guestfwd", with_slirp_state(
            data, v(4) + b"\x2a" + bytes(4) + b"\x00\x02" + bytes(6) + b"\x00\x02" + bytes(6) +
            bytes(7) + b"\x00\x00\x00\x10\x00\x01\x00\x00" + ip_id + leases)),
    ]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def damaged_copies(outdir, name, data, rng):
    """Truncated and corrupted copies of one stream."""
    n = len(data)
    for cut in sorted({4, 6, 16, 64, 512, n // 4, n // 2, n - 1}):
        if 0 < cut < n:
            write(os.path.join(outdir, f"{name}.trunc-{cut}"), data[:cut])
    write(os.path.join(outdir, f"{name}.bad-start"), b"XXXX" + data[4:])
    for i in range(4):
        d = bytearray(data)
        # mostly in the first kilobytes, where the header and the section framing are
        for _ in range(8):
            pos = rng.randrange(min(n, 4096)) if rng.random() < 0.75 else rng.randrange(n)
            d[pos] ^= 1 << rng.randrange(8)
        write(os.path.join(outdir, f"{name}.flip-{i}"), bytes(d))
    # the tail holds the device state and the end marker
    tail = bytearray(data)
    for _ in range(8):
        pos = n - 1 - rng.randrange(min(n, 2048))
        tail[pos] ^= 1 << rng.randrange(8)
    write(os.path.join(outdir, f"{name}.flip-tail"), bytes(tail))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--ferry", default=os.path.join(ROOT, "build", "ferry"))
    ap.add_argument("--guests", default=os.path.join(ROOT, "build", "guests"))
    ap.add_argument("--ram", default="4M", help="RAM of the fuzzer's VM (default 4M)")
    args = ap.parse_args()

    for f in (args.ferry, os.path.join(args.guests, "hello.elf"),
              os.path.join(args.guests, "heartbeat.elf")):
        if not os.path.exists(f):
            sys.exit(f"make_corpus.py: {f} is missing (build the tree first)")
    os.makedirs(args.outdir, exist_ok=True)
    hello = os.path.join(args.guests, "hello.elf")
    heartbeat = os.path.join(args.guests, "heartbeat.elf")
    ram = args.ram
    seeds = [
        (f"hello-{ram.lower()}-paused", hello, ram, dict(paused=True)),
        (f"heartbeat-{ram.lower()}-early", heartbeat, ram, dict(run_for=0.05)),
        (f"heartbeat-{ram.lower()}-mid", heartbeat, ram, dict(run_for=0.5)),
        (f"heartbeat-{ram.lower()}-passes", heartbeat, ram,
         dict(run_for=0.2, max_bandwidth=4_000_000)),
        ("hello-8m-paused", hello, "8M", dict(paused=True)),
        ("hello-64m-paused", hello, "64M", dict(paused=True)),
    ]
    damage = (f"hello-{ram.lower()}-paused", f"heartbeat-{ram.lower()}-mid")
    rng = random.Random(20261202)
    for name, kernel, size, opts in seeds:
        path = save_stream(args.ferry, kernel, size, os.path.join(args.outdir, name), **opts)
        with open(path, "rb") as f:
            data = f.read()
        print(f"  {name}: {len(data)} bytes")
        if name in damage:
            damaged_copies(args.outdir, name, data, rng)
        if name == f"hello-{ram.lower()}-paused":
            write(os.path.join(args.outdir, f"{name}.card-ready"), with_card_configured(data))
            for suffix, variant in slirp_variants(data):
                write(os.path.join(args.outdir, f"{name}.{suffix}"), variant)
    files = os.listdir(args.outdir)
    total = sum(os.path.getsize(os.path.join(args.outdir, f)) for f in files)
    print(f"seed corpus: {len(files)} files, {total} bytes in {args.outdir}")


if __name__ == "__main__":
    main()
