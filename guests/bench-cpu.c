/* CPU benchmark kernels with a known instruction count, so guest instructions
 * per second can be computed from wall time on any VMM (bench/cpu).
 *   BENCH_ALU: 8 register-only instructions per iteration
 *   BENCH_MEM: 9 instructions per iteration, 2 loads and 2 stores
 *   BENCH_CRC: table-driven CRC-32 over a 64 KiB buffer, 12 per byte
 *   BENCH_FP:  floating point, 14 per iteration: a DAXPY step over a 4 KiB array (2 fld,
 *              fmadd.d, fsd), a product summed (fmul.d, fadd.d), a division, a
 *              single-precision recurrence (fmadd.s) and a conversion to integer
 *              (fcvt.w.d); built with F/D. BENCH_FRM sets frm first (default 0, RNE),
 *              and the fflags raised are printed with the result.
 * Prints "bench KIND: N instructions" and a result so no work is optimized
 * away, then powers off. */
#include "runtime.h"

#ifndef BENCH_ITERS
#define BENCH_ITERS 100000000ull
#endif

#if !defined(BENCH_ALU) && !defined(BENCH_FP)
static uint64_t buffer[8192];
#endif

#if defined(BENCH_ALU)
static uint64_t bench_alu(uint64_t iters) {
  uint64_t a = 1, b = 2, c, d, e, f;
  __asm__ volatile(
      "1:\n"
      "add %[a], %[a], %[b]\n"
      "xor %[b], %[b], %[a]\n"
      "slli %[c], %[a], 3\n"
      "sub %[d], %[c], %[b]\n"
      "or %[e], %[d], %[a]\n"
      "and %[f], %[e], %[c]\n"
      "addi %[n], %[n], -1\n"
      "bnez %[n], 1b\n"
      : [a] "+r"(a), [b] "+r"(b), [c] "=&r"(c), [d] "=&r"(d), [e] "=&r"(e),
        [f] "=&r"(f), [n] "+r"(iters));
  return a ^ b ^ f;
}
#endif

#if defined(BENCH_MEM)
static uint64_t bench_mem(uint64_t iters) {
  uint64_t *p = buffer, *end = buffer + 8192, *base = buffer, t0, t1;
  __asm__ volatile(
      "1:\n"
      "ld %[t0], 0(%[p])\n"
      "ld %[t1], 8(%[p])\n"
      "addi %[t0], %[t0], 1\n"
      "sd %[t1], 0(%[p])\n"
      "sd %[t0], 8(%[p])\n"
      "addi %[p], %[p], 16\n"
      "addi %[n], %[n], -1\n"
      "bltu %[p], %[end], 2f\n"
      "mv %[p], %[base]\n"
      "addi %[n], %[n], 0\n"   /* the wrap path (once per 4096 iterations) has 2 more */
      "2:\n"
      "bnez %[n], 1b\n"
      /* base and end are in-out so they never share p's register */
      : [p] "+r"(p), [t0] "=&r"(t0), [t1] "=&r"(t1), [n] "+r"(iters),
        [end] "+r"(end), [base] "+r"(base)
      :
      : "memory");
  return buffer[0] + buffer[8191];
}
#endif

#if defined(BENCH_FP)
#ifndef BENCH_FRM
#define BENCH_FRM 0
#endif
static double vec[512];

