"""Random differential test of the F and D extensions against qemu-system-riscv64.

The fp-random guest runs random F/D instructions with random rounding modes over hard
operands and prints one digest (results and fcsr) per seed; ferry and QEMU must print the
same lines. On a difference the first differing seed is run again on both with every
instruction printed, and the first instruction that differs is reported."""
import subprocess
import unittest

import paths

SEEDS = "1-128"
OPS = 1024


def run(binary, append, timeout=300):
    argv = [binary, "-M", "virt", "-m", "256M", "-bios", "none", "-nographic",
            "-kernel", paths.guest("fp-random"), "-append", append]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace").splitlines(), p.stderr


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


class FpRandom(unittest.TestCase):
    def test_digests_match_qemu(self):
        qemu = paths.qemu()
        args = f"seeds={SEEDS} ops={OPS}"
        rc_q, out_q, err_q = run(qemu, args)
        self.assertEqual(rc_q, 0, f"fp-random fails on QEMU itself: {err_q!r}")
        rc_f, out_f, err_f = run(paths.FERRY, args)
        self.assertEqual(rc_f, 0, f"fp-random fails on ferry: {err_f!r}")
        first, last = (int(x) for x in SEEDS.split("-"))
        self.assertEqual(len(out_q), last - first + 2, "QEMU printed an unexpected number of lines")
        i = first_difference(out_f, out_q)
        if i is None:
            return
        seed = first + i
        detail = ""
        if i < last - first + 1:
            _, dump_f, _ = run(paths.FERRY, f"dump={seed} ops={OPS}")
            _, dump_q, _ = run(qemu, f"dump={seed} ops={OPS}")
            j = first_difference(dump_f, dump_q)
            if j is not None:
                detail = (f"\nfirst differing instruction of seed {seed}:\n"
                          f"  ferry: {dump_f[j] if j < len(dump_f) else '(missing)'}\n"
                          f"  QEMU:  {dump_q[j] if j < len(dump_q) else '(missing)'}")
        self.fail(f"digests differ from seed {seed}:\n  ferry: "
                  f"{out_f[i] if i < len(out_f) else '(missing)'}\n  QEMU:  {out_q[i]}{detail}")


if __name__ == "__main__":
    unittest.main()
