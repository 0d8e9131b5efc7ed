#!/bin/bash
# Fuzzes the incoming migration stream for a bounded time; any crash fails.
#
#   scripts/fuzz.sh          (after scripts/build.sh; scripts/test.sh runs it last)
#
# 1. builds tests/fuzz/stream_fuzzer (clang, libFuzzer, ASan + UBSan) in build-fuzz/;
# 2. makes a seed corpus of real streams: build/ferry runs small guests and saves
#    them through QMP `migrate` (tests/fuzz/make_corpus.py), plus truncated and
#    damaged copies. It is made anew each time, by the ferry of this tree, so it
#    follows the current stream format;
# 3. runs the fuzzer for FUZZ_SECONDS (default 75). A crash, a sanitizer report, an
#    input that takes over 10 s, memory over the limit, or a single allocation over
#    64 MiB (a length read from the input believed: no state of the fuzzer's
#    4 MiB VM needs one; the largest bounded one is a device section's 16 MiB)
#    ends it non-zero; the input is kept in build-fuzz/artifacts/ (replay:
#    build-fuzz/stream_fuzzer FILE; with FERRY_FUZZ_VERBOSE=1 it prints what each
#    input came to: "loaded" or the loader's message).
#
# Environment: FUZZ_SECONDS (75), JOBS (build parallelism, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-75}
JOBS=${JOBS:-$(nproc)}
OUT=build-fuzz

fail() { echo "fuzz.sh: $*" >&2; exit 1; }

for f in build/ferry build/guests/hello.elf build/guests/heartbeat.elf; do
  [ -e "$f" ] || fail "$f is missing: run scripts/build.sh first"
done
command -v clang++ >/dev/null || fail "clang++ is required (scripts/install-deps.sh installs it)"

echo "fuzz.sh: building the fuzz target in $OUT/"
cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_FUZZ=ON \
      -DFERRY_GUESTS=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$OUT" -j "$JOBS" --target stream_fuzzer ||
  fail "the fuzz target tests/fuzz/stream_fuzzer.cc does not build"

rm -rf "$OUT/seeds" "$OUT/corpus" "$OUT/artifacts"
mkdir -p "$OUT/seeds" "$OUT/corpus" "$OUT/artifacts"
echo "fuzz.sh: making the seed corpus with build/ferry"
PYTHONDONTWRITEBYTECODE=1 python3 tests/fuzz/make_corpus.py --ferry build/ferry \
  --guests build/guests "$OUT/seeds" || fail "could not make the seed corpus"

# Inputs as long as the longest real stream (libFuzzer would cut them at 1 MiB,
# dropping the device state at their end).
max_len=$(find "$OUT/seeds" -type f -printf '%s\n' | sort -n | tail -n 1)
log="$OUT/fuzz.log"
echo "fuzz.sh: fuzzing for ${FUZZ_SECONDS} s (max_len $max_len; log in $log)"
rc=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
timeout --kill-after=30 $((FUZZ_SECONDS + 300)) \
  "$OUT/stream_fuzzer" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=64 -max_len="$max_len" -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 \
    "$OUT/corpus" "$OUT/seeds" >"$log" 2>&1 || rc=$?

artifacts=$(find "$OUT/artifacts" -type f | sort)
if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
  tail -n 100 "$log" >&2
  echo >&2
  echo "fuzz.sh: FAILED: the fuzzer exited with code $rc" >&2
  for a in $artifacts; do
    echo "  input: $a   (replay: $OUT/stream_fuzzer $a)" >&2
  done
  exit 1
fi
grep -E '^(INFO: seed corpus|#[0-9]+[[:space:]]+(INITED|DONE))|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^Done ' \
  "$log" || tail -n 10 "$log"
echo "fuzz.sh: no crash in ${FUZZ_SECONDS} s"
