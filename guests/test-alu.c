/* test-alu: RV64IM integer edge cases. Every operation runs as a real instruction (inline
 * assembly, so nothing is folded at compile time) and its result is printed in hex next to
 * `ok N` / `not ok N`. Ends with `test-alu: PASS` (exit 0) or FAIL (exit 1). */
#include "runtime.h"

#define MIN64 0x8000000000000000ULL
#define ALL1 0xffffffffffffffffULL

static void report(const char *insn, uint64_t a, uint64_t b, int has_b, uint64_t got,
                   uint64_t want) {
  if (has_b)
    t_check(got == want, "%-6s 0x%016lx, 0x%016lx = 0x%016lx", insn, (unsigned long)a,
            (unsigned long)b, (unsigned long)got);
  else
    t_check(got == want, "%-6s 0x%016lx = 0x%016lx", insn, (unsigned long)a,
            (unsigned long)got);
}

/* register-register */
#define RR(insn, a, b, want)                                                             \
  do {                                                                                   \
    uint64_t __a = (a), __b = (b), __r;                                                  \
    __asm__ volatile(insn " %0, %1, %2" : "=r"(__r) : "r"(__a), "r"(__b));               \
    report(insn, __a, __b, 1, __r, (want));                                              \
  } while (0)
/* register-immediate (the immediate is printed as the second operand) */
#define RI(insn, a, imm, want)                                                           \
  do {                                                                                   \
    uint64_t __a = (a), __r;                                                             \
    __asm__ volatile(insn " %0, %1, %2" : "=r"(__r) : "r"(__a), "i"(imm));               \
    report(insn, __a, (uint64_t)(int64_t)(imm), 1, __r, (want));                         \
  } while (0)

static volatile uint8_t bytes[8] __attribute__((aligned(8))) = {0x80, 0xff, 0x7f, 0x01,
                                                                 0x88, 0x99, 0xaa, 0xbb};

#define LOAD(insn, off, want)                                                            \
  do {                                                                                   \
    uint64_t __r;                                                                        \
    __asm__ volatile(insn " %0, %2(%1)" : "=r"(__r) : "r"(bytes), "i"(off) : "memory");  \
    report(insn, (off), 0, 0, __r, (want));                                              \
  } while (0)

