/* test-compressed: the RV64C instruction forms, written with explicit c.* mnemonics so the
 * assembler must use the 16-bit encodings. Prints the value each check computed,
 * `ok N - ...` per check and `test-compressed: PASS` (exit 0) or FAIL (exit 1). */
#include "runtime.h"

#define CHECK(name, got, want)                                                             \
  do {                                                                                     \
    uint64_t __g = (uint64_t)(got), __w = (uint64_t)(want);                                \
    t_check(__g == __w, "%-34s = 0x%016lx", name, (unsigned long)__g);                     \
  } while (0)

static volatile uint64_t mem[40] __attribute__((aligned(8)));
static volatile uintptr_t brk_epc;
static volatile int brk_count;

static uintptr_t handler(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)tval;
  (void)f;
  if (cause != CAUSE_BREAKPOINT) {
    kprintf("unexpected trap: cause 0x%lx\n", cause);
    poweroff(2);
  }
  brk_epc = epc;
  brk_count++;
  return epc + insn_len(epc);
}

/* a 4-byte instruction that straddles a 4 KiB page boundary */
uint64_t straddle(uint64_t x);
__asm__(".pushsection .text.straddle, \"ax\", @progbits\n"
        ".balign 4096\n"
        ".option push\n.option norvc\n"
        "straddle_pad: .skip 4094\n"
        ".globl straddle\n"
        "straddle: addi a0, a0, 7\n"
        "ret\n"
        ".option pop\n"
        ".popsection\n");

