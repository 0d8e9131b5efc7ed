#include "cpu/fpu/soft_float.h"

#include <utility>

#include "cpu/fpu/significand.h"

namespace ferry::fpu::soft {

namespace {

// A finite non-zero value: sig * 2^exp.
struct Unpacked {
  bool negative;
  int exp;
  uint128 sig;
};

template <class F>
Unpacked unpack(typename F::Bits a) {
  const int biased = static_cast<int>((a & F::kInfinity) >> F::kMantissaBits);
  const typename F::Bits mantissa = a & F::kMantissa;
  if (biased == 0) return {sign_of<F>(a), 1 - F::kBias - F::kMantissaBits, mantissa};
  return {sign_of<F>(a), biased - F::kBias - F::kMantissaBits,
          mantissa | (typename F::Bits{1} << F::kMantissaBits)};
}

template <class F>
typename F::Bits signed_zero(bool negative) {
  return negative ? F::kSign : 0;
}
template <class F>
typename F::Bits signed_infinity(bool negative) {
  return signed_zero<F>(negative) | F::kInfinity;
}
template <class F>
typename F::Bits invalid(uint32_t& flags) {
  flags |= kInvalid;
  return F::kCanonicalNan;
}

// Rounds sig * 2^exp (sig != 0, any width) to F in mode rm: overflow,
// subnormals and tininess after rounding included.
template <class F>
typename F::Bits round_pack(bool negative, int exp, uint128 sig, RoundingMode rm,
                            uint32_t& flags) {
  using Bits = typename F::Bits;
  constexpr int kPrecision = F::kMantissaBits + 1;
  constexpr int kMinExp = 1 - F::kBias;  // exponent of the smallest normal
  constexpr int kMaxExp = F::kBias;      // exponent of the largest finite
  const int top = exp + bit_length(sig) - 1;
  // The weight of the last bit kept: precision bits below the leading one,
  // but never below the subnormal quantum.
  int quantum = (top > kMinExp ? top : kMinExp) - (kPrecision - 1);
  uint128 m;
  bool inexact = false;
  if (quantum <= exp) {
    m = sig << (exp - quantum);
  } else {
    m = round_shift(sig, quantum - exp, negative, rm, inexact);
    if (m >> kPrecision) {  // rounding carried into a new leading bit
      m >>= 1;
      ++quantum;
    }
  }
  if (m >> (kPrecision - 1) && quantum + kPrecision - 1 > kMaxExp) {
    flags |= kOverflow | kInexact;
    const bool to_infinity = rm == kNearestEven || rm == kNearestMaxMag ||
                             (rm == kDown && negative) || (rm == kUp && !negative);
    return signed_zero<F>(negative) | (to_infinity ? F::kInfinity : F::kInfinity - 1);
  }
  if (inexact) {
    flags |= kInexact;
    // Tiny: below the smallest normal even when rounded to full precision
    // with an unbounded exponent (RISC-V detects tininess after rounding).
    bool tiny = top < kMinExp;
    if (top == kMinExp - 1) {
      const int full = top - (kPrecision - 1);
      bool ignored;
      if (full > exp && (round_shift(sig, full - exp, negative, rm, ignored) >> kPrecision))
        tiny = false;
    }
    if (tiny) flags |= kUnderflow;
  }
  // A normal m has its leading bit at kPrecision - 1, which the addition
  // carries into the exponent field; a subnormal has quantum = the minimum.
  Bits bits = static_cast<Bits>(m);
  if (m >> (kPrecision - 1))
    bits = static_cast<Bits>(m & F::kMantissa) |
           (static_cast<Bits>(quantum + kPrecision - 1 + F::kBias) << F::kMantissaBits);
  return signed_zero<F>(negative) | bits;
}

// x + y for finite non-zero operands (x or y may be wider than F, e.g. an
// exact product). The operand with the higher leading bit is placed with it
// at bit 125; the other is aligned to it, jammed if it has to move right, in
// which case it is far below the rounding position.
template <class F>
typename F::Bits add_unpacked(Unpacked x, Unpacked y, RoundingMode rm, uint32_t& flags) {
  if (x.exp + bit_length(x.sig) < y.exp + bit_length(y.sig)) std::swap(x, y);
  const int exp = x.exp + bit_length(x.sig) - 1 - 125;
  auto align = [exp](const Unpacked& u) {
    return u.exp >= exp ? u.sig << (u.exp - exp) : shift_right_jam(u.sig, exp - u.exp);
  };
  const uint128 sx = align(x), sy = align(y);
  if (x.negative == y.negative) return round_pack<F>(x.negative, exp, sx + sy, rm, flags);
  if (sx == sy) return signed_zero<F>(rm == kDown);  // exact cancellation
  if (sx > sy) return round_pack<F>(x.negative, exp, sx - sy, rm, flags);
  return round_pack<F>(y.negative, exp, sy - sx, rm, flags);
}

template <class F>
typename F::Bits add_signed(typename F::Bits a, typename F::Bits b, bool negate_b,
                            RoundingMode rm, uint32_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_signaling_nan<F>(a) || is_signaling_nan<F>(b)) flags |= kInvalid;
    return F::kCanonicalNan;
  }
  if (negate_b) b ^= F::kSign;
  if (is_infinity<F>(a)) {
    if (is_infinity<F>(b) && sign_of<F>(a) != sign_of<F>(b)) return invalid<F>(flags);
    return a;
  }
  if (is_infinity<F>(b)) return b;
  if (is_zero<F>(a) && is_zero<F>(b))
    return sign_of<F>(a) == sign_of<F>(b) ? a : signed_zero<F>(rm == kDown);
  if (is_zero<F>(a)) return b;
  if (is_zero<F>(b)) return a;
  return add_unpacked<F>(unpack<F>(a), unpack<F>(b), rm, flags);
}

