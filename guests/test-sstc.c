/* test-sstc: Sstc (stimecmp, menvcfg.STCE, the access rules from S, a supervisor timer
 * interrupt without M's help). Prints `ok N - ...` per check and `test-sstc: PASS`
 * (exit 0) or FAIL (exit 1). Nothing printed depends on timing; compared with QEMU. */
#include "runtime.h"

#define INTR(n) (CAUSE_INTR | (n))
#define CSR_STIMECMP 0x14d
#define ENVCFG_STCE (1UL << 63)
#define TIMEOUT (TIMEBASE_HZ / 2)

static volatile int illegal_count, sti_count, other_count;
static volatile uintptr_t last_scause;

static uintptr_t m_handler(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)tval;
  (void)f;
  if (cause == CAUSE_ILLEGAL_INSN) {
    illegal_count++;
    return epc + 4;
  }
  other_count++;
  kprintf("unexpected M trap: cause 0x%lx tval 0x%lx\n", cause, tval);
  poweroff(2);
}

static uintptr_t s_handler(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)tval;
  (void)f;
  last_scause = cause;
  if (cause == INTR(5)) {
    sti_count++;
    csr_write(CSR_STIMECMP, ~0UL); /* Sstc: S clears its own timer */
    return epc;
  }
  other_count++;
  kprintf("unexpected S trap: cause 0x%lx\n", cause);
  poweroff(2);
}



/* ---- S-mode code ---- */
static long s_read_stimecmp(long arg) {
  (void)arg;
  return (long)csr_read(CSR_STIMECMP);
}

static long s_timer(long arg) {
  (void)arg;
  csr_set(sie, MIP_STIP);
  csr_write(CSR_STIMECMP, rdtime() + 2000);
  csr_set(sstatus, MSTATUS_SIE);
  uint64_t end = rdtime() + TIMEOUT;
  while (sti_count == 0 && rdtime() < end) {
  }
  csr_clear(sstatus, MSTATUS_SIE);
  csr_clear(sie, MIP_STIP);
  return sti_count;
}

int main(void) {
  set_m_handler(m_handler);
  set_s_handler(s_handler);
  install_s_trap_vector();

  /* Sstc, from M */
  csr_write(CSR_STIMECMP, 0x123456789aUL);
  t_check(csr_read(CSR_STIMECMP) == 0x123456789aUL, "stimecmp holds what M writes");
  csr_clear(menvcfg, ENVCFG_STCE);
  csr_write(CSR_STIMECMP, 0);
  csr_clear(mip, MIP_STIP);
  t_check(!(csr_read(mip) & MIP_STIP), "STCE = 0: stimecmp does not drive STIP");
  csr_set(menvcfg, ENVCFG_STCE);
  t_check((csr_read(menvcfg) & ENVCFG_STCE) != 0, "menvcfg.STCE is writable");
  csr_write(CSR_STIMECMP, 0);
  t_check((csr_read(mip) & MIP_STIP) != 0, "STCE = 1, stimecmp = 0 <= time: STIP is set");
  csr_write(CSR_STIMECMP, ~0UL);
  t_check(!(csr_read(mip) & MIP_STIP), "stimecmp = max clears STIP");
  csr_set(mip, MIP_STIP);
  t_check(!(csr_read(mip) & MIP_STIP), "STCE = 1: a write to mip.STIP is ignored");

  /* Sstc, from S: access needs STCE and mcounteren.TM */
  csr_write(mcounteren, 7);
  illegal_count = 0;
  csr_clear(menvcfg, ENVCFG_STCE);
  run_lower(PRV_S, s_read_stimecmp, 0, 0);
  t_check(illegal_count == 1, "STCE = 0: stimecmp from S is an illegal instruction");
  csr_set(menvcfg, ENVCFG_STCE);
  csr_write(mcounteren, 5);
  illegal_count = 0;
  run_lower(PRV_S, s_read_stimecmp, 0, 0);
  t_check(illegal_count == 1, "mcounteren.TM = 0: stimecmp from S is an illegal instruction");
  csr_write(mcounteren, 7);
  illegal_count = 0;
  long v = run_lower(PRV_S, s_read_stimecmp, 0, 0);
  t_check(illegal_count == 0 && (uint64_t)v == ~0UL, "STCE = 1, TM = 1: S reads stimecmp");

  /* A supervisor timer interrupt without M's help. */
  csr_write(mideleg, MIP_STIP);
  sti_count = 0;
  v = run_lower(PRV_S, s_timer, 0, 0);
  t_check(v == 1 && last_scause == INTR(5), "S sets stimecmp and takes its timer interrupt: scause 0x%lx",
          last_scause);
  csr_write(mideleg, 0);
  csr_clear(menvcfg, ENVCFG_STCE);


  t_check(other_count == 0, "no unexpected traps");
  return t_finish("test-sstc");
}
