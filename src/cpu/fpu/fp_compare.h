// FEQ, FLT, FLE, FMIN and FMAX. Computed on the bit patterns: no rounding,
// and the flags are the spec's own rules rather than any host's.
//   FEQ is a quiet comparison: only a signaling NaN sets invalid.
//   FLT and FLE are signaling: any NaN sets invalid. A NaN compares false.
//   FMIN/FMAX are IEEE 754-2019 minimumNumber/maximumNumber (F/D 2.2): -0 < +0,
//   a NaN operand loses to a number, two NaNs give the canonical NaN, and a
//   signaling NaN sets invalid even when the result is a number.
#pragma once

#include <cstdint>

#include "cpu/fpu/fp_format.h"

namespace ferry::fpu {

namespace internal {
// a < b for non-NaN a, b, with -0 == +0.
template <class F>
inline bool ordered_less(typename F::Bits a, typename F::Bits b) {
  if (is_zero<F>(a) && is_zero<F>(b)) return false;
  const bool na = sign_of<F>(a), nb = sign_of<F>(b);
  if (na != nb) return na;
  return na ? a > b : a < b;  // sign-magnitude: larger magnitude bits = larger value
}
}  // namespace internal

template <class F>
inline bool equal(typename F::Bits a, typename F::Bits b, uint32_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_signaling_nan<F>(a) || is_signaling_nan<F>(b)) flags |= kInvalid;
    return false;
  }
  return a == b || (is_zero<F>(a) && is_zero<F>(b));
}

template <class F>
inline bool less(typename F::Bits a, typename F::Bits b, uint32_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    flags |= kInvalid;
    return false;
  }
  return internal::ordered_less<F>(a, b);
}

template <class F>
inline bool less_or_equal(typename F::Bits a, typename F::Bits b, uint32_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    flags |= kInvalid;
    return false;
  }
  return !internal::ordered_less<F>(b, a);
}

// want_max: FMAX, else FMIN.
template <class F>
inline typename F::Bits min_max(typename F::Bits a, typename F::Bits b, bool want_max,
                                uint32_t& flags) {
  const bool nan_a = is_nan<F>(a), nan_b = is_nan<F>(b);
  if (nan_a || nan_b) {
    if (is_signaling_nan<F>(a) || is_signaling_nan<F>(b)) flags |= kInvalid;
    if (nan_a && nan_b) return F::kCanonicalNan;
    return nan_a ? b : a;
  }
  if (is_zero<F>(a) && is_zero<F>(b)) return want_max ? (a & b) : (a | b);  // -0 < +0
  return internal::ordered_less<F>(a, b) != want_max ? a : b;
}

}  // namespace ferry::fpu
