#!/usr/bin/env python3
"""Runs one unittest module for ctest and tells ctest how it went:

    run_unittest.py test_migration        (from tests/system, as ctest does)

exit 0   every test ran and passed
exit 1   a test failed or raised, the module did not load, or it holds no test
exit 77  nothing failed but some tests were skipped (ctest's SKIP_RETURN_CODE:
         the test is reported as skipped, not as passed); the skipped tests and
         the reasons are printed at the end

A tool the tests need (qemu-system-riscv64, the firmware) is not a reason to
skip: the tests fail when it is missing.
"""
import os
import sys
import unittest

SKIPPED = 77


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} MODULE", file=sys.stderr)
        return 2
    name = argv[1]
    sys.path.insert(0, os.getcwd())  # as `python3 -m unittest` does: modules in the cwd
    # An import error becomes a test that fails (unittest's _FailedTest).
    suite = unittest.TestLoader().loadTestsFromName(name)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    out = sys.stderr
    if not result.wasSuccessful():
        print(f"{name}: FAILED ({len(result.failures)} failures, {len(result.errors)} errors, "
              f"{len(result.unexpectedSuccesses)} unexpected successes)", file=out)
        return 1
    if result.testsRun == 0:
        print(f"{name}: FAILED: no test ran", file=out)
        return 1
    if result.skipped:
        print(f"{name}: {len(result.skipped)} of {result.testsRun} tests SKIPPED "
              f"(exit code {SKIPPED}: reported as skipped, not passed):", file=out)
        for test, reason in result.skipped:
            print(f"  {test.id()}: {reason}", file=out)
        return SKIPPED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