// Integer square root of v and whether it was exact.
uint128 integer_sqrt(uint128 v, bool& exact) {
  uint128 root = 0, bit = static_cast<uint128>(1) << 126;
  while (bit > v) bit >>= 2;
  while (bit) {
    if (v >= root + bit) {
      v -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  exact = v == 0;
  return root;
}

}  // namespace

template <class F>
typename F::Bits add(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags) {
  return add_signed<F>(a, b, false, rm, flags);
}

template <class F>
typename F::Bits sub(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags) {
  return add_signed<F>(a, b, true, rm, flags);
}

template <class F>
typename F::Bits mul(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_signaling_nan<F>(a) || is_signaling_nan<F>(b)) flags |= kInvalid;
    return F::kCanonicalNan;
  }
  const bool negative = sign_of<F>(a) != sign_of<F>(b);
  if (is_infinity<F>(a) || is_infinity<F>(b)) {
    if (is_zero<F>(a) || is_zero<F>(b)) return invalid<F>(flags);
    return signed_infinity<F>(negative);
  }
  if (is_zero<F>(a) || is_zero<F>(b)) return signed_zero<F>(negative);
  const Unpacked x = unpack<F>(a), y = unpack<F>(b);
  return round_pack<F>(negative, x.exp + y.exp, x.sig * y.sig, rm, flags);
}

template <class F>
typename F::Bits div(typename F::Bits a, typename F::Bits b, RoundingMode rm, uint32_t& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_signaling_nan<F>(a) || is_signaling_nan<F>(b)) flags |= kInvalid;
    return F::kCanonicalNan;
  }
  const bool negative = sign_of<F>(a) != sign_of<F>(b);
  if (is_infinity<F>(a)) {
    if (is_infinity<F>(b)) return invalid<F>(flags);
    return signed_infinity<F>(negative);
  }
  if (is_infinity<F>(b)) return signed_zero<F>(negative);
  if (is_zero<F>(b)) {
    if (is_zero<F>(a)) return invalid<F>(flags);
    flags |= kDivByZero;
    return signed_infinity<F>(negative);
  }
  if (is_zero<F>(a)) return signed_zero<F>(negative);
  const Unpacked x = unpack<F>(a), y = unpack<F>(b);
  // Both significands with their leading bit at 63: the quotient of
  // x << 64 by y has 64 or 65 bits; a non-zero remainder is jammed.
  const int shift_x = 64 - bit_length(x.sig), shift_y = 64 - bit_length(y.sig);
  const uint128 num = (x.sig << shift_x) << 64, den = y.sig << shift_y;
  const uint128 quotient = num / den;
  const bool exact = quotient * den == num;
  return round_pack<F>(negative, (x.exp - shift_x) - (y.exp - shift_y) - 64,
                       quotient | (exact ? 0 : 1), rm, flags);
}

