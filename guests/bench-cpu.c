/* CPU benchmark kernels with a known instruction count, so guest instructions
 * per second can be computed from wall time on any VMM (bench/cpu).
 *   BENCH_ALU: 8 register-only instructions per iteration
 *   BENCH_MEM: 9 instructions per iteration, 2 loads and 2 stores
 *   BENCH_CRC: table-driven CRC-32 over a 64 KiB buffer, 12 per byte
 * Prints "bench KIND: N instructions" and a result so no work is optimized
 * away, then powers off. */
#include "runtime.h"

#ifndef BENCH_ITERS
#define BENCH_ITERS 100000000ull
#endif

#if !defined(BENCH_ALU)
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

#if !defined(BENCH_ALU) && !defined(BENCH_MEM)
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
