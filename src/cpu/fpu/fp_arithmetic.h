// The rounding F/D operations as the interpreter calls them: add, sub, mul,
// div, sqrt, the fused multiply-adds and the conversions. Each picks its
// path by rounding mode: the host FPU (host_fpu.h) for RNE, RTZ, RDN and RUP,
// software (soft_float.h, fp_to_integer.h) for RMM, for a host without the
// fast path and for the conversions' edge cases, and settles what the host
// does differently (inf * 0 + qNaN is invalid on RISC-V).
//
// `rm` is resolved (never kDynamic, never reserved). Flags of the software
// paths are ORed into `flags`; those of the host path wait in `host` (see
// HostFpContext). Results that are NaN are the canonical NaN.
#pragma once

#include <cstdint>

#include "cpu/fpu/fp_format.h"
#include "cpu/fpu/fp_to_integer.h"
#include "cpu/fpu/host_fpu.h"
#include "cpu/fpu/soft_float.h"

namespace ferry::fpu {

// The host path takes every rounding mode but RMM.
#if FERRY_HOST_FPU
#define FERRY_FP_ON_HOST(rm, expr)       \
  do {                                   \
    if (host.use(rm)) return expr;       \
  } while (0)
#else
#define FERRY_FP_ON_HOST(rm, expr) \
  do {                             \
    (void)host;                    \
  } while (0)
#endif

template <class F>
inline typename F::Bits add(HostFpContext& host, typename F::Bits a, typename F::Bits b,
                            RoundingMode rm, uint32_t& flags) {
  FERRY_FP_ON_HOST(rm, host::add<F>(a, b));
  return soft::add<F>(a, b, rm, flags);
}

template <class F>
inline typename F::Bits sub(HostFpContext& host, typename F::Bits a, typename F::Bits b,
                            RoundingMode rm, uint32_t& flags) {
  FERRY_FP_ON_HOST(rm, host::sub<F>(a, b));
  return soft::sub<F>(a, b, rm, flags);
}

template <class F>
inline typename F::Bits mul(HostFpContext& host, typename F::Bits a, typename F::Bits b,
                            RoundingMode rm, uint32_t& flags) {
  FERRY_FP_ON_HOST(rm, host::mul<F>(a, b));
  return soft::mul<F>(a, b, rm, flags);
}

template <class F>
inline typename F::Bits div(HostFpContext& host, typename F::Bits a, typename F::Bits b,
                            RoundingMode rm, uint32_t& flags) {
  FERRY_FP_ON_HOST(rm, host::div<F>(a, b));
  return soft::div<F>(a, b, rm, flags);
}

template <class F>
inline typename F::Bits sqrt(HostFpContext& host, typename F::Bits a, RoundingMode rm,
                             uint32_t& flags) {
  FERRY_FP_ON_HOST(rm, host::sqrt<F>(a));
  return soft::sqrt<F>(a, rm, flags);
}

#if FERRY_HOST_FPU
// The host's fused multiply-add; NaN results settled as RISC-V wants them.
template <class F>
inline typename F::Bits host_fma(typename F::Bits a, typename F::Bits b, typename F::Bits c,
                                 bool negate_product, bool negate_addend, uint32_t& flags) {
  bool nan;
  const typename F::Bits r = host::fma<F>(a, b, c, negate_product, negate_addend, nan);
  if (__builtin_expect(!nan, 1)) return r;
  // RISC-V makes inf * 0 invalid even with a quiet NaN addend; x86 need not.
  if ((is_infinity<F>(a) && is_zero<F>(b)) || (is_zero<F>(a) && is_infinity<F>(b)))
    flags |= kInvalid;
  return F::kCanonicalNan;
}
#endif

template <class F>
[[gnu::always_inline]] inline typename F::Bits fma(HostFpContext& host, typename F::Bits a, typename F::Bits b,
                            typename F::Bits c, bool negate_product, bool negate_addend,
                            RoundingMode rm, uint32_t& flags) {
  if (HostFpContext::has_fma())
    FERRY_FP_ON_HOST(rm, host_fma<F>(a, b, c, negate_product, negate_addend, flags));
  return soft::fma<F>(a, b, c, negate_product, negate_addend, rm, flags);
}

// FCVT.S.D.
inline uint32_t double_to_single(HostFpContext& host, uint64_t a, RoundingMode rm,
                                 uint32_t& flags) {
  FERRY_FP_ON_HOST(rm, host::double_to_single(a));
  return soft::convert<Float32, Float64>(a, rm, flags);
}

// FCVT.D.S: exact, so always in software (only a signaling NaN raises a flag).
inline uint64_t single_to_double(uint32_t a, uint32_t& flags) {
  return soft::convert<Float64, Float32>(a, kNearestEven, flags);
}

// FCVT.{S,D}.{W,WU,L,LU}: the x register `x` read as integer kind K, rounded to F.
template <class F, IntegerKind K>
[[gnu::always_inline]] inline typename F::Bits from_integer(HostFpContext& host, uint64_t x,
                                                            RoundingMode rm, uint32_t& flags) {
  int64_t value = static_cast<int64_t>(x);
  if constexpr (K == IntegerKind::kW) value = static_cast<int32_t>(x);
  if constexpr (K == IntegerKind::kWU) value = static_cast<uint32_t>(x);
  if constexpr (K == IntegerKind::kLU) {
    FERRY_FP_ON_HOST(rm, host::from_uint64<F>(x));
    return soft::from_integer<F>(false, x, rm, flags);
  } else {
    FERRY_FP_ON_HOST(rm, host::from_int64<F>(value));
    const bool negative = value < 0;
    return soft::from_integer<F>(negative, negative ? 0 - static_cast<uint64_t>(value)
                                                    : static_cast<uint64_t>(value),
                                 rm, flags);
  }
}

// FCVT.{W,WU,L,LU}.{S,D}. Values well inside the range (below 2^30 or 2^62 in
// magnitude, and not negative for the unsigned kinds) are converted by the
// host in the rounding mode; the rest (saturation, NaN, RMM) in software.
template <class F, IntegerKind K>
[[gnu::always_inline]] inline uint64_t to_integer(HostFpContext& host, typename F::Bits a,
                                                  RoundingMode rm, uint32_t& flags) {
#if FERRY_HOST_FPU
  constexpr bool kSigned = K == IntegerKind::kW || K == IntegerKind::kL;
  constexpr int kLimit = (K == IntegerKind::kL || K == IntegerKind::kLU) ? 62 : 30;
  constexpr typename F::Bits kLimitBits = static_cast<typename F::Bits>(F::kBias + kLimit)
                                          << F::kMantissaBits;
  if (__builtin_expect((a & ~F::kSign) < kLimitBits && (kSigned || !sign_of<F>(a)), 1))
    FERRY_FP_ON_HOST(rm, static_cast<uint64_t>(host::to_int64<F>(a)));
#endif
  return to_integer<F>(a, K, rm, flags);
}

#undef FERRY_FP_ON_HOST

}  // namespace ferry::fpu
