// The IEEE 754 binary32 and binary64 formats as the RISC-V F and D extensions
// use them: field masks, canonical NaNs, NaN-boxing of singles in the 64-bit
// f registers, the fflags bits and the rounding-mode encoding.
#pragma once

#include <cstdint>

namespace ferry::fpu {

// fflags (fcsr bits 4..0).
constexpr uint32_t kInexact = 1, kUnderflow = 2, kOverflow = 4, kDivByZero = 8, kInvalid = 16;
constexpr uint32_t kAllFlags = 31;

// The rm field of an instruction and the frm CSR. 5 and 6 are reserved; kDynamic
// (only in an instruction) means "use frm".
enum RoundingMode : uint8_t {
  kNearestEven = 0,    // RNE
  kTowardZero = 1,     // RTZ
  kDown = 2,           // RDN, toward -infinity
  kUp = 3,             // RUP, toward +infinity
  kNearestMaxMag = 4,  // RMM, ties away from zero
  kDynamic = 7,
};

struct Float32 {
  using Bits = uint32_t;
  static constexpr int kMantissaBits = 23;
  static constexpr int kBias = 127;
  static constexpr Bits kSign = 0x80000000u;
  static constexpr Bits kInfinity = 0x7f800000u;  // also the exponent mask
  static constexpr Bits kMantissa = 0x007fffffu;
  static constexpr Bits kQuiet = 0x00400000u;
  static constexpr Bits kCanonicalNan = 0x7fc00000u;
};

struct Float64 {
  using Bits = uint64_t;
  static constexpr int kMantissaBits = 52;
  static constexpr int kBias = 1023;
  static constexpr Bits kSign = 0x8000000000000000ull;
  static constexpr Bits kInfinity = 0x7ff0000000000000ull;
  static constexpr Bits kMantissa = 0x000fffffffffffffull;
  static constexpr Bits kQuiet = 0x0008000000000000ull;
  static constexpr Bits kCanonicalNan = 0x7ff8000000000000ull;
};

template <class F>
constexpr bool is_nan(typename F::Bits a) {
  return (a & ~F::kSign) > F::kInfinity;
}
template <class F>
constexpr bool is_signaling_nan(typename F::Bits a) {
  return is_nan<F>(a) && !(a & F::kQuiet);
}
template <class F>
constexpr bool is_infinity(typename F::Bits a) {
  return (a & ~F::kSign) == F::kInfinity;
}
template <class F>
constexpr bool is_zero(typename F::Bits a) {
  return (a & ~F::kSign) == 0;
}
template <class F>
constexpr bool sign_of(typename F::Bits a) {
  return (a & F::kSign) != 0;
}
// NaN results are always the canonical NaN on RISC-V (no payload propagation).
template <class F>
constexpr typename F::Bits canonicalize(typename F::Bits a) {
  return is_nan<F>(a) ? F::kCanonicalNan : a;
}

// A single in a 64-bit f register is valid only with the upper half all ones;
// anything else reads as the canonical NaN.
constexpr uint64_t kBoxBits = 0xffffffff00000000ull;
constexpr uint32_t unbox_single(uint64_t reg) {
  return (reg & kBoxBits) == kBoxBits ? static_cast<uint32_t>(reg) : Float32::kCanonicalNan;
}
constexpr uint64_t box_single(uint32_t bits) { return kBoxBits | bits; }

// How an f register holds a value of format F: singles NaN-boxed, doubles whole.
template <class F>
struct Register;
template <>
struct Register<Float32> {
  static uint32_t read(uint64_t reg) { return unbox_single(reg); }
  static uint64_t write(uint32_t bits) { return box_single(bits); }
};
template <>
struct Register<Float64> {
  static uint64_t read(uint64_t reg) { return reg; }
  static uint64_t write(uint64_t bits) { return bits; }
};

}  // namespace ferry::fpu
