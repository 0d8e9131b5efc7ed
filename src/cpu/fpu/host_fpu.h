// The host's SSE unit (x86-64) doing the guest's rounding arithmetic in the
// four rounding modes it shares with RISC-V (RMM goes to soft_float.h).
//
// x86 rounds IEEE-correctly and, with all exceptions masked, raises the same
// flags as RISC-V (tininess after rounding). NaN results carry payloads on
// x86: the arithmetic here returns the canonical NaN instead (an unordered
// self-comparison, which raises nothing for a quiet NaN, finds them). Whether
// inf * 0 + qNaN is invalid is left to the callers (fp_arithmetic.h).
//
// HostFpContext owns the MXCSR of the thread while guest operations run: the
// first use() saves the host's MXCSR and loads the guest's rounding mode with
// clean flags; the guest operations' flags then pile up in MXCSR (fflags are
// sticky too) until collect() or release(), which hands the host its own
// MXCSR back. The interpreter releases it whenever run() returns, and host
// code that does floating point must not run on the vCPU thread in between
// (no device model does).
//
// Each operation is one asm statement, so the compiler can neither move it
// across the MXCSR accesses (volatile asm keeps its order) nor fold it.
#pragma once

#include <cstdint>

#include "cpu/fpu/fp_format.h"

#if defined(__x86_64__)
#define FERRY_HOST_FPU 1
#include <bit>
#else
#define FERRY_HOST_FPU 0
#endif

namespace ferry::fpu {

#if FERRY_HOST_FPU

class HostFpContext {
 public:
  HostFpContext() = default;
  HostFpContext(const HostFpContext&) = delete;
  HostFpContext& operator=(const HostFpContext&) = delete;
  ~HostFpContext() { release(); }

  // Makes the next host operations round in mode rm; false for RMM, which the
  // host cannot do (one comparison when rm is already loaded).
  bool use(RoundingMode rm) {
    if (__builtin_expect(loaded_ == rm, 1)) return true;
    if (rm == kNearestMaxMag) return false;
    load(rm);
    return true;
  }
  // The fflags raised since the last collect()/release(); clears them.
  uint32_t collect() {
    if (loaded_ < 0) return 0;
    const uint32_t status = read_mxcsr();
    write_mxcsr(status & ~kStatusFlags);
    return to_fflags(status);
  }
  // collect(), and the host's MXCSR is restored.
  uint32_t release() {
    if (loaded_ < 0) return 0;
    const uint32_t status = read_mxcsr();
    write_mxcsr(host_mxcsr_);
    loaded_ = -1;
    return to_fflags(status);
  }
  // Whether the host has FMA3 (else fused multiply-add is done in software).
  // (A bit test in libgcc's CPU model, filled in before main.)
  static bool has_fma() { return __builtin_cpu_supports("fma"); }

 private:
  // MXCSR: IE DE ZE OE UE PE flags in bits 0..5, masks in 7..12 (all set:
  // no host traps), rounding control in 13..14; DAZ (6) and FTZ (15) stay off
  // so subnormals are IEEE.
  static constexpr uint32_t kStatusFlags = 0x3f;
  static constexpr uint32_t kGuestControl = 0x1f80;

  static uint32_t read_mxcsr() {
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
  }
  static void write_mxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }
  static uint32_t to_fflags(uint32_t status) {
    // IE -> NV, ZE -> DZ, OE -> OF, UE -> UF, PE -> NX; DE has no RISC-V twin.
    return ((status & 1) << 4) | ((status & 4) << 1) | ((status & 8) >> 1) |
           ((status & 16) >> 3) | ((status & 32) >> 5);
  }
  void load(RoundingMode rm) {
    static constexpr uint32_t kRoundingControl[4] = {
        0u << 13,  // RNE: nearest
        3u << 13,  // RTZ: toward zero
        1u << 13,  // RDN: down
        2u << 13,  // RUP: up
    };
    uint32_t pending = 0;
    if (loaded_ < 0) {
      host_mxcsr_ = read_mxcsr();
    } else {
      pending = read_mxcsr() & kStatusFlags;
    }
    write_mxcsr(kGuestControl | kRoundingControl[rm & 3] | pending);
    loaded_ = rm;
  }

  int loaded_ = -1;  // the guest rounding mode in MXCSR; -1: the host's MXCSR
  uint32_t host_mxcsr_ = 0;
};

