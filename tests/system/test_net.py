"""ferry's network card (virtio-net) and its back ends with the Debian guest.

The scenarios shared with the QEMU reference (net_scenarios.py: echo over a
tap, a TCP stream kept across a live migration, the fdb move and the
announce frames, user-mode DHCP, hostfwd and the host's loopback) run here on
ferry, and then what only ferry's side is asked:

- test_tap_migration_under_a_high_rate_stream: the client sends 96 MiB as
  fast as TCP goes while the guest is migrated mid-stream; the guest's md5sum
  of what it received equals the sender's (TCP resends what the hand-over
  dropped, nothing else may differ).
- test_user_migration_to_another_host: -netdev user on both sides, the
  source in one namespace and the destination in another with the same
  hostfwd (two hosts: a port can't be held twice on one host). After the
  hand-over a new connection through the destination's hostfwd reaches the
  guest's echo, and the guest reaches the destination host's loopback
  service (10.0.2.2), which the source host didn't have. Connections open in
  the source process can't follow (docs/network.md).
- test_announce_self_and_parameters: QMP announce-self sends its rounds of
  RARP (and the guest its gratuitous ARP) on the card's tap at once on a running VM; the announce-* migration
  parameters are set and read back, out-of-range values are refused; HMP
  `info network` shows the card and its back end.
- test_set_link_off_stops_traffic: set_link off and the echo stops (the
  guest sees no carrier); on again and the same connection moves again.
- test_bad_network_options: an unknown netdev option, a missing tap, a MAC
  given to two cards, a hostfwd port already taken: ferry exits at once with
  a message naming the problem.
"""
import os
import re
import subprocess
import sys
import time
import unittest

import netns
import paths
from net_scenarios import (ECHO_PORT, GUEST_IP, GUEST_MAC, HOST_PORT, HOST_SERVICE, TAP_GUEST,
                           NetScenarios, event_time)
from qmp import QmpError
from test_migration import wait_listening, wait_migration

BULK_PORT = 7001
BULK_BYTES = 96 << 20

# Receives one connection and prints the md5 of all it got.
BULK_GUEST = (f"dmesg -n 1; ip addr add {GUEST_IP}/24 dev eth0; ip link set eth0 up; "
              f"echo NET-UP; nc -l -p {BULK_PORT} </dev/null | md5sum")

# Sends `total` bytes (1 MiB blocks, each a little different) as fast as TCP
# takes them, printing its progress; at the end the md5 of what it sent.
BULK_SENDER = """
import hashlib, random, socket, sys, time
addr, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + 60
while True:
    try:
        s = socket.create_connection((addr, port), timeout=5)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.3)
s.settimeout(120)
block = bytearray(random.Random(7).randbytes(1 << 20))
digest = hashlib.md5()
sent = 0
print("connected", time.time(), flush=True)
while sent < total:
    block[0:8] = sent.to_bytes(8, "little")
    s.sendall(block)
    digest.update(block)
    sent += len(block)
    print("sent", sent, time.time(), flush=True)
s.shutdown(socket.SHUT_WR)
print("done", digest.hexdigest(), sent, time.time(), flush=True)
"""

# The guest of the user-mode migration: its DHCP lease, an echo behind the
# hostfwd, and a loop that tries the host's loopback service until it answers.
USER_MIGRATION_GUEST = (
    "dmesg -n 1; udhcpc -i eth0 -q -n -t 5 -T 1 && echo DHCP-OK; "
    f"nc -ll -p {ECHO_PORT} -e cat & echo ECHO-UP; "
    f"until echo ping-from-guest | nc 10.0.2.2 {HOST_PORT}; do sleep 0.5; done; "
    "echo HOST-REACHED; sleep 600")