/* Returns a digest of the f registers and the integer sum; *flags = fflags. */
static uint64_t bench_fp(uint64_t iters, uint64_t *flags) {
  for (unsigned i = 0; i < 512; ++i) vec[i] = (double)(i + 1) / 7.0;
  double *p = vec, *end = vec + 512, *base = vec;
  uint64_t acc = 0, t0, acc_bits, y_bits, s_bits;
  static const double a = 1e-9, scale = 0.5, divisor = 3.0;
  static const float sa = 0.75f, sb = 1.0f;
  __asm__ volatile(
      "csrw frm, %[frm]\n"
      "csrw fflags, zero\n"
      "fld fa0, 0(%[ka])\n"
      "fld fa1, 0(%[ks])\n"
      "fld fa3, 0(%[kd])\n"
      "fmv.d.x fa2, zero\n"
      "fmv.w.x fa4, zero\n"
      "flw fa5, 0(%[ksa])\n"
      "flw fa6, 0(%[ksb])\n"
      "1:\n"
      "fld ft0, 0(%[p])\n"
      "fld ft1, 8(%[p])\n"
      "fmadd.d ft1, fa0, ft0, ft1\n"
      "fsd ft1, 8(%[p])\n"
      "fmul.d ft2, ft0, fa1\n"
      "fadd.d fa2, fa2, ft2\n"
      "fdiv.d ft3, ft0, fa3\n"
      "fmadd.s fa4, fa4, fa5, fa6\n"
      "fcvt.w.d %[t0], ft3\n"
      "add %[acc], %[acc], %[t0]\n"
      "addi %[p], %[p], 16\n"
      "addi %[n], %[n], -1\n"
      "bltu %[p], %[end], 2f\n"
      "mv %[p], %[base]\n" /* the wrap path (once per 256 iterations) has one more */
      "2:\n"
      "bnez %[n], 1b\n"
      "fmv.x.d %[accb], fa2\n"
      "fmv.x.d %[yb], ft1\n"
      "fmv.x.w %[sb], fa4\n"
      "frflags %[flags]\n"
      : [p] "+r"(p), [t0] "=&r"(t0), [acc] "+r"(acc), [n] "+r"(iters), [end] "+r"(end),
        [base] "+r"(base), [accb] "=&r"(acc_bits), [yb] "=&r"(y_bits), [sb] "=&r"(s_bits),
        [flags] "=&r"(*flags)
      : [frm] "r"((uint64_t)BENCH_FRM), [ka] "r"(&a), [ks] "r"(&scale), [kd] "r"(&divisor),
        [ksa] "r"(&sa), [ksb] "r"(&sb)
      : "ft0", "ft1", "ft2", "ft3", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "memory");
  return acc_bits ^ (y_bits * 3) ^ (s_bits << 7) ^ (acc * 0x9e3779b97f4a7c15ull);
}
#endif

#if !defined(BENCH_ALU) && !defined(BENCH_MEM) && !defined(BENCH_FP)
static uint32_t crc_table[256];

static uint32_t bench_crc(uint64_t bytes) {
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    crc_table[i] = c;
  }
  for (unsigned i = 0; i < 8192; ++i) buffer[i] = i * 0x9e3779b97f4a7c15ull;
  const uint8_t *base = (const uint8_t *)buffer, *end = base + sizeof buffer;
  const uint8_t *p = base;
  uint32_t crc = 0xffffffffu;
  uint64_t t, u;
  __asm__ volatile(
      "1:\n"
      "lbu %[t], 0(%[p])\n"
      "xor %[t], %[t], %[crc]\n"
      "andi %[t], %[t], 255\n"
      "slli %[t], %[t], 2\n"
      "add %[t], %[t], %[tab]\n"
      "lwu %[u], 0(%[t])\n"
      "srliw %[crc], %[crc], 8\n"
      "xor %[crc], %[crc], %[u]\n"
      "addi %[p], %[p], 1\n"
      "addi %[n], %[n], -1\n"
      "bltu %[p], %[end], 2f\n"
      "mv %[p], %[base]\n"
      "2:\n"
      "bnez %[n], 1b\n"
      : [p] "+r"(p), [t] "=&r"(t), [u] "=&r"(u), [crc] "+r"(crc), [n] "+r"(bytes),
        [end] "+r"(end), [base] "+r"(base)
      : [tab] "r"(crc_table)
      : "memory");
  return ~crc;
}
#endif

int main(void) {
#if defined(BENCH_ALU)
  uint64_t r = bench_alu(BENCH_ITERS);
  kprintf("bench alu: %lu instructions, result %lx\n", (unsigned long)(BENCH_ITERS * 8), (unsigned long)r);
#elif defined(BENCH_FP)
  uint64_t flags;
  uint64_t r = bench_fp(BENCH_ITERS, &flags);
  kprintf("bench fp: %lu instructions, result %lx\n", (unsigned long)(BENCH_ITERS * 14), (unsigned long)r);
  kprintf("fflags: 0x%lx\n", (unsigned long)flags);
#elif defined(BENCH_MEM)
  uint64_t r = bench_mem(BENCH_ITERS);
  kprintf("bench mem: %lu instructions, result %lx\n", (unsigned long)(BENCH_ITERS * 9), (unsigned long)r);
#else
  uint32_t r = bench_crc(BENCH_ITERS);
  /* 12 instructions per byte except where the buffer wraps (one more). */
  kprintf("bench crc: %lu instructions, result %x\n", (unsigned long)(BENCH_ITERS * 12), r);
#endif
  return 0;
}
