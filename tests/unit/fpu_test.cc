// The F/D arithmetic: edge cases per operation with their flags, the five
// rounding modes, and the host FPU path checked against the software one
// over many hard operands (both must agree bit for bit, flags included).
#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <vector>

#include "cpu/fpu/fp_arithmetic.h"
#include "cpu/fpu/fp_bits.h"
#include "cpu/fpu/fp_compare.h"
#include "cpu/fpu/fp_to_integer.h"

namespace ferry::fpu {
namespace {

constexpr RoundingMode kAllModes[] = {kNearestEven, kTowardZero, kDown, kUp, kNearestMaxMag};
constexpr RoundingMode kHostModes[] = {kNearestEven, kTowardZero, kDown, kUp};

uint32_t s(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t d(double f) { return std::bit_cast<uint64_t>(f); }

constexpr uint32_t kSNan32 = 0x7f800001, kQNanPayload32 = 0xffc12345;
constexpr uint64_t kSNan64 = 0x7ff0000000000001ull;
constexpr uint32_t kInf32 = Float32::kInfinity, kMinSub32 = 1, kMinNorm32 = 0x00800000,
                   kMaxNorm32 = 0x7f7fffff;
constexpr uint64_t kInf64 = Float64::kInfinity, kMinNorm64 = 0x0010000000000000ull,
                   kMaxNorm64 = 0x7fefffffffffffffull;

// Runs one operation on the software path and returns result and flags.
struct Outcome {
  uint64_t bits;
  uint32_t flags;
  bool operator==(const Outcome&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << std::hex << "0x" << o.bits << " flags 0x" << o.flags;
}

template <class Fn>
Outcome soft_run(Fn fn) {
  uint32_t flags = 0;
  const uint64_t r = fn(flags);
  return {r, flags};
}

// Runs one operation through fp_arithmetic.h (host path where it applies)
// and collects the flags it raised, wherever they went.
template <class Fn>
Outcome unit_run(Fn fn) {
  HostFpContext host;
  uint32_t flags = 0;
  const uint64_t r = fn(host, flags);
  flags |= host.release();
  return {r, flags};
}

// ---- edge cases, software path --------------------------------------------------------

TEST(SoftFloatTest, AddRoundsTiesPerMode) {
  // 1 + 2^-24 is exactly between 1 and 1 + 2^-23 in single precision.
  const uint32_t one = s(1.0f), tie = s(0x1p-24f), up = s(1.0f + 0x1p-23f);
  EXPECT_EQ(soft_run([&](uint32_t& f) { return soft::add<Float32>(one, tie, kNearestEven, f); }),
            (Outcome{one, kInexact}));
  EXPECT_EQ(soft_run([&](uint32_t& f) { return soft::add<Float32>(one, tie, kNearestMaxMag, f); }),
            (Outcome{up, kInexact}));
  EXPECT_EQ(soft_run([&](uint32_t& f) { return soft::add<Float32>(one, tie, kUp, f); }),
            (Outcome{up, kInexact}));
  EXPECT_EQ(soft_run([&](uint32_t& f) { return soft::add<Float32>(one, tie, kTowardZero, f); }),
            (Outcome{one, kInexact}));
  // Negative tie: RMM goes away from zero, RDN down, RUP toward zero.
  const uint32_t minus_one = s(-1.0f), minus_tie = s(-0x1p-24f), down = s(-1.0f - 0x1p-23f);
  uint32_t f = 0;
  EXPECT_EQ(soft::add<Float32>(minus_one, minus_tie, kNearestMaxMag, f), down);
  EXPECT_EQ(soft::add<Float32>(minus_one, minus_tie, kDown, f), down);
  EXPECT_EQ(soft::add<Float32>(minus_one, minus_tie, kUp, f), minus_one);
}

TEST(SoftFloatTest, ExactZeroSumsAreNegativeOnlyRoundingDown) {
  for (RoundingMode rm : kAllModes) {
    uint32_t f = 0;
    const uint64_t r = soft::sub<Float64>(d(1.5), d(1.5), rm, f);
    EXPECT_EQ(r, rm == kDown ? Float64::kSign : 0u) << int(rm);
    EXPECT_EQ(f, 0u);
    EXPECT_EQ(soft::add<Float64>(d(-0.0), d(-0.0), rm, f), Float64::kSign);
    EXPECT_EQ(soft::add<Float64>(d(0.0), d(-0.0), rm, f), rm == kDown ? Float64::kSign : 0u);
  }
}

TEST(SoftFloatTest, InvalidOperationsGiveTheCanonicalNan) {
  uint32_t f = 0;
  EXPECT_EQ(soft::add<Float32>(kInf32, kInf32 | Float32::kSign, kNearestEven, f),
            Float32::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  f = 0;
  EXPECT_EQ(soft::mul<Float64>(kInf64, 0, kNearestEven, f), Float64::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  f = 0;
  EXPECT_EQ(soft::div<Float32>(0, Float32::kSign, kNearestEven, f), Float32::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  f = 0;
  EXPECT_EQ(soft::sqrt<Float64>(d(-1.0), kNearestEven, f), Float64::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  // A quiet NaN operand: canonical result, no flag; a signaling one: invalid.
  f = 0;
  EXPECT_EQ(soft::add<Float32>(kQNanPayload32, s(1.0f), kNearestEven, f), Float32::kCanonicalNan);
  EXPECT_EQ(f, 0u);
  EXPECT_EQ(soft::mul<Float32>(s(1.0f), kSNan32, kNearestEven, f), Float32::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  // sqrt(-0) = -0, exactly.
  f = 0;
  EXPECT_EQ(soft::sqrt<Float64>(Float64::kSign, kNearestEven, f), Float64::kSign);
  EXPECT_EQ(f, 0u);
}

TEST(SoftFloatTest, DivisionByZero) {
  uint32_t f = 0;
  EXPECT_EQ(soft::div<Float64>(d(-3.0), 0, kNearestEven, f), kInf64 | Float64::kSign);
  EXPECT_EQ(f, kDivByZero);
  f = 0;
  EXPECT_EQ(soft::div<Float64>(kInf64, 0, kNearestEven, f), kInf64);  // inf / 0: exact
  EXPECT_EQ(f, 0u);
}

TEST(SoftFloatTest, OverflowPerMode) {
  for (RoundingMode rm : kAllModes) {
    for (bool negative : {false, true}) {
      uint32_t f = 0;
      const uint32_t big = kMaxNorm32 | (negative ? Float32::kSign : 0);
      const uint32_t r = soft::mul<Float32>(big, s(2.0f), rm, f);
      const bool to_inf = rm == kNearestEven || rm == kNearestMaxMag ||
                          (rm == kDown && negative) || (rm == kUp && !negative);
      EXPECT_EQ(r, (to_inf ? kInf32 : kMaxNorm32) | (negative ? Float32::kSign : 0))
          << int(rm) << negative;
      EXPECT_EQ(f, kOverflow | kInexact);
    }
  }
}

TEST(SoftFloatTest, TininessIsDetectedAfterRounding) {
  // 2^-126 - 2^-151 rounds to 2^-126 at full precision with an unbounded
  // exponent (a tie, to even): the result, the smallest normal, is inexact
  // but not tiny.
  const uint64_t just_below = d(0x1p-126 - 0x1p-151);
  uint32_t f = 0;
  EXPECT_EQ((soft::convert<Float32, Float64>(just_below, kNearestEven, f)), kMinNorm32);
  EXPECT_EQ(f, kInexact);
  // Rounding toward zero it stays below: largest subnormal, tiny and inexact.
  f = 0;
  EXPECT_EQ((soft::convert<Float32, Float64>(just_below, kTowardZero, f)), kMinNorm32 - 1);
  EXPECT_EQ(f, kInexact | kUnderflow);
  // 2^-126 - 2^-150 has 24 bits, so it is tiny even though the subnormal
  // rounding (a tie at 2^-149) gives the smallest normal.
  f = 0;
  EXPECT_EQ(soft::mul<Float32>(s(1.0f - 0x1p-24f), kMinNorm32, kNearestEven, f), kMinNorm32);
  EXPECT_EQ(f, kInexact | kUnderflow);
  // (1 - 2^-23) * 2^-126 is exactly representable as a subnormal: no flag.
  f = 0;
  EXPECT_EQ(soft::mul<Float32>(s(1.0f - 0x1p-23f), kMinNorm32, kNearestEven, f), kMinNorm32 - 1);
  EXPECT_EQ(f, 0u);
  // Half the smallest subnormal rounds to 0 (tie, even) or to it (RMM).
  f = 0;
  EXPECT_EQ(soft::mul<Float64>(1, d(0.5), kNearestEven, f), 0u);
  EXPECT_EQ(f, kInexact | kUnderflow);
  EXPECT_EQ(soft::mul<Float64>(1, d(0.5), kNearestMaxMag, f), 1u);
  // The host agrees on both tininess cases.
  for (RoundingMode rm : {kNearestEven, kTowardZero}) {
    EXPECT_EQ(unit_run([&](HostFpContext& h, uint32_t& fl) {
                return double_to_single(h, just_below, rm, fl);
              }),
              soft_run([&](uint32_t& fl) {
                return soft::convert<Float32, Float64>(just_below, rm, fl);
              }));
    EXPECT_EQ(unit_run([&](HostFpContext& h, uint32_t& fl) {
                return mul<Float32>(h, s(1.0f - 0x1p-24f), kMinNorm32, rm, fl);
              }),
              soft_run([&](uint32_t& fl) {
                return soft::mul<Float32>(s(1.0f - 0x1p-24f), kMinNorm32, rm, fl);
              }));
  }
}

TEST(SoftFloatTest, FusedMultiplyAdd) {
  uint32_t f = 0;
  // One rounding: (1 + 2^-30)^2 - 1 = 2^-29 + 2^-60 exactly (a separate
  // multiply would round the 2^-60 away).
  const uint64_t x = d(1.0 + 0x1p-30);
  EXPECT_EQ(soft::fma<Float64>(x, x, d(-1.0), false, false, kNearestEven, f),
            d(0x1p-29 + 0x1p-60));
  EXPECT_EQ(f, 0u);
  EXPECT_EQ(soft::mul<Float64>(x, x, kNearestEven, f), d(1.0 + 0x1p-29));
  f = 0;
  // inf * 0 + qNaN is invalid on RISC-V.
  EXPECT_EQ(soft::fma<Float64>(kInf64, 0, Float64::kCanonicalNan, false, false, kNearestEven, f),
            Float64::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  // The negations come before the rounding: -(1 * 2^-60) - 1 rounding down.
  f = 0;
  EXPECT_EQ(soft::fma<Float64>(d(1.0), d(0x1p-60), d(1.0), true, true, kDown, f),
            d(-1.0 - 0x1p-52));
  EXPECT_EQ(f, kInexact);
  // Zero product plus zero: sign rules of an exact sum.
  EXPECT_EQ(soft::fma<Float32>(s(-0.0f), s(1.0f), 0, false, false, kNearestEven, f), 0u);
  EXPECT_EQ(soft::fma<Float32>(s(-0.0f), s(1.0f), 0, false, false, kDown, f), Float32::kSign);
  EXPECT_EQ(soft::fma<Float32>(s(-0.0f), s(1.0f), 0, false, true, kNearestEven, f),
            Float32::kSign);
}

TEST(SoftFloatTest, FormatConversions) {
  uint32_t f = 0;
  EXPECT_EQ((soft::convert<Float32, Float64>(d(1.0 + 0x1p-24), kNearestEven, f)), s(1.0f));
  EXPECT_EQ(f, kInexact);
  f = 0;
  EXPECT_EQ((soft::convert<Float32, Float64>(d(1.0 + 0x1p-24), kNearestMaxMag, f)),
            s(1.0f + 0x1p-23f));
  EXPECT_EQ((soft::convert<Float32, Float64>(d(1e300), kNearestEven, f)), kInf32);
  EXPECT_EQ(f, kInexact | kOverflow);
  f = 0;
  EXPECT_EQ((soft::convert<Float64, Float32>(kSNan32, kNearestEven, f)), Float64::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  f = 0;
  EXPECT_EQ((soft::convert<Float64, Float32>(kMinSub32, kNearestEven, f)), d(0x1p-149));
  EXPECT_EQ(f, 0u);
}

// ---- float to integer ---------------------------------------------------------------

TEST(FloatToIntegerTest, SaturatesAsTheSpecTableSays) {
  struct Case {
    uint64_t in;
    IntegerKind kind;
    uint64_t out;
    uint32_t flags;
  };
  const Case cases[] = {
      {Float64::kCanonicalNan, IntegerKind::kW, 0x7fffffff, kInvalid},
      {Float64::kCanonicalNan | Float64::kSign, IntegerKind::kW, 0x7fffffff, kInvalid},
      {Float64::kCanonicalNan, IntegerKind::kWU, ~0ull, kInvalid},
      {Float64::kCanonicalNan, IntegerKind::kL, INT64_MAX, kInvalid},
      {Float64::kCanonicalNan, IntegerKind::kLU, ~0ull, kInvalid},
      {kInf64, IntegerKind::kW, 0x7fffffff, kInvalid},
      {kInf64 | Float64::kSign, IntegerKind::kW, 0xffffffff80000000ull, kInvalid},
      {kInf64 | Float64::kSign, IntegerKind::kWU, 0, kInvalid},
      {kInf64 | Float64::kSign, IntegerKind::kL, 1ull << 63, kInvalid},
      {kInf64 | Float64::kSign, IntegerKind::kLU, 0, kInvalid},
      {d(2147483647.0), IntegerKind::kW, 0x7fffffff, 0},
      {d(2147483648.0), IntegerKind::kW, 0x7fffffff, kInvalid},
      {d(-2147483648.0), IntegerKind::kW, 0xffffffff80000000ull, 0},
      {d(-2147483649.0), IntegerKind::kW, 0xffffffff80000000ull, kInvalid},
      {d(4294967295.0), IntegerKind::kWU, ~0ull, 0},  // WU results are sign-extended
      {d(4294967296.0), IntegerKind::kWU, ~0ull, kInvalid},
      {d(-1.0), IntegerKind::kWU, 0, kInvalid},
      {d(-0.5), IntegerKind::kWU, 0, kInexact},  // rounds to -0: in range
      {d(0x1p63), IntegerKind::kL, INT64_MAX, kInvalid},
      {d(-0x1p63), IntegerKind::kL, 1ull << 63, 0},
      {d(0x1p64), IntegerKind::kLU, ~0ull, kInvalid},
      {d(0x1p64 - 2048), IntegerKind::kLU, 0xfffffffffffff800ull, 0},
      {d(2.5), IntegerKind::kL, 2, kInexact},
      {d(-2.5), IntegerKind::kL, static_cast<uint64_t>(-2), kInexact},
      {Float64::kSign, IntegerKind::kL, 0, 0},
      {1, IntegerKind::kL, 0, kInexact},  // smallest subnormal
  };
  for (const Case& c : cases) {
    uint32_t f = 0;
    EXPECT_EQ(to_integer<Float64>(c.in, c.kind, kNearestEven, f), c.out)
        << std::hex << c.in << " kind " << int(c.kind);
    EXPECT_EQ(f, c.flags) << std::hex << c.in << " kind " << int(c.kind);
  }
}

TEST(FloatToIntegerTest, RoundsPerMode) {
  // value, then RNE RTZ RDN RUP RMM
  struct Case {
    float in;
    int64_t out[5];
  };
  const Case cases[] = {
      {2.5f, {2, 2, 2, 3, 3}},     {-2.5f, {-2, -2, -3, -2, -3}}, {1.5f, {2, 1, 1, 2, 2}},
      {-0.5f, {0, 0, -1, 0, -1}}, {0.25f, {0, 0, 0, 1, 0}},      {-7.75f, {-8, -7, -8, -7, -8}},
  };
  for (const Case& c : cases) {
    for (int m = 0; m < 5; ++m) {
      uint32_t f = 0;
      EXPECT_EQ(static_cast<int64_t>(to_integer<Float32>(s(c.in), IntegerKind::kL,
                                                         kAllModes[m], f)),
                c.out[m])
          << c.in << " mode " << m;
      EXPECT_EQ(f, kInexact);
    }
  }
  // -0.5 rounding down to -1 is out of range for an unsigned result.
  uint32_t f = 0;
  EXPECT_EQ(to_integer<Float32>(s(-0.5f), IntegerKind::kLU, kDown, f), 0u);
  EXPECT_EQ(f, kInvalid);
}

// ---- compare, min/max, sign injection, classify -----------------------------------

TEST(FpCompareTest, QuietAndSignalingComparisons) {
  uint32_t f = 0;
  EXPECT_TRUE(equal<Float32>(0, Float32::kSign, f));  // +0 == -0
  EXPECT_FALSE(equal<Float32>(Float32::kCanonicalNan, Float32::kCanonicalNan, f));
  EXPECT_EQ(f, 0u);  // feq is quiet on quiet NaNs
  EXPECT_FALSE(equal<Float32>(kSNan32, s(1.0f), f));
  EXPECT_EQ(f, kInvalid);
  f = 0;
  EXPECT_FALSE(less<Float64>(Float64::kCanonicalNan, d(1.0), f));
  EXPECT_EQ(f, kInvalid);  // flt signals on any NaN
  f = 0;
  EXPECT_FALSE(less_or_equal<Float64>(d(1.0), Float64::kCanonicalNan, f));
  EXPECT_EQ(f, kInvalid);
  f = 0;
  EXPECT_FALSE(less<Float64>(Float64::kSign, 0, f));  // -0 < +0 is false
  EXPECT_TRUE(less_or_equal<Float64>(Float64::kSign, 0, f));
  EXPECT_TRUE(less<Float64>(d(-2.0), d(-1.0), f));
  EXPECT_TRUE(less<Float64>(d(-1.0), d(1.0), f));
  EXPECT_FALSE(less<Float64>(d(3.0), d(2.0), f));
  EXPECT_TRUE(less<Float32>(s(-1.0f), kInf32, f));
  EXPECT_EQ(f, 0u);
}

TEST(FpCompareTest, MinMaxAreMinimumNumberMaximumNumber) {
  uint32_t f = 0;
  EXPECT_EQ(min_max<Float32>(0, Float32::kSign, false, f), Float32::kSign);  // min(+0,-0) = -0
  EXPECT_EQ(min_max<Float32>(Float32::kSign, 0, true, f), 0u);              // max(-0,+0) = +0
  EXPECT_EQ(min_max<Float32>(Float32::kCanonicalNan, s(2.0f), false, f), s(2.0f));
  EXPECT_EQ(f, 0u);
  EXPECT_EQ(min_max<Float32>(kSNan32, s(2.0f), true, f), s(2.0f));
  EXPECT_EQ(f, kInvalid);
  f = 0;
  EXPECT_EQ(min_max<Float64>(kSNan64, Float64::kCanonicalNan | Float64::kSign, true, f),
            Float64::kCanonicalNan);
  EXPECT_EQ(f, kInvalid);
  EXPECT_EQ(min_max<Float64>(d(-3.0), d(2.0), false, f), d(-3.0));
  EXPECT_EQ(min_max<Float64>(d(-3.0), d(2.0), true, f), d(2.0));
}

TEST(FpBitsTest, SignInjectionAndClassify) {
  EXPECT_EQ(inject_sign<Float32>(s(1.0f), s(-2.0f), SignInjection::kCopy), s(-1.0f));
  EXPECT_EQ(inject_sign<Float32>(s(1.0f), s(-2.0f), SignInjection::kNegate), s(1.0f));
  EXPECT_EQ(inject_sign<Float32>(s(-1.0f), s(-2.0f), SignInjection::kXor), s(1.0f));
  EXPECT_EQ(inject_sign<Float64>(Float64::kCanonicalNan, d(-1.0), SignInjection::kCopy),
            Float64::kCanonicalNan | Float64::kSign);  // NaNs are not canonicalized
  const uint32_t values[] = {kInf32 | Float32::kSign, s(-1.0f), kMinSub32 | Float32::kSign,
                             Float32::kSign, 0, kMinSub32, s(1.0f), kInf32, kSNan32,
                             Float32::kCanonicalNan};
  for (unsigned i = 0; i < 10; ++i) EXPECT_EQ(classify<Float32>(values[i]), 1u << i) << i;
  EXPECT_EQ(classify<Float64>(kMinNorm64 - 1), 1u << 5);
  EXPECT_EQ(classify<Float64>(kMaxNorm64 | Float64::kSign), 1u << 1);
}

TEST(FpFormatTest, NanBoxing) {
  EXPECT_EQ(unbox_single(0xffffffff3f800000ull), s(1.0f));
  EXPECT_EQ(unbox_single(0x000000003f800000ull), Float32::kCanonicalNan);
  EXPECT_EQ(unbox_single(0xfffffffe3f800000ull), Float32::kCanonicalNan);
  EXPECT_EQ(box_single(s(2.0f)), 0xffffffff40000000ull);
}

// ---- the interpreter's entry points (host path where it applies) --------------------

TEST(FpArithmeticTest, NanResultsAreCanonicalOnEveryPath) {
  for (RoundingMode rm : kAllModes) {
    EXPECT_EQ(unit_run([&](HostFpContext& h, uint32_t& f) {
                return add<Float32>(h, kQNanPayload32, s(1.0f), rm, f);
              }),
              (Outcome{Float32::kCanonicalNan, 0}));
    EXPECT_EQ(unit_run([&](HostFpContext& h, uint32_t& f) {
                return mul<Float64>(h, kSNan64, d(1.0), rm, f);
              }),
              (Outcome{Float64::kCanonicalNan, kInvalid}));
    EXPECT_EQ(unit_run([&](HostFpContext& h, uint32_t& f) {
                return fma<Float64>(h, 0, kInf64, Float64::kCanonicalNan | 5, false, false, rm, f);
              }),
              (Outcome{Float64::kCanonicalNan, kInvalid}));
    EXPECT_EQ(unit_run([&](HostFpContext& h, uint32_t& f) {
                return double_to_single(h, 0xfff0000000001234ull, rm, f);
              }),
              (Outcome{Float32::kCanonicalNan, kInvalid}));
  }
}

TEST(FpArithmeticTest, TheHostsRoundingModeIsRestored) {
#if FERRY_HOST_FPU
  uint32_t before, after;
  __asm__ volatile("stmxcsr %0" : "=m"(before));
  {
    HostFpContext h;
    uint32_t f = 0;
    add<Float64>(h, d(1.0), d(0x1p-60), kUp, f);
    uint32_t during;
    __asm__ volatile("stmxcsr %0" : "=m"(during));
    EXPECT_EQ(during & 0x6000u, 0x4000u);  // round up
    EXPECT_EQ(h.release(), kInexact);
  }
  __asm__ volatile("stmxcsr %0" : "=m"(after));
  EXPECT_EQ(after & ~0x3fu, before & ~0x3fu);
#else
  GTEST_SKIP() << "no host FPU path on this architecture";
#endif
}

TEST(FpArithmeticTest, FromIntegerKinds) {
  auto conv = [](uint64_t x, unsigned kind, RoundingMode rm) {
    return unit_run([&](HostFpContext& h, uint32_t& f) -> uint64_t {
      switch (kind) {
        case 0: return from_integer<Float32, IntegerKind::kW>(h, x, rm, f);
        case 1: return from_integer<Float32, IntegerKind::kWU>(h, x, rm, f);
        case 2: return from_integer<Float32, IntegerKind::kL>(h, x, rm, f);
        default: return from_integer<Float32, IntegerKind::kLU>(h, x, rm, f);
      }
    });
  };
  EXPECT_EQ(conv(0xffffffffull, 0, kNearestEven), (Outcome{s(-1.0f), 0}));   // W
  EXPECT_EQ(conv(0xffffffffull, 1, kNearestEven), (Outcome{s(4294967296.0f), kInexact}));  // WU
  EXPECT_EQ(conv(0xffffffffull, 1, kTowardZero), (Outcome{s(4294967040.0f), kInexact}));
  EXPECT_EQ(conv(~0ull, 2, kNearestEven), (Outcome{s(-1.0f), 0}));            // L
  EXPECT_EQ(conv(~0ull, 3, kNearestEven), (Outcome{s(0x1p64f), kInexact}));   // LU
  EXPECT_EQ(conv(~0ull, 3, kTowardZero), (Outcome{s(0x1p64f - 0x1p40f), kInexact}));
  EXPECT_EQ(conv(0, 2, kDown), (Outcome{0, 0}));  // +0 in every mode
  // RMM (software): 2^24 + 1 is a tie.
  EXPECT_EQ(conv(0x1000001, 2, kNearestMaxMag), (Outcome{s(16777218.0f), kInexact}));
  EXPECT_EQ(conv(0x1000001, 2, kNearestEven), (Outcome{s(16777216.0f), kInexact}));
}

// ---- host path against software path ----------------------------------------------

// Operands that exercise the corner cases: zeros, infinities, NaNs, subnormals,
// the ends of the normal range, integers near the conversion limits, values
// with few significant bits (exact ties) and random bit patterns.
template <class F>
class HardOperands {
 public:
  using Bits = typename F::Bits;
  explicit HardOperands(uint64_t seed) : rng_(seed) {
    const Bits sign = F::kSign;
    const Bits base[] = {
        0, F::kInfinity, F::kCanonicalNan, F::kInfinity | 1, F::kCanonicalNan | 0x1234,
        1, F::kMantissa, F::kMantissa + 1, F::kInfinity - 1,  // subnormals, normal ends
        one(), one() + 1, one() - 1, power(31), power(32), power(63), power(64),
        power(F::kMantissaBits), power(F::kMantissaBits + 1)};
    for (Bits b : base) {
      for (Bits v : {b, static_cast<Bits>(b + 1), static_cast<Bits>(b - 1)}) {
        specials_.push_back(v);
        specials_.push_back(v | sign);
      }
    }
  }
  Bits next() {
    switch (rng_() % 4) {
      case 0: return specials_[rng_() % specials_.size()];
      case 1: return static_cast<Bits>(rng_());
      case 2: {  // few significant bits, exponent near 0
        const int bits = static_cast<int>(rng_() % 6);
        const Bits mantissa = static_cast<Bits>(rng_()) & F::kMantissa &
                              ~(F::kMantissa >> bits);
        const Bits exponent = static_cast<Bits>(F::kBias - 8 + rng_() % 16) << F::kMantissaBits;
        return (rng_() & 1 ? F::kSign : 0) | exponent | mantissa;
      }
      default: {  // random significand, exponent at an end of the range
        const Bits mantissa = static_cast<Bits>(rng_()) & F::kMantissa;
        const Bits e = static_cast<Bits>(rng_() % 2 ? rng_() % 4 : 2 * F::kBias - rng_() % 4);
        return (rng_() & 1 ? F::kSign : 0) | (e << F::kMantissaBits) | mantissa;
      }
    }
  }
  uint64_t integer() {
    const uint64_t pick = rng_() % 4;
    if (pick == 0) return rng_();
    if (pick == 1) return rng_() >> (rng_() % 64);
    static const uint64_t edges[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
                                     INT64_MAX, 1ull << 63, ~0ull, (1ull << 53) + 1,
                                     (1ull << 24) + 1};
    return edges[rng_() % (sizeof edges / sizeof edges[0])] + (rng_() % 3) - 1;
  }
  uint32_t index(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }

 private:
  static Bits one() { return static_cast<Bits>(F::kBias) << F::kMantissaBits; }
  static Bits power(int n) { return static_cast<Bits>(F::kBias + n) << F::kMantissaBits; }
  std::mt19937_64 rng_;
  std::vector<Bits> specials_;
};

// The interpreter's conversions (host path where it applies), kind chosen at run time.
template <class F>
uint64_t from_integer_kind(HostFpContext& h, uint64_t x, unsigned kind, RoundingMode rm,
                           uint32_t& f) {
  switch (kind) {
    case 0: return from_integer<F, IntegerKind::kW>(h, x, rm, f);
    case 1: return from_integer<F, IntegerKind::kWU>(h, x, rm, f);
    case 2: return from_integer<F, IntegerKind::kL>(h, x, rm, f);
    default: return from_integer<F, IntegerKind::kLU>(h, x, rm, f);
  }
}
template <class F>
uint64_t to_integer_kind(HostFpContext& h, typename F::Bits a, unsigned kind, RoundingMode rm,
                         uint32_t& f) {
  switch (kind) {
    case 0: return to_integer<F, IntegerKind::kW>(h, a, rm, f);
    case 1: return to_integer<F, IntegerKind::kWU>(h, a, rm, f);
    case 2: return to_integer<F, IntegerKind::kL>(h, a, rm, f);
    default: return to_integer<F, IntegerKind::kLU>(h, a, rm, f);
  }
}

template <class F>
void check_host_against_software(uint64_t seed, int rounds) {
#if FERRY_HOST_FPU
  using Bits = typename F::Bits;
  HardOperands<F> gen(seed);
  for (int i = 0; i < rounds; ++i) {
    const Bits a = gen.next(), b = gen.next(), c = gen.next();
    const uint64_t n = gen.integer();
    for (RoundingMode rm : kHostModes) {
      auto host = [&](auto fn) { return unit_run(fn); };
#define FERRY_CHECK(what, host_expr, soft_expr)                                             \
  EXPECT_EQ(host([&](HostFpContext& h, uint32_t& f) { return host_expr; }),                  \
            soft_run([&](uint32_t& f) { return soft_expr; }))                                \
      << what << " a=0x" << std::hex << uint64_t(a) << " b=0x" << uint64_t(b) << " c=0x"     \
      << uint64_t(c) << " n=0x" << n << " rm=" << int(rm)
      FERRY_CHECK("add", add<F>(h, a, b, rm, f), soft::add<F>(a, b, rm, f));
      FERRY_CHECK("sub", sub<F>(h, a, b, rm, f), soft::sub<F>(a, b, rm, f));
      FERRY_CHECK("mul", mul<F>(h, a, b, rm, f), soft::mul<F>(a, b, rm, f));
      FERRY_CHECK("div", div<F>(h, a, b, rm, f), soft::div<F>(a, b, rm, f));
      FERRY_CHECK("sqrt", sqrt<F>(h, a, rm, f), soft::sqrt<F>(a, rm, f));
      for (int form = 0; form < 4; ++form) {
        FERRY_CHECK("fma" << form, fma<F>(h, a, b, c, form & 2, form & 1, rm, f),
                    soft::fma<F>(a, b, c, form & 2, form & 1, rm, f));
      }
      // A product that nearly cancels against the addend.
      const Bits p = soft_run([&](uint32_t& f) { return soft::mul<F>(a, b, kNearestEven, f); }).bits;
      FERRY_CHECK("fma-cancel", fma<F>(h, a, b, p, false, true, rm, f),
                  soft::fma<F>(a, b, p, false, true, rm, f));
      for (unsigned kind = 0; kind < 4; ++kind) {
        const bool neg = (kind == 0 && static_cast<int32_t>(n) < 0) ||
                         (kind == 2 && static_cast<int64_t>(n) < 0);
        const uint64_t mag = kind == 0   ? (neg ? 0 - static_cast<uint64_t>(static_cast<int32_t>(n))
                                                : static_cast<uint32_t>(n))
                             : kind == 1 ? static_cast<uint32_t>(n)
                             : kind == 2 ? (neg ? 0 - n : n)
                                         : n;
        FERRY_CHECK("from_integer" << kind, from_integer_kind<F>(h, n, kind, rm, f),
                    soft::from_integer<F>(neg, mag, rm, f));
        FERRY_CHECK("to_integer" << kind, to_integer_kind<F>(h, a, kind, rm, f),
                    to_integer<F>(a, static_cast<IntegerKind>(kind), rm, f));
      }
      if constexpr (sizeof(Bits) == 8) {
        FERRY_CHECK("d2s", double_to_single(h, a, rm, f),
                    (soft::convert<Float32, Float64>(a, rm, f)));
      }
#undef FERRY_CHECK
    }
    if (::testing::Test::HasFailure()) return;  // one report is enough
  }
#else
  (void)seed;
  (void)rounds;
  GTEST_SKIP() << "no host FPU path on this architecture";
#endif
}

TEST(FpCrossCheckTest, SingleHostMatchesSoftware) { check_host_against_software<Float32>(1, 40000); }
TEST(FpCrossCheckTest, DoubleHostMatchesSoftware) { check_host_against_software<Float64>(2, 40000); }

}  // namespace
}  // namespace ferry::fpu
