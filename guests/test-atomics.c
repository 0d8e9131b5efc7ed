/* test-atomics: the A extension. lr/sc success and failure, every AMO in .w and .d form
 * with known operands, sign extension of .w results, aq/rl encodings. Prints the values
 * it got (so a wrong one is visible), `ok N - ...` per check, and `test-atomics: PASS`
 * (exit 0) or FAIL (exit 1). */
#include "runtime.h"

static volatile uint64_t mem[4] __attribute__((aligned(16)));

#define AMO_W(op, addr, val)                                                            \
  ({                                                                                    \
    uint64_t __r;                                                                       \
    __asm__ volatile(op ".w %0, %2, (%1)" : "=r"(__r) : "r"(addr), "r"(val) : "memory"); \
    __r;                                                                                \
  })
#define AMO_D(op, addr, val)                                                            \
  ({                                                                                    \
    uint64_t __r;                                                                       \
    __asm__ volatile(op ".d %0, %2, (%1)" : "=r"(__r) : "r"(addr), "r"(val) : "memory"); \
    __r;                                                                                \
  })

/* .w AMO on the low word of mem[0]; the high word holds a guard that must not change */
static void amo_w(const char *name, uint32_t init, uint64_t operand, uint64_t want_rd,
                  uint32_t want_mem, uint64_t rd) {
  (void)init;
  uint32_t got_mem = (uint32_t)mem[0];
  int guard = (mem[0] >> 32) == 0xa5a5a5a5u;
  t_check(rd == want_rd && got_mem == want_mem && guard,
          "%-10s mem 0x%08x op 0x%016lx -> rd 0x%016lx mem 0x%08x", name, init,
          (unsigned long)operand, (unsigned long)rd, got_mem);
}

#define TEST_W(op, name, init, operand, want_rd, want_mem)                        \
  do {                                                                            \
    mem[0] = 0xa5a5a5a500000000ULL | (uint32_t)(init);                            \
    uint64_t __rd = AMO_W(op, &mem[0], (uint64_t)(operand));                      \
    amo_w(name ".w", (init), (operand), (want_rd), (want_mem), __rd);                  \
  } while (0)

#define TEST_D(op, name, init, operand, want_rd, want_mem)                                   \
  do {                                                                                       \
    mem[1] = (init);                                                                         \
    uint64_t __rd = AMO_D(op, &mem[1], (uint64_t)(operand));                                 \
    t_check(__rd == (uint64_t)(want_rd) && mem[1] == (uint64_t)(want_mem),                   \
            "%-10s mem 0x%016lx op 0x%016lx -> rd 0x%016lx mem 0x%016lx", name ".d",             \
            (unsigned long)(init), (unsigned long)(operand), (unsigned long)__rd,            \
            (unsigned long)mem[1]);                                                          \
  } while (0)

static uint64_t lr_d(volatile uint64_t *a) {
  uint64_t v;
  __asm__ volatile("lr.d %0, (%1)" : "=r"(v) : "r"(a) : "memory");
  return v;
}
static uint64_t sc_d(volatile uint64_t *a, uint64_t v) {
  uint64_t r;
  __asm__ volatile("sc.d %0, %2, (%1)" : "=&r"(r) : "r"(a), "r"(v) : "memory");
  return r;
}
static uint64_t lr_w(volatile void *a) {
  uint64_t v;
  __asm__ volatile("lr.w %0, (%1)" : "=r"(v) : "r"(a) : "memory");
  return v;
}
static uint64_t sc_w(volatile void *a, uint32_t v) {
  uint64_t r;
  __asm__ volatile("sc.w %0, %2, (%1)" : "=&r"(r) : "r"(a), "r"(v) : "memory");
  return r;
}

