// Exact arithmetic helpers on wide significands for the software FP paths:
// a value is `sig * 2^exp` with `sig` an unsigned 128-bit integer. Bits shifted
// out to the right are "jammed" into bit 0, which keeps the one fact rounding
// needs from them (were they all zero?) as long as bit 0 stays at least two
// places below the rounding position.
#pragma once

#include <cstdint>

#include "cpu/fpu/fp_format.h"

namespace ferry::fpu {

using uint128 = unsigned __int128;

// Number of significant bits (0 for 0).
inline int bit_length(uint128 v) {
  const uint64_t hi = static_cast<uint64_t>(v >> 64), lo = static_cast<uint64_t>(v);
  if (hi) return 128 - __builtin_clzll(hi);
  return lo ? 64 - __builtin_clzll(lo) : 0;
}

// v >> n with every lost bit ORed into bit 0 (n <= 0: v unchanged).
inline uint128 shift_right_jam(uint128 v, int n) {
  if (n <= 0) return v;
  if (n >= 128) return v != 0;
  const uint128 lost = v & ((static_cast<uint128>(1) << n) - 1);
  return (v >> n) | (lost != 0);
}

// v / 2^n rounded to an integer in mode `rm` (`negative`: the sign of the
// value v stands for, which directed modes need). n >= 1. Sets `inexact`
// when bits were lost.
inline uint128 round_shift(uint128 v, int n, bool negative, RoundingMode rm, bool& inexact) {
  uint128 kept = 0, rest = v;
  bool above_half = false, at_half = false;  // n > 128: v is below half a unit
  if (n <= 128) {
    const uint128 half = static_cast<uint128>(1) << (n - 1);
    if (n < 128) {
      kept = v >> n;
      rest = v & ((half << 1) - 1);
    }
    above_half = rest > half;
    at_half = rest == half;
  }
  inexact = rest != 0;
  bool up = false;
  switch (rm) {
    case kNearestEven: up = above_half || (at_half && (kept & 1)); break;
    case kNearestMaxMag: up = above_half || at_half; break;
    case kTowardZero: up = false; break;
    case kDown: up = negative && inexact; break;
    case kUp: up = !negative && inexact; break;
    default: break;
  }
  return kept + (up ? 1 : 0);
}

}  // namespace ferry::fpu
