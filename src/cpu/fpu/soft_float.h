// Software IEEE 754 arithmetic on binary32 and binary64, in all five RISC-V
// rounding modes, with the exception flags RISC-V defines (tininess detected
// after rounding, NaN results canonical).
//
// It is the only path for round-to-nearest, ties-to-max-magnitude (RMM), which
// no host FPU offers, the whole FPU on hosts without the x86-64 fast path, and
// the reference the host path is tested against. Pure functions: `rm` is never
// kDynamic or reserved; raised flags are ORed into `flags`.
#pragma once

#include <cstdint>

#include "cpu/fpu/fp_format.h"

namespace ferry::fpu::soft {

template <class F>
typename F::Bits add(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags);
template <class F>
typename F::Bits sub(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags);
template <class F>
typename F::Bits mul(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags);
template <class F>
typename F::Bits div(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags);
template <class F>
typename F::Bits sqrt(typename F::Bits a, RoundingMode rm, uint32_t& flags);

// (a * b) + c with one rounding; the negations are applied before it, so
// FMSUB = fma(.., negate_addend), FNMSUB = fma(.., negate_product) and
// FNMADD = fma(.., both).
template <class F>
typename F::Bits fma(typename F::Bits a, typename F::Bits b, typename F::Bits c,
                     bool negate_product, bool negate_addend, RoundingMode rm, uint32_t& flags);

// Format conversion (FCVT.S.D rounds; FCVT.D.S is exact).
template <class To, class From>
typename To::Bits convert(typename From::Bits a, RoundingMode rm, uint32_t& flags);

// An integer of magnitude `magnitude` (negated when `negative`), rounded to F.
template <class F>
typename F::Bits from_integer(bool negative, uint64_t magnitude, RoundingMode rm,
                              uint32_t& flags);

}  // namespace ferry::fpu::soft