int main(void) {
  uint64_t a, b, c;
  set_m_handler(handler);

  /* ---- constants ---- */
  __asm__ volatile("c.li %0, -32" : "=r"(a));
  CHECK("c.li -32", a, -32);
  __asm__ volatile("c.li %0, 31" : "=r"(a));
  CHECK("c.li 31", a, 31);
  __asm__ volatile("c.lui %0, 0x1f" : "=r"(a));
  CHECK("c.lui 0x1f", a, 0x1f000);
  __asm__ volatile("c.lui %0, 0xfffe0" : "=r"(a));
  CHECK("c.lui 0xfffe0 (sign-extended)", a, 0xfffffffffffe0000ULL);

  /* ---- immediate arithmetic ---- */
  a = 0;
  __asm__ volatile("c.addi %0, -1" : "+r"(a));
  CHECK("c.addi 0 + -1", a, -1);
  a = 100;
  __asm__ volatile("c.addi %0, 31" : "+r"(a));
  CHECK("c.addi 100 + 31", a, 131);
  a = 0x7fffffff;
  __asm__ volatile("c.addiw %0, 1" : "+r"(a));
  CHECK("c.addiw 0x7fffffff + 1", a, 0xffffffff80000000ULL);
  a = 0x1234567800000000ULL;
  __asm__ volatile("c.addiw %0, 0" : "+r"(a));
  CHECK("c.addiw x, 0 (sext.w)", a, 0);
  a = 1;
  __asm__ volatile("c.slli %0, 63" : "+r"(a));
  CHECK("c.slli 1 << 63", a, 0x8000000000000000ULL);
  b = a;
  __asm__ volatile("c.srli %0, 1" : "+r"(b) : "0"(b));
  CHECK("c.srli 0x8000000000000000 >> 1", b, 0x4000000000000000ULL);
  __asm__ volatile("c.srai %0, 4" : "+r"(a));
  CHECK("c.srai 0x8000000000000000 >> 4", a, 0xf800000000000000ULL);
  a = 0xffffffffffffffffULL;
  __asm__ volatile("c.srli %0, 63" : "+r"(a));
  CHECK("c.srli -1 >> 63", a, 1);
  a = 0x12345678abcdefffULL;
  __asm__ volatile("c.andi %0, -16" : "+r"(a));
  CHECK("c.andi x, -16", a, 0x12345678abcdeff0ULL);
  a = 0xff;
  __asm__ volatile("c.andi %0, 5" : "+r"(a));
  CHECK("c.andi 0xff, 5", a, 5);

  /* ---- register-register (x8-x15 only) ---- */
#define CA(op, x, y, want)                                                        \
  do {                                                                            \
    register uint64_t ra_ __asm__("a0") = (x);                                    \
    register uint64_t rb_ __asm__("a1") = (y);                                    \
    __asm__ volatile(op " a0, a1" : "+r"(ra_) : "r"(rb_));                        \
    CHECK(op " " #x ", " #y, ra_, want);                                          \
  } while (0)
  CA("c.sub", 5, 7, -2);
  CA("c.xor", 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0ULL);
  CA("c.or", 0xff00, 0x00ff, 0xffff);
  CA("c.and", 0xff00ff, 0x0ff0, 0xf0);
  CA("c.subw", 0x80000000, 1, 0x7fffffff);
  CA("c.subw", 0, 1, 0xffffffffffffffffULL);
  CA("c.addw", 0x7fffffff, 1, 0xffffffff80000000ULL);
  CA("c.addw", 0x100000005, 0x200000006, 11);
  a = 0;
  b = 0x1234;
  __asm__ volatile("c.mv %0, %1" : "=r"(a) : "r"(b));
  CHECK("c.mv", a, 0x1234);
  a = 0x1000;
  __asm__ volatile("c.add %0, %1" : "+r"(a) : "r"(b));
  CHECK("c.add 0x1000 + 0x1234", a, 0x2234);
  __asm__ volatile("c.nop");
  t_check(1, "c.nop");

  /* ---- loads/stores relative to a register ---- */
  mem[0] = 0x1122334480000000ULL;
  mem[15] = 0x8765432100000000ULL;
  mem[31] = 0x0123456789abcdefULL;
  {
    uint64_t x;
#define CLOAD(insn, out)                                                            \
  __asm__ volatile("mv a2, %1\n " insn "\n mv %0, a3" : "=r"(out) : "r"(mem) : "a2", "a3", "memory")
#define CSTORE(insn, val)                                                           \
  __asm__ volatile("mv a2, %0\n mv a3, %1\n " insn ::"r"(mem), "r"(val) : "a2", "a3", "memory")
    CLOAD("c.lw a3, 0(a2)", x);
    CHECK("c.lw 0x80000000 (sign-extended)", x, 0xffffffff80000000ULL);
    CLOAD("c.lw a3, 124(a2)", x);
    CHECK("c.lw offset 124", x, 0xffffffff87654321ULL);
    CLOAD("c.ld a3, 248(a2)", x);
    CHECK("c.ld offset 248", x, 0x0123456789abcdefULL);
    CSTORE("c.sd a3, 8(a2)", 0xdeadbeefcafef00dULL);
    CHECK("c.sd offset 8", mem[1], 0xdeadbeefcafef00dULL);
    mem[2] = 0;
    CSTORE("c.sw a3, 20(a2)", 0xdeadbeefcafef00dULL);
    CHECK("c.sw offset 20 (high half of word 2)", mem[2], 0xcafef00d00000000ULL);
  }

  /* ---- stack-pointer forms ---- */
  {
    uint64_t d16, d4, ld, lw;
    __asm__ volatile(
        "mv t0, sp\n"
        "c.addi16sp sp, -512\n"
        "sub %0, t0, sp\n"
        "c.addi4spn a4, sp, 8\n"
        "sub %1, a4, sp\n"
        "li t1, 0x0102030485868788\n"
        "c.sdsp t1, 504(sp)\n"
        "c.ldsp t2, 504(sp)\n"
        "mv %2, t2\n"
        "c.swsp t1, 16(sp)\n"
        "c.lwsp t2, 16(sp)\n"
        "mv %3, t2\n"
        "c.addi16sp sp, 496\n"
        "c.addi16sp sp, 16\n"
        : "=&r"(d16), "=&r"(d4), "=&r"(ld), "=&r"(lw)
        :
        : "t0", "t1", "t2", "a4", "memory");
    CHECK("c.addi16sp sp, -512 (sp delta)", d16, 512);
    CHECK("c.addi4spn a4, sp, 8 (a4 - sp)", d4, 8);
    CHECK("c.sdsp / c.ldsp offset 504", ld, 0x0102030485868788ULL);
    CHECK("c.swsp / c.lwsp (sign-extended)", lw, 0xffffffff85868788ULL);
  }

  /* ---- control flow ---- */
  __asm__ volatile("c.li %0, 1\n c.j 1f\n c.li %0, 2\n1:" : "=r"(a));
  CHECK("c.j forward skips", a, 1);
  /* branches: self-contained, a0/a1 set inside each asm */
#define CBR(code, out) \
  __asm__ volatile(code "\n mv %0, a1" : "=r"(out)::"a0", "a1")
  CBR("c.li a0, 10\n c.li a1, 0\n1: c.add a1, a0\n c.addi a0, -1\n c.bnez a0, 1b", a);
  CHECK("c.bnez loop: sum 10..1", a, 55);
  CBR("c.li a0, 0\n c.li a1, 3\n c.beqz a0, 1f\n c.li a1, 4\n1:", a);
  CHECK("c.beqz taken", a, 3);
  CBR("c.li a0, 1\n c.li a1, 3\n c.beqz a0, 1f\n c.li a1, 4\n1:", a);
  CHECK("c.beqz not taken", a, 4);
  CBR("c.li a0, -1\n c.li a1, 5\n c.bnez a0, 1f\n c.li a1, 6\n1:", a);
  CHECK("c.bnez taken", a, 5);
  CBR("c.li a0, 0\n c.li a1, 5\n c.bnez a0, 1f\n c.li a1, 6\n1:", a);
  CHECK("c.bnez not taken", a, 6);
  /* c.j backwards: jump forward to a block that jumps back */
  CBR("c.li a1, 0\n c.j 2f\n1: c.addi a1, 1\n c.j 3f\n2: c.addi a1, 2\n c.j 1b\n3:", a);
  CHECK("c.j backwards", a, 3);
  __asm__ volatile("lla t0, 1f\n c.li %0, 1\n c.jr t0\n c.li %0, 2\n1:" : "=&r"(a)::"t0");
  CHECK("c.jr", a, 1);
  __asm__ volatile(
      "lla %1, 1f\n"
      "lla t0, 2f\n"
      "1: c.jalr t0\n"
      "c.j 3f\n"
      "2: mv %0, ra\n"
      "c.jr ra\n"
      "3:"
      : "=&r"(a), "=&r"(b)
      :
      : "t0", "ra");
  CHECK("c.jalr: ra = address after it (+2)", a - b, 2);

  /* ---- mixed lengths ---- */
  a = 1;
  __asm__ volatile(".balign 4\n c.nop\n .option push\n .option norvc\n addi %0, %0, 5\n .option pop"
                   : "+r"(a));
  CHECK("32-bit insn at a 2 (mod 4) address", a, 6);
  c = straddle(35);
  CHECK("32-bit insn straddling a page boundary", c, 42);

  brk_count = 0;
  uintptr_t pc;
  __asm__ volatile("lla %0, 1f\n1: c.ebreak" : "=r"(pc)::"memory");
  t_check(brk_count == 1 && brk_epc == pc && insn_len(pc) == 2,
          "c.ebreak: breakpoint trap at its address, resumes 2 bytes later");

  return t_finish("test-compressed");
}
