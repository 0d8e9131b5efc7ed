/* test-bitmanip: the Zba, Zbb and Zbs extensions. Edge cases with their values printed
 * (zero inputs of clz/ctz, 32-bit forms and their sign extension, rotate amounts 0 and
 * 63, shift amounts and bit indexes masked to 6 bits, .uw forms ignoring the upper half),
 * then every instruction against a C model over random and edge operands, with a CRC of
 * all results printed. Prints `ok N - ...` per check and `test-bitmanip: PASS` (exit 0)
 * or FAIL (exit 1).
 *
 * Built for RV64IMAC: the instructions are written with `.option arch`, so the C models
 * are compiled without them. ctzw of a value whose low 32 bits are zero is not checked
 * (QEMU 7.2 gets it wrong; the unit tests have it). */
#include "runtime.h"

#define ZB ".option push\n\t.option arch, +zba, +zbb, +zbs\n\t"
#define ZB_END "\n\t.option pop"
#define OP2(name, a, b)                                                             \
  ({                                                                                \
    uint64_t r_;                                                                    \
    __asm__ volatile(ZB name " %0, %1, %2" ZB_END : "=r"(r_) : "r"(a), "r"(b));     \
    r_;                                                                             \
  })
#define OP1(name, a)                                                                \
  ({                                                                                \
    uint64_t r_;                                                                    \
    __asm__ volatile(ZB name " %0, %1" ZB_END : "=r"(r_) : "r"(a));                 \
    r_;                                                                             \
  })
#define OPI(name, a, imm)                                                           \
  ({                                                                                \
    uint64_t r_;                                                                    \
    __asm__ volatile(ZB name " %0, %1, " #imm ZB_END : "=r"(r_) : "r"(a));          \
    r_;                                                                             \
  })

static void expect(const char *what, uint64_t got, uint64_t want) {
  t_check(got == want, "%s = 0x%lx", what, (unsigned long)got);
  if (got != want) kprintf("#   want 0x%lx\n", (unsigned long)want);
}

/* ---- C models ---- */
static uint64_t m_clz(uint64_t v, int bits) {
  int n = 0;
  for (int i = bits - 1; i >= 0 && !((v >> i) & 1); --i) ++n;
  return (uint64_t)n;
}
static uint64_t m_ctz(uint64_t v, int bits) {
  int n = 0;
  for (int i = 0; i < bits && !((v >> i) & 1); ++i) ++n;
  return (uint64_t)n;
}
static uint64_t m_cpop(uint64_t v) {
  uint64_t n = 0;
  for (; v; v >>= 1) n += v & 1;
  return n;
}
static uint64_t sext32(uint64_t v) { return (uint64_t)(int64_t)(int32_t)(uint32_t)v; }
static uint64_t m_rol(uint64_t v, unsigned n) { n &= 63; return n ? (v << n) | (v >> (64 - n)) : v; }
static uint64_t m_ror(uint64_t v, unsigned n) { n &= 63; return n ? (v >> n) | (v << (64 - n)) : v; }
static uint64_t m_rolw(uint64_t v, unsigned n) {
  uint32_t x = (uint32_t)v;
  n &= 31;
  return sext32(n ? (x << n) | (x >> (32 - n)) : x);
}
static uint64_t m_rorw(uint64_t v, unsigned n) {
  uint32_t x = (uint32_t)v;
  n &= 31;
  return sext32(n ? (x >> n) | (x << (32 - n)) : x);
}
static uint64_t m_orcb(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i)
    if ((v >> (8 * i)) & 0xff) r |= 0xffull << (8 * i);
  return r;
}
static uint64_t m_rev8(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r |= ((v >> (8 * i)) & 0xff) << (8 * (7 - i));
  return r;
}

static uint64_t rng = 0x123456789abcdefull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static uint64_t operand(void) {
  static const uint64_t edges[] = {0, 1, 63, 64, 0x7f, 0x80, 0xff, 0x8000, 0xffff,
                                   0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
                                   0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull};
  switch (next() % 4) {
    case 0: return edges[next() % (sizeof edges / sizeof edges[0])];
    case 1: return next() >> (next() % 64);
    default: return next();
  }
}

static unsigned mismatches;
static uint32_t crc;
static void compare(const char *name, uint64_t a, uint64_t b, uint64_t got, uint64_t want) {
  crc = crc32_update(crc, &got, sizeof got);
  if (got != want && mismatches++ < 5)
    kprintf("# %s(0x%lx, 0x%lx) = 0x%lx, model 0x%lx\n", name, (unsigned long)a,
            (unsigned long)b, (unsigned long)got, (unsigned long)want);
}