template <class F>
typename F::Bits sqrt(typename F::Bits a, RoundingMode rm, uint32_t& flags) {
  if (is_nan<F>(a)) {
    if (is_signaling_nan<F>(a)) flags |= kInvalid;
    return F::kCanonicalNan;
  }
  if (is_zero<F>(a)) return a;
  if (sign_of<F>(a)) return invalid<F>(flags);
  if (is_infinity<F>(a)) return a;
  const Unpacked x = unpack<F>(a);
  // Leading bit at 125 or 126 so that the exponent is even; the root then
  // has 63 or 64 bits and the remainder is jammed.
  int shift = 126 - bit_length(x.sig);
  if ((x.exp - shift) & 1) ++shift;
  bool exact;
  const uint128 root = integer_sqrt(x.sig << shift, exact);
  return round_pack<F>(false, (x.exp - shift) / 2, root | (exact ? 0 : 1), rm, flags);
}

template <class F>
typename F::Bits fma(typename F::Bits a, typename F::Bits b, typename F::Bits c,
                     bool negate_product, bool negate_addend, RoundingMode rm, uint32_t& flags) {
  const bool infinity_times_zero = (is_infinity<F>(a) && is_zero<F>(b)) ||
                                   (is_zero<F>(a) && is_infinity<F>(b));
  if (is_nan<F>(a) || is_nan<F>(b) || is_nan<F>(c)) {
    // RISC-V: inf * 0 is invalid even when the addend is a quiet NaN.
    if (is_signaling_nan<F>(a) || is_signaling_nan<F>(b) || is_signaling_nan<F>(c) ||
        infinity_times_zero)
      flags |= kInvalid;
    return F::kCanonicalNan;
  }
  if (infinity_times_zero) return invalid<F>(flags);
  const bool product_negative = (sign_of<F>(a) != sign_of<F>(b)) != negate_product;
  if (negate_addend) c ^= F::kSign;
  if (is_infinity<F>(a) || is_infinity<F>(b)) {
    if (is_infinity<F>(c) && sign_of<F>(c) != product_negative) return invalid<F>(flags);
    return signed_infinity<F>(product_negative);
  }
  if (is_infinity<F>(c)) return c;
  if (is_zero<F>(a) || is_zero<F>(b)) {
    if (!is_zero<F>(c)) return c;
    return product_negative == sign_of<F>(c) ? c : signed_zero<F>(rm == kDown);
  }
  const Unpacked x = unpack<F>(a), y = unpack<F>(b);
  const Unpacked product{product_negative, x.exp + y.exp, x.sig * y.sig};
  if (is_zero<F>(c)) return round_pack<F>(product.negative, product.exp, product.sig, rm, flags);
  return add_unpacked<F>(product, unpack<F>(c), rm, flags);
}

template <class To, class From>
typename To::Bits convert(typename From::Bits a, RoundingMode rm, uint32_t& flags) {
  if (is_nan<From>(a)) {
    if (is_signaling_nan<From>(a)) flags |= kInvalid;
    return To::kCanonicalNan;
  }
  const bool negative = sign_of<From>(a);
  if (is_infinity<From>(a)) return signed_infinity<To>(negative);
  if (is_zero<From>(a)) return signed_zero<To>(negative);
  const Unpacked x = unpack<From>(a);
  return round_pack<To>(negative, x.exp, x.sig, rm, flags);
}

template <class F>
typename F::Bits from_integer(bool negative, uint64_t magnitude, RoundingMode rm,
                              uint32_t& flags) {
  if (magnitude == 0) return 0;
  return round_pack<F>(negative, 0, magnitude, rm, flags);
}

#define FERRY_SOFT_FLOAT_INSTANTIATE(F)                                                    \
  template F::Bits add<F>(F::Bits, F::Bits, RoundingMode, uint32_t&);                      \
  template F::Bits sub<F>(F::Bits, F::Bits, RoundingMode, uint32_t&);                      \
  template F::Bits mul<F>(F::Bits, F::Bits, RoundingMode, uint32_t&);                      \
  template F::Bits div<F>(F::Bits, F::Bits, RoundingMode, uint32_t&);                      \
  template F::Bits sqrt<F>(F::Bits, RoundingMode, uint32_t&);                              \
  template F::Bits fma<F>(F::Bits, F::Bits, F::Bits, bool, bool, RoundingMode, uint32_t&); \
  template F::Bits from_integer<F>(bool, uint64_t, RoundingMode, uint32_t&);
FERRY_SOFT_FLOAT_INSTANTIATE(Float32)
FERRY_SOFT_FLOAT_INSTANTIATE(Float64)
#undef FERRY_SOFT_FLOAT_INSTANTIATE
template Float32::Bits convert<Float32, Float64>(Float64::Bits, RoundingMode, uint32_t&);
template Float64::Bits convert<Float64, Float32>(Float32::Bits, RoundingMode, uint32_t&);

}  // namespace ferry::fpu::soft
