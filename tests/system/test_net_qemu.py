"""The network scenarios of net_scenarios.py on QEMU: the reference the
same scenarios on ferry (test_net) are read against.

QEMU 7.2 on this project's 2-core machine (4 tests, ~24 s): the live
migration stops the guest for ~1 ms; the echo stream's longest silence is
~35-50 ms (its 20 ms cadence plus the round trip), its first echo after
RESUME +32-35 ms; the destination sends its first RARP at once (+0 ms after
RESUME), then at +50, +200, +450, +800 ms (announce-initial 50 ms, step
100 ms, 5 rounds), and the bridge has the MAC on tapdst within ms; the guest
(virtio-net's GUEST_ANNOUNCE) adds gratuitous ARPs at ~+30, +90, +240, +490,
+840 ms. After a 1 s pause the stream is silent ~1.7 s and moves again
~70-100 ms after `cont`.
"""
import unittest

import paths
from net_scenarios import NetScenarios


class QemuNetTest(NetScenarios, unittest.TestCase):
    def vmm_binary(self):
        return paths.qemu()


if __name__ == "__main__":
    unittest.main()
