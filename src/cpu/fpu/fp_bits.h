// The F/D operations that only move or inspect bits: sign injection (FSGNJ,
// FSGNJN, FSGNJX) and FCLASS. They never raise a flag.
#pragma once

#include <cstdint>

#include "cpu/fpu/fp_format.h"

namespace ferry::fpu {

enum class SignInjection : uint8_t { kCopy = 0, kNegate = 1, kXor = 2 };  // funct3

// a's magnitude with a sign taken from b.
template <class F>
inline typename F::Bits inject_sign(typename F::Bits a, typename F::Bits b, SignInjection kind) {
  switch (kind) {
    case SignInjection::kCopy: return (a & ~F::kSign) | (b & F::kSign);
    case SignInjection::kNegate: return (a & ~F::kSign) | (~b & F::kSign);
    case SignInjection::kXor: return a ^ (b & F::kSign);
  }
  return a;
}

// FCLASS: one bit set, 0 = -inf, 1 = negative normal, 2 = negative subnormal,
// 3 = -0, 4 = +0, 5 = positive subnormal, 6 = positive normal, 7 = +inf,
// 8 = signaling NaN, 9 = quiet NaN.
template <class F>
inline uint64_t classify(typename F::Bits a) {
  if (is_nan<F>(a)) return is_signaling_nan<F>(a) ? 1u << 8 : 1u << 9;
  const bool negative = sign_of<F>(a);
  unsigned bit;
  if (is_infinity<F>(a)) bit = 0;
  else if (is_zero<F>(a)) bit = 3;
  else if ((a & F::kInfinity) == 0) bit = 2;  // subnormal
  else bit = 1;
  return negative ? 1u << bit : 1u << (7 - bit);
}

}  // namespace ferry::fpu