static void random_against_models(unsigned rounds) {
  for (unsigned i = 0; i < rounds; ++i) {
    const uint64_t a = operand(), b = operand();
    const uint64_t bit = 1ull << (b & 63);
    compare("add.uw", a, b, OP2("add.uw", a, b), b + (uint32_t)a);
    compare("sh1add", a, b, OP2("sh1add", a, b), b + (a << 1));
    compare("sh2add", a, b, OP2("sh2add", a, b), b + (a << 2));
    compare("sh3add", a, b, OP2("sh3add", a, b), b + (a << 3));
    compare("sh1add.uw", a, b, OP2("sh1add.uw", a, b), b + ((uint64_t)(uint32_t)a << 1));
    compare("sh2add.uw", a, b, OP2("sh2add.uw", a, b), b + ((uint64_t)(uint32_t)a << 2));
    compare("sh3add.uw", a, b, OP2("sh3add.uw", a, b), b + ((uint64_t)(uint32_t)a << 3));
    compare("slli.uw 7", a, 7, OPI("slli.uw", a, 7), (uint64_t)(uint32_t)a << 7);
    compare("andn", a, b, OP2("andn", a, b), a & ~b);
    compare("orn", a, b, OP2("orn", a, b), a | ~b);
    compare("xnor", a, b, OP2("xnor", a, b), ~(a ^ b));
    compare("clz", a, 0, OP1("clz", a), m_clz(a, 64));
    compare("clzw", a, 0, OP1("clzw", a), m_clz((uint32_t)a, 32));
    compare("ctz", a, 0, OP1("ctz", a), m_ctz(a, 64));
    /* QEMU 7.2 gives ctzw of a value whose low half is zero as the 64-bit count
     * (fixed in QEMU 8.0): that case is left out here, the unit tests check it. */
    if ((uint32_t)a != 0) compare("ctzw", a, 0, OP1("ctzw", a), m_ctz((uint32_t)a, 32));
    compare("cpop", a, 0, OP1("cpop", a), m_cpop(a));
    compare("cpopw", a, 0, OP1("cpopw", a), m_cpop((uint32_t)a));
    compare("max", a, b, OP2("max", a, b), (int64_t)a > (int64_t)b ? a : b);
    compare("maxu", a, b, OP2("maxu", a, b), a > b ? a : b);
    compare("min", a, b, OP2("min", a, b), (int64_t)a < (int64_t)b ? a : b);
    compare("minu", a, b, OP2("minu", a, b), a < b ? a : b);
    compare("sext.b", a, 0, OP1("sext.b", a), (uint64_t)(int64_t)(int8_t)a);
    compare("sext.h", a, 0, OP1("sext.h", a), (uint64_t)(int64_t)(int16_t)a);
    compare("zext.h", a, 0, OP1("zext.h", a), (uint16_t)a);
    compare("rol", a, b, OP2("rol", a, b), m_rol(a, (unsigned)b));
    compare("rolw", a, b, OP2("rolw", a, b), m_rolw(a, (unsigned)b));
    compare("ror", a, b, OP2("ror", a, b), m_ror(a, (unsigned)b));
    compare("rorw", a, b, OP2("rorw", a, b), m_rorw(a, (unsigned)b));
    compare("rori 13", a, 13, OPI("rori", a, 13), m_ror(a, 13));
    compare("roriw 13", a, 13, OPI("roriw", a, 13), m_rorw(a, 13));
    compare("orc.b", a, 0, OP1("orc.b", a), m_orcb(a));
    compare("rev8", a, 0, OP1("rev8", a), m_rev8(a));
    compare("bclr", a, b, OP2("bclr", a, b), a & ~bit);
    compare("bext", a, b, OP2("bext", a, b), (a >> (b & 63)) & 1);
    compare("binv", a, b, OP2("binv", a, b), a ^ bit);
    compare("bset", a, b, OP2("bset", a, b), a | bit);
    compare("bclri 37", a, 37, OPI("bclri", a, 37), a & ~(1ull << 37));
    compare("bexti 37", a, 37, OPI("bexti", a, 37), (a >> 37) & 1);
    compare("binvi 37", a, 37, OPI("binvi", a, 37), a ^ (1ull << 37));
    compare("bseti 37", a, 37, OPI("bseti", a, 37), a | (1ull << 37));
  }
}

