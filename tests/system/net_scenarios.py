"""The network scenarios that run alike on ferry (test_net) and on QEMU
(test_net_qemu, the reference): virtio-net (virtio-mmio, `-device
virtio-net-device`) with the Debian guest, over a tap on a bridge and over
user-mode networking, including a live migration with an open TCP
connection.

The topology (netns.py; root is required, the tests fail without it):

    [host ns]  br0 ── tapsrc    source VMM            10.77.0.2/24 = the guest
                   ── tapdst    destination VMM       (MAC 52:54:00:12:34:56)
                   ── vclient ═ eth0 [client ns]      10.77.0.1/24

The guest sets its address with `ip` and serves an echo (`nc -ll -p 7000 -e
cat`: busybox's nc forks one `cat` per connection).

- test_tap_echo: the client's numbered lines come back; the bridge learned
  the guest's MAC on tapsrc.
- test_tap_migration_keeps_tcp_stream: the client streams numbered lines (one
  every 20 ms) and reads the echo while the guest is migrated from tapsrc to
  tapdst (unix: socket). The connection survives with every line back once
  and in order; the bridge moves the MAC to tapdst; RARP announce frames
  (ethertype 0x8035, source = the guest's MAC) come in on tapdst after the
  hand-over; tapsrc's counters show the source sent nothing after
  `completed`. The timings (downtime, the stream's gap, the announces, the
  fdb move) are printed to stderr.
- test_tap_migration_after_a_pause_keeps_tcp_stream: the same after the
  source was stopped for 1 s: the client's frames of that pause are lost in
  the source's tap and TCP must resend them. (A paused guest stays paused on
  the destination until `cont`; the announces wait for it.)
- test_user_dhcp_hostfwd_and_host_service: -netdev user (slirp): the guest's
  udhcpc gets 10.0.2.15 from slirp's DHCP (route via 10.0.2.2, DNS 10.0.2.3
  in /etc/resolv.conf); the host reaches the guest's echo and its busybox
  httpd through hostfwd; the guest reaches a host service on 10.0.2.2 (the
  host's 127.0.0.1). The VMM runs in a namespace of its own, so ports are
  private to the test.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import netns
import paths
from test_debian_linux import debian_guest
from test_migration import Vmm, wait_listening, wait_migration

GUEST_MAC = "52:54:00:12:34:56"
GUEST_IP = "10.77.0.2"
ECHO_PORT = 7000
HOST_PORT = 9000     # the host service the guest reaches on 10.0.2.2 (slirp)
HTTP_PAGE = "ferry-net-page"

# No double quotes: the kernel command line quotes ferry_cmd with them.
TAP_GUEST = (f"dmesg -n 1; ip addr add {GUEST_IP}/24 dev eth0; ip link set eth0 up; "
             f"echo NET-UP; nc -ll -p {ECHO_PORT} -e cat")
USER_GUEST = (
    "dmesg -n 1; udhcpc -i eth0 -q -n -t 5 -T 1 && echo DHCP-OK; cat /etc/resolv.conf; "
    "ip route; mkdir -p /www; echo " + HTTP_PAGE + " > /www/index.html; httpd -p 80 -h /www; "
    f"(echo ping-from-guest; sleep 3) | nc 10.0.2.2 {HOST_PORT}; echo HOST-DONE; "
    f"nc -ll -p {ECHO_PORT} -e cat")

# A service on the host's loopback: greets, then prints the line it gets.
HOST_SERVICE = f"""
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", {HOST_PORT}))
s.listen()
print("listening", flush=True)
c, peer = s.accept()
c.sendall(b"hello-from-host\\n")
print("got", c.makefile().readline().strip(), "from", peer[0], flush=True)
"""

HTTP_GET = """
import sys, time, urllib.request
deadline = time.monotonic() + 30
while True:
    try:
        print(urllib.request.urlopen("http://127.0.0.1:8080/index.html", timeout=5).read().decode())
        break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f"GET through hostfwd: {e}")
        time.sleep(0.3)