class FerryNetTest(NetScenarios, unittest.TestCase):
    def vmm_binary(self):
        return paths.FERRY

    def test_tap_migration_under_a_high_rate_stream(self):
        t = self.topology("bulk")
        uri = "unix:" + os.path.join(self.tmp, "mig.sock")
        src = self.start(t.host, "src", self.tap(t.tap_src), BULK_GUEST)
        dst = self.start(t.host, "dst", self.tap(t.tap_dst), BULK_GUEST, incoming=uri)
        wait_listening(uri, dst)
        src.qmp.command("migrate-set-capabilities",
                        capabilities=[{"capability": "events", "state": True}])
        src.expect(rb"(?m)^NET-UP", timeout=120)
        sender = t.client.popen([sys.executable, "-u", "-c", BULK_SENDER, GUEST_IP,
                                 str(BULK_PORT), str(BULK_BYTES)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(sender.kill)
        progress = []  # (bytes sent, time)

        def read_until(predicate):
            for line in sender.stdout:
                words = line.split()
                if words[0] == "sent":
                    progress.append((int(words[1]), float(words[2])))
                if predicate(words):
                    return words
            self.fail(f"the sender stopped: {sender.stderr.read()[-2000:]}")

        read_until(lambda w: w[0] == "sent" and int(w[1]) >= 16 << 20)
        src.set_parameters(max_bandwidth=1 << 30)
        src.qmp.command("migrate", uri=uri)
        done = read_until(lambda w: w[0] == "done")
        sender.wait(timeout=30)
        info = src.qmp.wait_event("MIGRATION", lambda e: e["data"]["status"] in
                                  ("completed", "failed", "cancelled"), timeout=120)
        self.assertEqual(info["data"]["status"], "completed", info)
        completed = event_time(info)
        self.assertLess(completed, float(done[3]), "the migration ended after the stream: "
                        "it did not happen under the stream")
        sent_by_then = max(n for n, at in progress if at <= completed)
        out = dst.expect(rb"ferry-initramfs: exit", timeout=120)
        sums = re.findall(r"([0-9a-f]{32})  -", out)
        self.assertEqual(sums, [done[1]], f"the guest's md5 of the stream; output {out!r}")
        self.assertEqual(int(done[2]), BULK_BYTES)
        print(f"\nbulk stream: {BULK_BYTES >> 20} MiB, migration completed after "
              f"{sent_by_then >> 20} MiB sent, downtime {src.migration().get('downtime')} ms",
              file=sys.stderr)

    def test_user_migration_to_another_host(self):
        hosts = []
        for tag in ("usra", "usrb"):
            ns = netns.Namespace.create(tag, "user")
            self.addCleanup(ns.delete)
            hosts.append(ns)
        a, b = hosts
        # The loopback service only the destination's host has.
        service = b.popen([sys.executable, "-u", "-c", HOST_SERVICE], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(service.kill)
        self.assertEqual(service.stdout.readline().strip(), "listening")
        netdev = f"user,id=n0,hostfwd=tcp:127.0.0.1:{ECHO_PORT}-:{ECHO_PORT}"
        uri = "unix:" + os.path.join(self.tmp, "mig.sock")
        src = self.start(a, "src", netdev, USER_MIGRATION_GUEST)
        dst = self.start(b, "dst", netdev, USER_MIGRATION_GUEST, incoming=uri)
        wait_listening(uri, dst)
        src.expect(rb"(?m)^ECHO-UP", timeout=120)
        before = netns.StreamClient(a, "127.0.0.1", ECHO_PORT)
        before.wait_echoes(10, timeout=30)
        self.assert_stream_whole(before.finish(), before.echoes())
        # The guest's tries at the source host's 10.0.2.2, where nothing listens.
        src.expect(rb"Connection refused", timeout=30)
        self.assertNotRegex(src.output(), rb"(?m)^HOST-REACHED")

        src.qmp.command("migrate", uri=uri)
        self.assertEqual(wait_migration(src, 120)["status"], "completed")
        after = netns.StreamClient(b, "127.0.0.1", ECHO_PORT)
        after.wait_echoes(10, timeout=30)
        self.assert_stream_whole(after.finish(), after.echoes())
        dst.expect(rb"(?m)^hello-from-host", timeout=60)
        dst.expect(rb"(?m)^HOST-REACHED", timeout=30)
        out, err = service.communicate(timeout=30)
        self.assertEqual(out.strip(), "got ping-from-guest from 127.0.0.1", err)

    def test_announce_self_and_parameters(self):
        t = self.topology("ann")
        vm = self.start(t.host, "vm", self.tap(t.tap_src), TAP_GUEST)
        vm.expect(rb"(?m)^NET-UP", timeout=120)
        cap = t.capture([netns.ETH_P_RARP, netns.ETH_P_ARP])
        guest_ip = bytes(map(int, GUEST_IP.split(".")))

        def announces():
            """The RARPs and the guest's gratuitous ARPs seen since `asked`."""
            frames = [f for f in cap.frames() if f.src == GUEST_MAC and f.ifname == t.tap_src
                      and f.pkttype != netns.PACKET_OUTGOING and f.t >= asked]
            return ([f for f in frames if f.ethertype == netns.ETH_P_RARP],
                    [f for f in frames if f.ethertype == netns.ETH_P_ARP
                     and f.data[28:32] == f.data[38:42] == guest_ip])

        asked = time.time()
        # Rounds at +0, +150 and +450 ms: time for the guest to ack each one.
        vm.qmp.command("announce-self", initial=150, max=1000, rounds=3, step=150)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and min(map(len, announces())) < 3:
            time.sleep(0.05)
        cap.stop()
        rarp, garp = announces()
        self.assertEqual(len(rarp), 3, rarp)
        # The guest's own announce each round (GUEST_ANNOUNCE): a gratuitous
        # ARP for its address, once its driver acked the round before.
        self.assertEqual(len(garp), 3, garp)
        offsets = [f.t - asked for f in rarp]
        self.assertLess(offsets[0], 0.2, offsets)
        self.assertGreater(offsets[1] - offsets[0], 0.1, offsets)
        self.assertGreater(offsets[2] - offsets[1], 0.25, offsets)

        vm.set_parameters(announce_initial=10, announce_max=200, announce_rounds=2,
                          announce_step=40)
        params = vm.qmp.command("query-migrate-parameters")
        self.assertEqual([params[k] for k in ("announce-initial", "announce-max",
                                              "announce-rounds", "announce-step")],
                         [10, 200, 2, 40])
        with self.assertRaises(QmpError) as bad:
            vm.set_parameters(announce_rounds=1001)
        self.assertIn("announce-rounds", bad.exception.desc)
        with self.assertRaises(QmpError):
            vm.qmp.command("announce-self", initial=10, max=100, rounds=1, step=0)

        shown = vm.qmp.command("human-monitor-command", **{"command-line": "info network"})
        self.assertIn(GUEST_MAC, shown)
        self.assertIn(t.tap_src, shown)

    def test_set_link_off_stops_traffic(self):
        t = self.topology("link")
        vm = self.start(t.host, "vm", self.tap(t.tap_src), TAP_GUEST)
        vm.expect(rb"(?m)^NET-UP", timeout=120)
        client = netns.StreamClient(t.client, GUEST_IP, ECHO_PORT, interval=0.02)
        client.wait_echoes(10, timeout=30)
        vm.qmp.command("set_link", {"name": "n0", "up": False})
        time.sleep(0.3)  # echoes already on the way may still land
        cut = time.time()
        time.sleep(1.5)  # a window to see that none come back (no event marks an absence)
        self.assertEqual([e for e in client.echoes() if e[2] > cut], [],
                         "echoes came back with the link down")
        vm.qmp.command("set_link", {"name": "n0", "up": True})
        client.wait_echoed_after(time.time(), timeout=30)
        self.assert_stream_whole(client.finish(), client.echoes())

    def test_bad_network_options(self):
        ns = netns.Namespace.create("bad", "host")
        self.addCleanup(ns.delete)
        base = [self.vmm, "-M", "virt", "-m", "64M", "-nographic", "-kernel",
                paths.guest("hello")]

        def refused(*args):
            r = ns.run(base + list(args), check=False, timeout=30)
            self.assertNotEqual(r.returncode, 0, f"{args} was accepted")
            return r.stderr

        card = ["-device", "virtio-net-device,netdev=n0"]
        self.assertIn("Invalid parameter 'bogus'",
                      refused("-netdev", "user,id=n0,bogus=1", *card))
        self.assertIn("there is no tap device 'nosuchtap0'",
                      refused("-netdev", "tap,id=n0,ifname=nosuchtap0,script=no,downscript=no",
                              *card))
        self.assertNotIn("nosuchtap0", ns.run(["ip", "link"]).stdout,
                         "a missing tap was created")
        self.assertIn("MAC address 52:54:00:00:00:01 is already used by another network card",
                      refused("-netdev", "user,id=n0", "-netdev", "user,id=n1",
                              "-device", "virtio-net-device,netdev=n0,mac=52:54:00:00:00:01",
                              "-device", "virtio-net-device,netdev=n1,mac=52:54:00:00:00:01"))
        holder = ns.popen([sys.executable, "-c", "import socket,time; s=socket.socket(); "
                           "s.bind(('127.0.0.1', 7070)); s.listen(); print('up', flush=True); "
                           "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.kill)
        self.assertEqual(holder.stdout.readline().strip(), "up")
        err = refused("-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:7070-:80", *card)
        self.assertIn("7070", err)


if __name__ == "__main__":
    unittest.main()