int main(void) {
  const uint64_t hi = 0xfedcba9800000000ull;
  /* Zba: the .uw forms take the low 32 bits of rs1, zero-extended. */
  expect("add.uw 0xfedcba98ffffffff, 1", OP2("add.uw", hi | 0xffffffffull, 1ul), 0x100000000ull);
  expect("sh1add 5, 100", OP2("sh1add", 5ul, 100ul), 110);
  expect("sh3add -1, 0", OP2("sh3add", ~0ul, 0ul), ~0ull << 3);
  expect("sh2add.uw 0xfedcba9880000000, 0", OP2("sh2add.uw", hi | 0x80000000ull, 0ul), 0x200000000ull);
  expect("slli.uw 0xffffffff80000000, 4", OPI("slli.uw", 0xffffffff80000000ull, 4), 0x800000000ull);
  expect("slli.uw 1, 63", OPI("slli.uw", 1ul, 63), 0x8000000000000000ull);
  /* Zbb: counts, with zero inputs. */
  expect("clz 0", OP1("clz", 0ul), 64);
  expect("clz 1", OP1("clz", 1ul), 63);
  expect("clzw 0xffffffff00000000", OP1("clzw", 0xffffffff00000000ull), 32);
  expect("clzw 0x8000", OP1("clzw", 0x8000ul), 16);
  expect("ctz 0", OP1("ctz", 0ul), 64);
  expect("ctz 2^63", OP1("ctz", 0x8000000000000000ull), 63);
  expect("ctzw 0x100000000", OP1("ctzw", 0x100000000ull), 32);
  expect("cpop -1", OP1("cpop", ~0ul), 64);
  expect("cpopw -1", OP1("cpopw", ~0ul), 32);
  /* Zbb: min/max signed and unsigned, sign and zero extension. */
  expect("max -1, 1", OP2("max", ~0ul, 1ul), 1);
  expect("maxu -1, 1", OP2("maxu", ~0ul, 1ul), ~0ull);
  expect("min -1, 1", OP2("min", ~0ul, 1ul), ~0ull);
  expect("minu -1, 1", OP2("minu", ~0ul, 1ul), 1);
  expect("sext.b 0x80", OP1("sext.b", 0x80ul), 0xffffffffffffff80ull);
  expect("sext.h 0x1234f000", OP1("sext.h", 0x1234f000ul), 0xfffffffffffff000ull);
  expect("zext.h 0xffffffff12345678", OP1("zext.h", 0xffffffff12345678ull), 0x5678);
  /* Zbb: logic with negation. */
  expect("andn 0xff, 0x0f", OP2("andn", 0xfful, 0x0ful), 0xf0);
  expect("orn 0, -1", OP2("orn", 0ul, ~0ul), 0);
  expect("xnor 0xf0, 0xff", OP2("xnor", 0xf0ul, 0xfful), ~0x0full);
  /* Zbb: rotations (amounts masked to 6 or 5 bits, W forms sign-extend). */
  expect("rol 0x8000000000000001, 1", OP2("rol", 0x8000000000000001ull, 1ul), 3);
  expect("rol x, 64 (= 0)", OP2("rol", 0x1234ul, 64ul), 0x1234);
  expect("ror 1, 1", OP2("ror", 1ul, 1ul), 0x8000000000000000ull);
  expect("rolw 0x40000000, 1", OP2("rolw", 0x40000000ul, 1ul), 0xffffffff80000000ull);
  expect("rorw 1, 33 (= 1)", OP2("rorw", 1ul, 33ul), 0xffffffff80000000ull);
  expect("rori 1, 63", OPI("rori", 1ul, 63), 2);
  expect("rori x, 0", OPI("rori", 0x5555ul, 0), 0x5555);
  expect("roriw 0x12345678ffff0000, 16", OPI("roriw", 0x12345678ffff0000ull, 16), 0xffff);
  expect("orc.b 0x0001000000ff0080", OP1("orc.b", 0x0001000000ff0080ull), 0x00ff000000ff00ffull);
  expect("rev8 0x0102030405060708", OP1("rev8", 0x0102030405060708ull), 0x0807060504030201ull);
  /* Zbs: bit indexes masked to 6 bits. */
  expect("bset 0, 64 (= 0)", OP2("bset", 0ul, 64ul), 1);
  expect("bclr -1, 63", OP2("bclr", ~0ul, 63ul), 0x7fffffffffffffffull);
  expect("bext 2^40, 40", OP2("bext", 1ul << 40, 40ul), 1);
  expect("binv 0, 127 (= 63)", OP2("binv", 0ul, 127ul), 0x8000000000000000ull);
  expect("bseti 0, 63", OPI("bseti", 0ul, 63), 0x8000000000000000ull);
  expect("bclri -1, 0", OPI("bclri", ~0ul, 0), ~1ull);
  expect("bexti 0x8000000000000000, 63", OPI("bexti", 0x8000000000000000ull, 63), 1);
  expect("binvi 1, 0", OPI("binvi", 1ul, 0), 0);
  /* rd = x0 writes nothing. */
  uint64_t keep = 7;
  __asm__ volatile(ZB "mv t0, %0\n\tclz zero, t0\n\trev8 zero, t0\n\tmv %0, t0" ZB_END
                   : "+r"(keep)::"t0");
  expect("clz/rev8 to x0", keep, 7);

  random_against_models(4000);
  t_check(mismatches == 0, "4000 random operand pairs x 40 instructions against C models: "
          "%u differ, crc 0x%08x", mismatches, crc);
  return t_finish("test-bitmanip");
}