int main(void) {
  /* ---- .w AMOs: results are the old 32-bit value sign-extended ---- */
  TEST_W("amoswap", "amoswap", 0x80000001u, 0x12345678, 0xffffffff80000001ULL, 0x12345678u);
  TEST_W("amoadd", "amoadd", 0x7fffffffu, 1, 0x7fffffffULL, 0x80000000u);
  TEST_W("amoadd", "amoadd", 0xfffffffeu, 0xffffffff00000003ULL, 0xfffffffffffffffeULL, 1u);
  TEST_W("amoxor", "amoxor", 0xf0f0f0f0u, 0xff00ff00u, 0xfffffffff0f0f0f0ULL, 0x0ff00ff0u);
  TEST_W("amoand", "amoand", 0xf0f0f0f0u, 0x3c3c3c3cu, 0xfffffffff0f0f0f0ULL, 0x30303030u);
  TEST_W("amoor", "amoor", 0x0f0f0f0fu, 0x80000000u, 0x0f0f0f0fULL, 0x8f0f0f0fu);
  TEST_W("amomin", "amomin", 5u, 0xfffffffeu, 5ULL, 0xfffffffeu);
  TEST_W("amomin", "amomin", 0u, 0x00000000ffffffffULL, 0ULL, 0xffffffffu);
  TEST_W("amomax", "amomax", 0x80000000u, 0x7fffffffu, 0xffffffff80000000ULL, 0x7fffffffu);
  TEST_W("amomax", "amomax", 0xffffffffu, 0x100000000ULL, 0xffffffffffffffffULL, 0u);
  TEST_W("amominu", "amominu", 0x80000000u, 0x7fffffffu, 0xffffffff80000000ULL, 0x7fffffffu);
  TEST_W("amominu", "amominu", 1u, 0xffffffff00000000ULL, 1ULL, 0u);
  TEST_W("amomaxu", "amomaxu", 0x7fffffffu, 0x80000000u, 0x7fffffffULL, 0x80000000u);
  TEST_W("amomaxu", "amomaxu", 0xffffffffu, 1, 0xffffffffffffffffULL, 0xffffffffu);

  /* ---- .d AMOs ---- */
  TEST_D("amoswap", "amoswap", 0x8000000000000001ULL, 0x123456789abcdef0ULL,
         0x8000000000000001ULL, 0x123456789abcdef0ULL);
  TEST_D("amoadd", "amoadd", 0xffffffffffffffffULL, 2, 0xffffffffffffffffULL, 1);
  TEST_D("amoadd", "amoadd", 0x00000000ffffffffULL, 1, 0x00000000ffffffffULL,
         0x0000000100000000ULL);
  TEST_D("amoxor", "amoxor", 0xff00ff00ff00ff00ULL, 0x0ff00ff00ff00ff0ULL,
         0xff00ff00ff00ff00ULL, 0xf0f0f0f0f0f0f0f0ULL);
  TEST_D("amoand", "amoand", 0xff00ff00ff00ff00ULL, 0x0ff00ff00ff00ff0ULL,
         0xff00ff00ff00ff00ULL, 0x0f000f000f000f00ULL);
  TEST_D("amoor", "amoor", 0xff00ff00ff00ff00ULL, 0x0ff00ff00ff00ff0ULL,
         0xff00ff00ff00ff00ULL, 0xfff0fff0fff0fff0ULL);
  TEST_D("amomin", "amomin", 1, 0xffffffffffffffffULL, 1, 0xffffffffffffffffULL);
  TEST_D("amomin", "amomin", 0x8000000000000000ULL, 0x7fffffffffffffffULL,
         0x8000000000000000ULL, 0x8000000000000000ULL);
  TEST_D("amomax", "amomax", 1, 0xffffffffffffffffULL, 1, 1);
  TEST_D("amomax", "amomax", 0x8000000000000000ULL, 0x7fffffffffffffffULL,
         0x8000000000000000ULL, 0x7fffffffffffffffULL);
  TEST_D("amominu", "amominu", 1, 0xffffffffffffffffULL, 1, 1);
  TEST_D("amomaxu", "amomaxu", 1, 0xffffffffffffffffULL, 1, 0xffffffffffffffffULL);
  TEST_D("amomaxu", "amomaxu", 0x8000000000000000ULL, 0x7fffffffffffffffULL,
         0x8000000000000000ULL, 0x8000000000000000ULL);

  /* ---- rd = x0 still updates memory; aq/rl forms decode ---- */
  mem[1] = 40;
  __asm__ volatile("amoadd.d zero, %1, (%0)" ::"r"(&mem[1]), "r"(2UL) : "memory");
  t_check(mem[1] == 42, "amoadd.d with rd = x0 updates memory (%lu)", (unsigned long)mem[1]);
  mem[1] = 1;
  uint64_t r1, r2, r3;
  __asm__ volatile("amoadd.d.aq %0, %3, (%4)\n"
                   "amoadd.d.rl %1, %3, (%4)\n"
                   "amoadd.d.aqrl %2, %3, (%4)"
                   : "=&r"(r1), "=&r"(r2), "=&r"(r3)
                   : "r"(10UL), "r"(&mem[1])
                   : "memory");
  t_check(r1 == 1 && r2 == 11 && r3 == 21 && mem[1] == 31,
          "amoadd.d.aq / .rl / .aqrl: 0x%lx 0x%lx 0x%lx -> 0x%lx", (unsigned long)r1,
          (unsigned long)r2, (unsigned long)r3, (unsigned long)mem[1]);

  /* ---- lr / sc ---- */
  mem[2] = 0x1111;
  uint64_t v = lr_d(&mem[2]);
  uint64_t sc = sc_d(&mem[2], 0x2222);
  t_check(v == 0x1111 && sc == 0 && mem[2] == 0x2222, "lr.d/sc.d succeed: sc rd = %lu",
          (unsigned long)sc);
  sc = sc_d(&mem[2], 0x3333);
  t_check(sc != 0 && mem[2] == 0x2222,
          "second sc.d after a successful sc fails (no reservation): rd != 0, memory unchanged");
  v = lr_d(&mem[2]);
  sc = sc_d(&mem[3], 0x4444);
  t_check(sc != 0 && mem[3] != 0x4444, "sc.d to an address other than the lr's fails");
  sc = sc_d(&mem[2], 0x5555);
  t_check(sc != 0 && mem[2] == 0x2222, "sc.d after the failed sc (reservation gone) fails");

  mem[0] = 0xa5a5a5a580000000ULL;
  v = lr_w(&mem[0]);
  sc = sc_w(&mem[0], 0x7ffffffe);
  t_check(v == 0xffffffff80000000ULL && sc == 0 && mem[0] == 0xa5a5a5a57ffffffeULL,
          "lr.w sign-extends (0x%016lx); sc.w writes only the low word", (unsigned long)v);

  v = lr_w((volatile uint32_t *)&mem[0] + 1);
  sc = sc_w(&mem[0], 1);
  t_check(sc != 0 && mem[0] == 0xa5a5a5a57ffffffeULL,
          "sc.w to the other half of the dword fails");

  /* lr.d.aq / sc.d.rl decode and work */
  mem[2] = 7;
  __asm__ volatile("lr.d.aq %0, (%2)\n addi %0, %0, 1\n sc.d.rl %1, %0, (%2)"
                   : "=&r"(v), "=&r"(sc)
                   : "r"(&mem[2])
                   : "memory");
  t_check(sc == 0 && mem[2] == 8, "lr.d.aq / sc.d.rl increment");

  /* an lr/sc increment loop */
  mem[3] = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t tmp, fail;
    __asm__ volatile("1: lr.d %0, (%2)\n"
                     "   addi %0, %0, 3\n"
                     "   sc.d %1, %0, (%2)\n"
                     "   bnez %1, 1b"
                     : "=&r"(tmp), "=&r"(fail)
                     : "r"(&mem[3])
                     : "memory");
  }
  t_check(mem[3] == 3000, "1000 lr/sc increments by 3: %lu", (unsigned long)mem[3]);

  return t_finish("test-atomics");
}