"""


def is_qemu(vmm):
    return "qemu" in os.path.basename(vmm)


def board(vmm, netdev, command):
    image, initrd = debian_guest()
    return (["-M", "virt", "-m", "512M", "-nographic", "-kernel", image, "-initrd", initrd,
             "-append", f'console=ttyS0 ferry_cmd="{command}"']
            + (paths.QEMU_VIRTIO_MODERN if is_qemu(vmm) else [])
            + ["-netdev", netdev, "-device", f"virtio-net-device,netdev=n0,mac={GUEST_MAC}"])


def event_time(ev):
    ts = ev["timestamp"]
    return ts["seconds"] + ts["microseconds"] / 1e6


def rarp_fields(frame):
    """The RARP header of a frame (after the Ethernet header)."""
    d = frame.data
    htype, ptype, hlen, plen, op = struct.unpack_from(">HHBBH", d, 14)
    return {"htype": htype, "ptype": ptype, "hlen": hlen, "plen": plen, "op": op,
            "sha": netns._mac(d[22:28]), "spa": ".".join(map(str, d[28:32])),
            "tha": netns._mac(d[32:38]), "tpa": ".".join(map(str, d[38:42])),
            "len": len(d)}


def arp_summary(frame):
    f = rarp_fields(frame)  # ARP has the same layout
    op = {1: "request", 2: "reply"}.get(f["op"], f"op {f['op']}")
    return f"{op} {f['spa']} -> {f['tpa']} (to {frame.dst})"


def ms(t):
    return f"{t * 1000:+.0f} ms"


class NetScenarios:
    """The scenarios, mixed into a unittest.TestCase whose vmm() names the VMM."""
    maxDiff = 4000

    def vmm_binary(self):
        raise NotImplementedError

    def setUp(self):
        netns.require_root()
        self.vmm = self.vmm_binary()
        debian_guest()
        self.tmp = tempfile.mkdtemp(prefix="ferry-net-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def topology(self, tag):
        t = netns.Topology(tag)
        self.addCleanup(t.close)
        return t

    def start(self, ns, name, netdev, command, **kw):
        v = Vmm(self.tmp, name, board(self.vmm, netdev, command), vmm=self.vmm,
                wrapper=ns.argv([]), **kw)
        self.addCleanup(v.kill)  # runs before the namespace goes (cleanups are LIFO)
        return v

    def tap(self, ifname):
        return f"tap,id=n0,ifname={ifname},script=no,downscript=no"

    def assert_stream_whole(self, summary, echoes):
        self.assertEqual(summary["bad"], [], "lines came back wrong")
        self.assertTrue(summary["eof"], "the echo did not end after the client's half-close")
        self.assertGreater(summary["sent"], 0)
        self.assertEqual(summary["echoed"], summary["sent"], summary)
        self.assertEqual([e[0] for e in echoes], list(range(summary["sent"])))

    def test_tap_echo(self):
        t = self.topology("echo")
        src = self.start(t.host, "src", self.tap(t.tap_src), TAP_GUEST)
        src.expect(rb"(?m)^NET-UP", timeout=120)
        client = netns.StreamClient(t.client, GUEST_IP, ECHO_PORT)
        client.wait_echoes(20, timeout=30)
        summary = client.finish()
        self.assert_stream_whole(summary, client.echoes())
        self.assertEqual(t.fdb_port(GUEST_MAC), t.tap_src, t.fdb())
        stats = t.host.link_stats(t.tap_src)
        self.assertGreater(stats["rx_packets"], summary["sent"] // 2, stats)

    def test_tap_migration_keeps_tcp_stream(self):
        self.migrate_with_stream()

    def test_tap_migration_after_a_pause_keeps_tcp_stream(self):
        # The source is stopped for a second first: the client's frames of
        # that second are lost in the source's tap, TCP must send them again.
        self.migrate_with_stream(pause=1.0)

    def migrate_with_stream(self, pause=0.0):
        t = self.topology("mig")
        uri = "unix:" + os.path.join(self.tmp, "mig.sock")
        src = self.start(t.host, "src", self.tap(t.tap_src), TAP_GUEST)
        dst = self.start(t.host, "dst", self.tap(t.tap_dst), TAP_GUEST, incoming=uri)
        wait_listening(uri, dst)
        for v in (src, dst):
            v.qmp.command("migrate-set-capabilities",
                          capabilities=[{"capability": "events", "state": True}])
        src.expect(rb"(?m)^NET-UP", timeout=120)

        client = netns.StreamClient(t.client, GUEST_IP, ECHO_PORT, interval=0.02)
        client.wait_echoes(50, timeout=30)
        self.assertEqual(t.fdb_port(GUEST_MAC), t.tap_src, t.fdb())
        cap = t.capture([netns.ETH_P_RARP, netns.ETH_P_ARP])
        fdb_moved = []  # when the bridge has the guest's MAC on the destination's tap
        watching = threading.Event()

        def watch_fdb():
            while not watching.is_set() and not fdb_moved:
                if t.fdb_port(GUEST_MAC) == t.tap_dst:
                    fdb_moved.append(time.time())
                watching.wait(0.01)

        watcher = threading.Thread(target=watch_fdb, daemon=True)
        watcher.start()
        self.addCleanup(watching.set)

        src.set_parameters(max_bandwidth=1 << 30)
        if pause:
            src.qmp.command("stop")
            time.sleep(pause)
        src.qmp.command("migrate", uri=uri)
        done = src.qmp.wait_event("MIGRATION", lambda e: e["data"]["status"] in
                                  ("completed", "failed", "cancelled"), timeout=120)
        src_after = t.host.link_stats(t.tap_src)
        self.assertEqual(done["data"]["status"], "completed", done)
        completed = event_time(done)
        stop = event_time(src.qmp.wait_event("STOP", timeout=5))
        dst_done = event_time(dst.qmp.wait_event(
            "MIGRATION", lambda e: e["data"]["status"] == "completed", timeout=30))
        if pause:  # a paused source's guest stays paused on the destination
            dst.qmp.command("cont")
        resume = event_time(dst.qmp.wait_event("RESUME", timeout=30))

        # 2 s of stream on the destination: every announce round is over.
        client.wait_echoed_after(resume + 2.0, timeout=30)
        info = src.migration()
        src_end = t.host.link_stats(t.tap_src)
        summary = client.finish()
        echoes = client.echoes()
        frames = cap.stop()
        watching.set()
        watcher.join(timeout=10)

        from_guest = [f for f in frames
                      if f.src == GUEST_MAC and f.pkttype != netns.PACKET_OUTGOING]
        rarp = [f for f in from_guest if f.ethertype == netns.ETH_P_RARP]
        rarp_dst = [f for f in rarp if f.ifname == t.tap_dst]
        garp = [f for f in from_guest if f.ethertype == netns.ETH_P_ARP and f.t > resume
                and f.ifname == t.tap_dst]
        # The stream's hand-over: the last echo before the source stopped, the
        # first one after the destination resumed, the longest silence.
        times = [e[2] for e in echoes]
        before = max((x for x in times if x < stop), default=None)
        after = min((x for x in times if x > resume), default=None)
        gap_at, gap = max(((times[i], times[i + 1] - times[i]) for i in range(len(times) - 1)),
                          key=lambda g: g[1])
        report = {
            "vmm": os.path.basename(self.vmm),
            "paused_before_migrating_s": pause,
            "downtime_ms (query-migrate)": info.get("downtime"),
            "stop_to_completed": ms(completed - stop),
            "stop_to_resume": ms(resume - stop),
            "last_echo_before_stop": ms(before - stop) if before else None,
            "first_echo_after_resume": ms(after - resume) if after else None,
            "longest_stream_gap": f"{gap * 1000:.0f} ms (from {ms(gap_at - resume)} "
                                  "after resume)",
            "longest_round_trip": f"{max(e[2] - e[1] for e in echoes) * 1000:.0f} ms",
            "fdb_on_tapdst_seen_by (polled)": ms(fdb_moved[0] - resume) if fdb_moved else None,
            "dst_completed_to_resume": ms(resume - dst_done),
            "rarp_on_tapdst_after_resume": [ms(f.t - resume) for f in rarp_dst],
            "rarp_fields": rarp_fields(rarp_dst[0]) if rarp_dst else None,
            "guest_arp_on_tapdst_after_resume": [
                f"{ms(f.t - resume)} {arp_summary(f)}" for f in garp],
            "lines": summary["sent"],
            "tapsrc_rx_packets at completed / end": [src_after["rx_packets"],
                                                     src_end["rx_packets"]],
        }
        print("\nnet migration: " + json.dumps(report, indent=1), file=sys.stderr)

        self.assert_stream_whole(summary, echoes)
        self.assertIsNotNone(after, "no echo after the destination resumed")
        self.assertLess(gap, pause + 10, "the stream stalled")
        self.assertEqual(t.fdb_port(GUEST_MAC), t.tap_dst, t.fdb())
        self.assertTrue(fdb_moved, "the watch did not see the MAC move")
        self.assertEqual(src_end["rx_packets"], src_after["rx_packets"],
                         "the source sent frames after the migration completed")
        self.assertEqual([f for f in from_guest if f.ifname == t.tap_src and f.t > stop], [],
                         "frames from the guest on the source's tap after it stopped")
        self.assertTrue(rarp_dst, f"no RARP announce from {GUEST_MAC} on {t.tap_dst}: {frames}")
        self.assertTrue(all(f.t >= stop for f in rarp), "a RARP before the hand-over")
        self.assertLess(rarp_dst[0].t - resume, 1.0, "the first announce came late")
        fields = rarp_fields(rarp_dst[0])
        self.assertEqual(rarp_dst[0].dst, "ff:ff:ff:ff:ff:ff")
        self.assertEqual((fields["htype"], fields["ptype"], fields["hlen"], fields["plen"],
                          fields["sha"], fields["tha"]),
                         (1, 0x0800, 6, 4, GUEST_MAC, GUEST_MAC), fields)

    def test_user_dhcp_hostfwd_and_host_service(self):
        ns = netns.Namespace.create("user", "user")
        self.addCleanup(ns.delete)
        service = ns.popen([sys.executable, "-u", "-c", HOST_SERVICE], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if service.stdout.readline().strip() != "listening":
            self.fail(f"the host service did not start: {service.communicate(timeout=10)}")
        netdev = (f"user,id=n0,hostfwd=tcp:127.0.0.1:{ECHO_PORT}-:{ECHO_PORT},"
                  "hostfwd=tcp:127.0.0.1:8080-:80")
        vm = self.start(ns, "user", netdev, USER_GUEST, qmp=False)
        out = vm.expect(rb"(?m)^HOST-DONE", timeout=120).replace("\r", "")
        self.assertRegex(out, r"(?m)^DHCP-OK$")
        self.assertRegex(out, r"udhcpc: eth0 10\.0\.2\.15/24 router 10\.0\.2\.2 dns 10\.0\.2\.3")
        self.assertRegex(out, r"(?m)^nameserver 10\.0\.2\.3$")
        self.assertRegex(out, r"(?m)^default via 10\.0\.2\.2 dev eth0")
        self.assertRegex(out, r"(?m)^hello-from-host$")
        service_out, err = service.communicate(timeout=30)
        self.assertEqual(service_out.strip(), "got ping-from-guest from 127.0.0.1", err)

        client = netns.StreamClient(ns, "127.0.0.1", ECHO_PORT)
        client.wait_echoes(20, timeout=30)
        self.assert_stream_whole(client.finish(), client.echoes())
        page = ns.run([sys.executable, "-c", HTTP_GET], timeout=60).stdout
        self.assertEqual(page.strip(), HTTP_PAGE)