int main(void) {
  /* ---- division and remainder ---- */
  RR("div", 7, -2, -3);
  RR("div", -7, 2, -3);
  RR("div", MIN64, -1, MIN64);
  RR("div", 12345, 0, ALL1);
  RR("div", -12345, 0, ALL1);
  RR("divu", 12345, 0, ALL1);
  RR("divu", ALL1, 2, 0x7fffffffffffffffULL);
  RR("rem", 7, -2, 1);
  RR("rem", -7, 2, -1);
  RR("rem", MIN64, -1, 0);
  RR("rem", -12345, 0, -12345);
  RR("remu", 12345, 0, 12345);
  RR("remu", ALL1, 10, 5);
  RR("divw", 0xffffffff80000000ULL, -1, 0xffffffff80000000ULL);
  RR("divw", 0x123456780000000aULL, 0, ALL1);
  RR("divw", 0x100000010ULL, 2, 8);
  RR("divuw", 0x80000000, 0, ALL1);
  RR("divuw", 0xffffffff, 1, ALL1);
  RR("divuw", 0xfffffffe, 2, 0x7fffffff);
  RR("remw", 0xffffffff80000000ULL, -1, 0);
  RR("remw", 0x80000001, 0, 0xffffffff80000001ULL);
  RR("remw", -7, 2, -1);
  RR("remuw", 0x80000000, 0, 0xffffffff80000000ULL);
  RR("remuw", 0xffffffff, 7, 3);

  /* ---- multiplication ---- */
  RR("mul", 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x2236d88fe5618cf0ULL);
  RR("mul", MIN64, -1, MIN64);
  RR("mulh", ALL1, ALL1, 0);
  RR("mulh", MIN64, MIN64, 0x4000000000000000ULL);
  RR("mulh", -2, 3, ALL1);
  RR("mulh", 0x7fffffffffffffffULL, 0x7fffffffffffffffULL, 0x3fffffffffffffffULL);
  RR("mulhu", ALL1, ALL1, 0xfffffffffffffffeULL);
  RR("mulhu", MIN64, 2, 1);
  RR("mulhsu", ALL1, ALL1, ALL1);
  RR("mulhsu", 2, ALL1, 1);
  RR("mulhsu", MIN64, ALL1, 0x8000000000000000ULL);
  RR("mulw", 0x7fffffff, 2, 0xfffffffffffffffeULL);
  RR("mulw", 0xabcdef0100010000ULL, 0x1234567800010000ULL, 0);
  RR("mulw", 0x10000, 0x8000, 0xffffffff80000000ULL);

  /* ---- add/sub and the W forms ---- */
  RR("add", 0x7fffffffffffffffULL, 1, MIN64);
  RR("sub", 0, 1, ALL1);
  RR("addw", 0x7fffffff, 1, 0xffffffff80000000ULL);
  RR("addw", 0xffffffff00000001ULL, 0x00000000ffffffffULL, 0);
  RR("subw", 0x80000000, 1, 0x7fffffff);
  RR("subw", 0, 1, ALL1);
  RI("addiw", 0x7fffffff, 1, 0xffffffff80000000ULL);
  RI("addiw", 0x12345678ffffffffULL, 0, ALL1);
  RI("addi", 0, -2048, 0xfffffffffffff800ULL);
  RI("andi", 0x123456789abcdef0ULL, -256, 0x123456789abcde00ULL);
  RI("ori", 0, -1, ALL1);
  RI("xori", 0x0f, -1, 0xfffffffffffffff0ULL);

  /* ---- shifts ---- */
  RR("sll", 1, 63, MIN64);
  RR("sll", 1, 64, 1); /* shift amount is rs2[5:0] */
  RR("srl", MIN64, 63, 1);
  RR("sra", MIN64, 63, ALL1);
  RR("sra", MIN64, 0x7f, ALL1);
  RR("sllw", 1, 31, 0xffffffff80000000ULL);
  RR("sllw", 1, 32, 1); /* rs2[4:0] */
  RR("srlw", 0xffffffff80000000ULL, 31, 1);
  RR("srlw", 0xffffffff80000000ULL, 0, 0xffffffff80000000ULL);
  RR("srlw", 0x0000000180000000ULL, 1, 0x40000000);
  RR("sraw", 0x80000000, 31, ALL1);
  RR("sraw", 0x7fffffff00000000ULL, 4, 0);
  RI("slli", 3, 62, 0xc000000000000000ULL);
  RI("srli", ALL1, 63, 1);
  RI("srai", 0x8000000000000000ULL, 62, 0xfffffffffffffffeULL);
  RI("slliw", 3, 31, 0xffffffff80000000ULL);
  RI("srliw", 0xffffffff80000000ULL, 31, 1);
  RI("sraiw", 0x0000000080000000ULL, 31, ALL1);
  RI("sraiw", 0x12345678, 0, 0x12345678);

  /* ---- comparisons ---- */
  RR("slt", ALL1, 1, 1);
  RR("sltu", ALL1, 1, 0);
  RR("slt", MIN64, 0x7fffffffffffffffULL, 1);
  RR("sltu", MIN64, 0x7fffffffffffffffULL, 0);
  RI("slti", ALL1, 0, 1);
  RI("sltiu", 5, -1, 1); /* the immediate is sign-extended, then compared unsigned */
  RI("sltiu", ALL1, -1, 0);
  RI("sltiu", 0, 1, 1);

  /* ---- branches on the signed/unsigned boundary ---- */
  {
    uint64_t m = MIN64, p = 1, r = 0;
    __asm__ volatile(
        "li %0, 0\n"
        "blt %1, %2, 1f\n ori %0, %0, 1\n1:"    /* taken: MIN64 < 1 */
        "bltu %1, %2, 2f\n ori %0, %0, 2\n2:"   /* not taken */
        "bge %2, %1, 3f\n ori %0, %0, 4\n3:"    /* taken */
        "bgeu %2, %1, 4f\n ori %0, %0, 8\n4:"   /* not taken */
        "beq %1, %1, 5f\n ori %0, %0, 16\n5:"   /* taken */
        "bne %1, %2, 6f\n ori %0, %0, 32\n6:"   /* taken */
        : "=&r"(r)
        : "r"(m), "r"(p));
    t_check(r == 0xa, "blt/bltu/bge/bgeu/beq/bne on 0x8000000000000000 vs 1: mask 0x%lx",
            (unsigned long)r);
  }

  /* ---- lui / auipc ---- */
  {
    uint64_t r;
    __asm__ volatile("lui %0, 0x80000" : "=r"(r));
    report("lui", 0x80000, 0, 0, r, 0xffffffff80000000ULL);
    __asm__ volatile("lui %0, 0x7ffff" : "=r"(r));
    report("lui", 0x7ffff, 0, 0, r, 0x7ffff000);
    uint64_t pc, lab;
    __asm__ volatile("1: auipc %0, 0\n lla %1, 1b" : "=r"(pc), "=r"(lab));
    t_check(pc == lab, "auipc 0 = address of the auipc");
    __asm__ volatile("1: auipc %0, 0x80000\n lla %1, 1b" : "=r"(pc), "=r"(lab));
    report("auipc", 0x80000, 0, 0, pc - lab, 0xffffffff80000000ULL); /* pc - 2 GiB */
    __asm__ volatile("1: auipc %0, 0x7ffff\n lla %1, 1b" : "=r"(pc), "=r"(lab));
    report("auipc", 0x7ffff, 0, 0, pc - lab, 0x7ffff000);
  }

  /* ---- loads: sign and zero extension ---- */
  LOAD("lb", 0, 0xffffffffffffff80ULL);
  LOAD("lbu", 0, 0x80);
  LOAD("lb", 2, 0x7f);
  LOAD("lh", 0, 0xffffffffffffff80ULL);
  LOAD("lhu", 0, 0xff80);
  LOAD("lh", 6, 0xffffffffffffbbaaULL);
  LOAD("lw", 4, 0xffffffffbbaa9988ULL);
  LOAD("lwu", 4, 0xbbaa9988);
  LOAD("ld", 0, 0xbbaa9988017fff80ULL);

  /* ---- x0 ignores writes ---- */
  {
    uint64_t r;
    __asm__ volatile(".option push\n.option norvc\n addi x0, x0, 5\n.option pop\n mv %0, x0"
                     : "=r"(r));
    t_check(r == 0, "write to x0 is discarded (x0 = %lu)", (unsigned long)r);
  }

  return t_finish("test-alu");
}