// The operations, on bit patterns, under whatever MXCSR holds.
namespace host {

template <class F>
struct Native;
template <>
struct Native<Float32> { using Type = float; };
template <>
struct Native<Float64> { using Type = double; };

// The result of an operation in xmm register x, canonical if it is a NaN.
#define FERRY_HOST_OP(ss_text, sd_text, ...)                                          \
  bool nan_;                                                                          \
  if constexpr (sizeof(T) == 4)                                                       \
    __asm__ volatile(ss_text "\n\tucomiss %0, %0" : "+x"(x), "=@ccp"(nan_) __VA_ARGS__); \
  else                                                                                \
    __asm__ volatile(sd_text "\n\tucomisd %0, %0" : "+x"(x), "=@ccp"(nan_) __VA_ARGS__); \
  return nan_ ? F::kCanonicalNan : std::bit_cast<typename F::Bits>(x)

#define FERRY_HOST_BINARY(name, ss, sd)                                      \
  template <class F>                                                         \
  inline typename F::Bits name(typename F::Bits a, typename F::Bits b) {     \
    using T = typename Native<F>::Type;                                      \
    T x = std::bit_cast<T>(a);                                               \
    const T y = std::bit_cast<T>(b);                                         \
    FERRY_HOST_OP(ss " %2, %0", sd " %2, %0", : "x"(y));                     \
  }
FERRY_HOST_BINARY(add, "addss", "addsd")
FERRY_HOST_BINARY(sub, "subss", "subsd")
FERRY_HOST_BINARY(mul, "mulss", "mulsd")
FERRY_HOST_BINARY(div, "divss", "divsd")
#undef FERRY_HOST_BINARY

template <class F>
inline typename F::Bits sqrt(typename F::Bits a) {
  using T = typename Native<F>::Type;
  T x = std::bit_cast<T>(a);
  FERRY_HOST_OP("sqrtss %0, %0", "sqrtsd %0, %0", );
}
#undef FERRY_HOST_OP

// (±(a * b)) ± c with one rounding (FMA3; see HostFpContext::has_fma).
// The 231 forms compute dst = ±(src2 * src3) ± dst. A NaN result (`nan`)
// is as x86 makes it: the caller settles it.
template <class F>
inline typename F::Bits fma(typename F::Bits a, typename F::Bits b, typename F::Bits c,
                            bool negate_product, bool negate_addend, bool& nan) {
  using T = typename Native<F>::Type;
  const T x = std::bit_cast<T>(a), y = std::bit_cast<T>(b);
  T z = std::bit_cast<T>(c);
  const unsigned form = (negate_product ? 2 : 0) | (negate_addend ? 1 : 0);
#define FERRY_HOST_FMA(insn, cmp) \
  __asm__ volatile(insn " %3, %2, %0\n\t" cmp " %0, %0" : "+x"(z), "=@ccp"(nan) : "x"(x), "x"(y))
  if constexpr (sizeof(T) == 4) {
    switch (form) {
      case 0: FERRY_HOST_FMA("vfmadd231ss", "ucomiss"); break;
      case 1: FERRY_HOST_FMA("vfmsub231ss", "ucomiss"); break;
      case 2: FERRY_HOST_FMA("vfnmadd231ss", "ucomiss"); break;
      default: FERRY_HOST_FMA("vfnmsub231ss", "ucomiss"); break;
    }
  } else {
    switch (form) {
      case 0: FERRY_HOST_FMA("vfmadd231sd", "ucomisd"); break;
      case 1: FERRY_HOST_FMA("vfmsub231sd", "ucomisd"); break;
      case 2: FERRY_HOST_FMA("vfnmadd231sd", "ucomisd"); break;
      default: FERRY_HOST_FMA("vfnmsub231sd", "ucomisd"); break;
    }
  }
#undef FERRY_HOST_FMA
  return std::bit_cast<typename F::Bits>(z);
}

// FCVT.S.D (rounds; a NaN gives the canonical NaN).
inline uint32_t double_to_single(uint64_t a) {
  const double x = std::bit_cast<double>(a);
  float r = 0;
  bool nan;
  __asm__ volatile("cvtsd2ss %2, %0\n\tucomiss %0, %0" : "+x"(r), "=@ccp"(nan) : "x"(x));
  return nan ? Float32::kCanonicalNan : std::bit_cast<uint32_t>(r);
}

// A signed 64-bit integer to F (exact for doubles only below 2^53).
template <class F>
inline typename F::Bits from_int64(int64_t v) {
  using T = typename Native<F>::Type;
  T r = 0;
  if constexpr (sizeof(T) == 4) __asm__ volatile("cvtsi2ssq %1, %0" : "+x"(r) : "r"(v));
  else __asm__ volatile("cvtsi2sdq %1, %0" : "+x"(r) : "r"(v));
  return std::bit_cast<typename F::Bits>(r);
}

// F to a signed 64-bit integer, rounded (x86 gives 0x80..0 out of range:
// callers only pass values well inside it).
template <class F>
inline int64_t to_int64(typename F::Bits a) {
  using T = typename Native<F>::Type;
  const T x = std::bit_cast<T>(a);
  int64_t r;
  if constexpr (sizeof(T) == 4) __asm__ volatile("cvtss2si %1, %0" : "=r"(r) : "x"(x));
  else __asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(x));
  return r;
}

// An unsigned 64-bit integer to F. With the top bit set, v / 2 is converted
// with the lost bit kept as a sticky bit (the rounding sees the same round and
// sticky bits), then doubled exactly.
template <class F>
inline typename F::Bits from_uint64(uint64_t v) {
  if (static_cast<int64_t>(v) >= 0) return from_int64<F>(static_cast<int64_t>(v));
  using T = typename Native<F>::Type;
  T r = std::bit_cast<T>(from_int64<F>(static_cast<int64_t>((v >> 1) | (v & 1))));
  if constexpr (sizeof(T) == 4) __asm__ volatile("addss %0, %0" : "+x"(r));
  else __asm__ volatile("addsd %0, %0" : "+x"(r));
  return std::bit_cast<typename F::Bits>(r);
}

}  // namespace host

#else  // !FERRY_HOST_FPU

// Without a host fast path every operation is done in software.
class HostFpContext {
 public:
  bool use(RoundingMode) { return false; }
  uint32_t collect() { return 0; }
  uint32_t release() { return 0; }
  static bool has_fma() { return false; }
};

#endif

}  // namespace ferry::fpu
