// FCVT.{W,WU,L,LU}.{S,D}: a float rounded to an integer in any of the five
// rounding modes, saturating as the spec's table says: NaN and too-large
// positive inputs give the largest integer, too-large negative ones the
// smallest (0 for the unsigned forms), all with only the invalid flag set;
// otherwise inexact when the value had a fraction.
//
// Computed in software on all hosts (x86's conversions return 0x80..0 on
// overflow and know no unsigned or ties-to-max-magnitude forms).
#pragma once

#include <cstdint>

#include "cpu/fpu/fp_format.h"

namespace ferry::fpu {

enum class IntegerKind : uint8_t { kW = 0, kWU = 1, kL = 2, kLU = 3 };  // the rs2 field

// The x-register value: the W forms are sign-extended from 32 bits (WU too).
template <class F>
[[gnu::always_inline]] inline uint64_t to_integer(typename F::Bits a, IntegerKind kind, RoundingMode rm,
                           uint32_t& flags) {
  const bool is_signed = kind == IntegerKind::kW || kind == IntegerKind::kL;
  const bool wide = kind == IntegerKind::kL || kind == IntegerKind::kLU;
  const uint64_t max_magnitude = wide ? (is_signed ? INT64_MAX : UINT64_MAX)
                                      : (is_signed ? INT32_MAX : UINT32_MAX);
  auto result = [wide](uint64_t v) {
    return wide ? v : static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
  };
  const bool negative = sign_of<F>(a) && !is_nan<F>(a);
  // The saturated value for this sign.
  const uint64_t saturated =
      !negative ? max_magnitude : !is_signed ? 0 : wide ? 1ull << 63 : 0xffffffff80000000ull;
  if (is_nan<F>(a) || is_infinity<F>(a)) {
    flags |= kInvalid;
    return result(saturated);
  }
  if (is_zero<F>(a)) return 0;
  const int biased = static_cast<int>((a & F::kInfinity) >> F::kMantissaBits);
  // a = sig * 2^exp; 64-bit arithmetic is enough (sig has at most 53 bits).
  uint64_t sig = a & F::kMantissa;
  int exp = 1 - F::kBias - F::kMantissaBits;
  if (biased != 0) {
    sig |= typename F::Bits{1} << F::kMantissaBits;
    exp = biased - F::kBias - F::kMantissaBits;
  }
  uint64_t magnitude;
  bool inexact = false;
  if (exp >= 0) {
    if (biased - F::kBias >= 64) {  // 2^64 or more
      flags |= kInvalid;
      return result(saturated);
    }
    magnitude = sig << exp;
  } else {
    const int n = -exp;
    uint64_t rest = sig;
    bool above_half = false, at_half = false;  // n >= 64: sig < 2^53 is below half
    magnitude = 0;
    if (n < 64) {
      const uint64_t half = 1ull << (n - 1);
      magnitude = sig >> n;
      rest = sig & ((half << 1) - 1);
      above_half = rest > half;
      at_half = rest == half;
    }
    inexact = rest != 0;
    bool up = false;
    switch (rm) {
      case kNearestEven: up = above_half || (at_half && (magnitude & 1)); break;
      case kNearestMaxMag: up = above_half || at_half; break;
      case kDown: up = negative && inexact; break;
      case kUp: up = !negative && inexact; break;
      default: break;
    }
    magnitude += up ? 1 : 0;
  }
  const bool in_range = !negative ? magnitude <= max_magnitude
                        : is_signed ? magnitude <= max_magnitude + 1
                                    : magnitude == 0;
  if (!in_range) {
    flags |= kInvalid;
    return result(saturated);
  }
  if (inexact) flags |= kInexact;
  return result(negative ? 0 - magnitude : magnitude);
}

}  // namespace ferry::fpu
