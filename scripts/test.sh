#!/bin/bash
# Everything from a fresh Debian 12 machine to a full test run:
# packages, build, all tests (ctest), the unit tests again under
# AddressSanitizer + UBSan, then the stream fuzzer for a bounded time
# (scripts/fuzz.sh). A skipped test shows as skipped in ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 900)
# Sanitizer build: unit tests only (the system tests would be slow under ASan).
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON \
      -DFERRY_GUESTS=OFF >/dev/null
cmake --build build-asan -j "$(nproc)" --target ferry_unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  build-asan/tests/ferry_unit_tests --gtest_brief=1
# libFuzzer on the incoming stream, seeded with streams saved by build/ferry;
# any crash fails (FUZZ_SECONDS, default 75).
scripts/fuzz.sh
