/* test-timer: CLINT timer and software interrupts, wfi, vectored mtvec, delegation of
 * supervisor timer/software interrupts. Prints `ok N - ...` per check and
 * `test-timer: PASS` (exit 0) or FAIL (exit 1). Nothing printed depends on timing. */
#include "runtime.h"

#define INTR(n) (CAUSE_INTR | (n))
#define PERIOD 2000                      /* 200 us at 10 MHz */
#define TIMEOUT (TIMEBASE_HZ / 2)        /* give up waiting after 0.5 s */
#define ECALL_CLEAR_STIP 0x5354          /* S -> M service: clear mip.STIP */

static volatile int mti_count, mti_target, msi_count, sti_count, ssi_count, other_count;
static volatile uintptr_t last_mcause, last_scause, mti_mpp, mti_epc;
static volatile uintptr_t order[4];
static volatile int order_n;

static uintptr_t m_handler(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)tval;
  last_mcause = cause;
  if (order_n < 4) order[order_n++] = cause;
  if (cause == INTR(7)) {
    mti_count++;
    mti_mpp = (csr_read(mstatus) >> MSTATUS_MPP_SHIFT) & 3;
    mti_epc = epc;
    if (mti_count < mti_target)
      set_mtimecmp(read_mtime() + PERIOD);
    else
      set_mtimecmp(~0ULL);
    return epc;
  }
  if (cause == INTR(3)) {
    msi_count++;
    mmio_write32(CLINT_MSIP, 0);
    return epc;
  }
  if (cause == CAUSE_SUPERVISOR_ECALL && f->x[REG_A7] == ECALL_CLEAR_STIP) {
    csr_clear(mip, MIP_STIP);
    return epc + 4;
  }
  if (cause == CAUSE_MACHINE_ECALL) return epc + 4;
  other_count++;
  kprintf("unexpected M trap: cause 0x%lx\n", cause);
  poweroff(2);
}

static uintptr_t s_handler(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)tval;
  (void)f;
  last_scause = cause;
  if (cause == INTR(5)) {
    sti_count++;
    csr_clear(sie, MIP_STIP); /* S cannot clear STIP itself: mask it */
    return epc;
  }
  if (cause == INTR(1)) {
    ssi_count++;
    csr_clear(sip, MIP_SSIP);
    return epc;
  }
  other_count++;
  kprintf("unexpected S trap: cause 0x%lx\n", cause);
  poweroff(2);
}

static int wait_until(volatile int *counter, int target) {
  uint64_t end = rdtime() + TIMEOUT;
  while (*counter < target && rdtime() < end) wfi();
  return *counter >= target;
}

/* ---- S-mode code ---- */
static long s_wait_sti(long arg) {
  (void)arg;
  long seen = (csr_read(sip) & MIP_STIP) != 0;
  csr_set(sie, MIP_STIP);
  csr_set(sstatus, MSTATUS_SIE);
  uint64_t end = rdtime() + TIMEOUT;
  while (sti_count == 0 && rdtime() < end) {
  }
  csr_clear(sstatus, MSTATUS_SIE);
  /* ask M to clear STIP (as an SBI set_timer would) */
  register long a7 __asm__("a7") = ECALL_CLEAR_STIP;
  __asm__ volatile(".option push\n.option norvc\necall\n.option pop" ::"r"(a7) : "memory");
  return seen | ((long)((csr_read(sip) & MIP_STIP) == 0) << 1);
}

static long s_ssi(long arg) {
  (void)arg;
  csr_set(sie, MIP_SSIP);
  csr_set(sip, MIP_SSIP);
  long pending = (csr_read(sip) & MIP_SSIP) != 0;
  csr_set(sstatus, MSTATUS_SIE);
  uint64_t end = rdtime() + TIMEOUT;
  while (ssi_count == 0 && rdtime() < end) {
  }
  csr_clear(sstatus, MSTATUS_SIE);
  csr_clear(sie, MIP_SSIP);
  return pending;
}

static long s_spin_for_mti(long arg) {
  (void)arg;
  csr_clear(sstatus, MSTATUS_SIE);
  uint64_t end = rdtime() + TIMEOUT;
  while (mti_count == 0 && rdtime() < end) {
  }
  return mti_count;
}

int main(void) {
  set_m_handler(m_handler);
  set_s_handler(s_handler);
  install_s_trap_vector();

  /* 1-3: MTIP follows mtime >= mtimecmp, with interrupts disabled */
  t_check(csr_read(mip) & MIP_MTIP, "mip.MTIP is set at reset (mtimecmp = 0 <= mtime)");
  set_mtimecmp(~0ULL);
  t_check(!(csr_read(mip) & MIP_MTIP), "mtimecmp = max clears mip.MTIP");
  set_mtimecmp(read_mtime() + PERIOD);
  uint64_t end = rdtime() + TIMEOUT;
  while (!(csr_read(mip) & MIP_MTIP) && rdtime() < end) {
  }
  t_check((csr_read(mip) & MIP_MTIP) && mti_count == 0,
          "mip.MTIP rises when mtime reaches mtimecmp (MTIE = 0: no interrupt)");
  set_mtimecmp(~0ULL);

  /* 4: mtime and the time CSR agree */
  uint64_t a = read_mtime(), b = rdtime(), c = read_mtime();
  t_check(a <= b && b <= c && c > 0, "mtime (MMIO) <= time CSR <= mtime (MMIO)");

  /* 5-7: machine timer interrupts */
  mti_count = 0;
  mti_target = 5;
  order_n = 4;
  set_mtimecmp(read_mtime() + PERIOD);
  csr_set(mie, MIP_MTIP);
  csr_set(mstatus, MSTATUS_MIE);
  int ok = wait_until(&mti_count, 5);
  csr_clear(mstatus, MSTATUS_MIE);
  delay_us(2 * PERIOD / 10);
  t_check(ok && mti_count == 5, "5 timer interrupts taken with wfi between them (count %d)",
          mti_count);
  t_check(last_mcause == INTR(7), "timer interrupt: mcause = 0x%lx", last_mcause);
  t_check(!(csr_read(mip) & MIP_MTIP), "after the last interrupt mtimecmp = max: no MTIP");

  /* 8: wfi wakes up on a pending enabled interrupt even with mstatus.MIE = 0 */
  mti_count = 0;
  mti_target = 1;
  set_mtimecmp(read_mtime() + PERIOD);
  end = rdtime() + TIMEOUT;
  while (!(csr_read(mip) & MIP_MTIP) && rdtime() < end) wfi();
  t_check((csr_read(mip) & MIP_MTIP) && mti_count == 0,
          "wfi with MIE = 0 returns when MTIP is pending; no trap taken");
  /* 9: ... and the interrupt is taken as soon as MIE is set */
  csr_set(mstatus, MSTATUS_MIE);
  __asm__ volatile("nop");
  csr_clear(mstatus, MSTATUS_MIE);
  t_check(mti_count == 1, "pending timer interrupt taken when mstatus.MIE is set");
  csr_clear(mie, MIP_MTIP);

  /* 10-12: machine software interrupt through msip */
  msi_count = 0;
  mmio_write32(CLINT_MSIP, 1);
  t_check((csr_read(mip) & MIP_MSIP) && mmio_read32(CLINT_MSIP) == 1,
          "msip = 1 sets mip.MSIP (interrupts disabled)");
  csr_set(mie, MIP_MSIP);
  csr_set(mstatus, MSTATUS_MIE);
  ok = wait_until(&msi_count, 1);
  csr_clear(mstatus, MSTATUS_MIE);
  t_check(ok && msi_count == 1 && last_mcause == INTR(3),
          "software interrupt: mcause = 0x%lx", last_mcause);
  t_check(!(csr_read(mip) & MIP_MSIP) && mmio_read32(CLINT_MSIP) == 0,
          "writing msip = 0 clears mip.MSIP");

  /* 13: priority: MSI is taken before MTI when both are pending */
  order_n = 0;
  mti_count = 0;
  mti_target = 1;
  mmio_write32(CLINT_MSIP, 1);
  set_mtimecmp(0);
  csr_set(mie, MIP_MSIP | MIP_MTIP);
  csr_set(mstatus, MSTATUS_MIE);
  wait_until(&mti_count, 1);
  csr_clear(mstatus, MSTATUS_MIE);
  csr_clear(mie, MIP_MSIP | MIP_MTIP);
  t_check(order_n == 2 && order[0] == INTR(3) && order[1] == INTR(7),
          "MSI and MTI both pending: MSI (3) is taken first, then MTI (7)");

  /* 14-15: vectored mtvec */
  order_n = 4;
  vector_hit = ~0UL;
  csr_write(mtvec, (uintptr_t)m_trap_vector_table | 1);
  t_check(csr_read(mtvec) == ((uintptr_t)m_trap_vector_table | 1), "mtvec accepts MODE = 1 (vectored)");
  mti_count = 0;
  mti_target = 1;
  set_mtimecmp(read_mtime() + PERIOD);
  csr_set(mie, MIP_MTIP);
  csr_set(mstatus, MSTATUS_MIE);
  ok = wait_until(&mti_count, 1);
  csr_clear(mstatus, MSTATUS_MIE);
  csr_clear(mie, MIP_MTIP);
  uint64_t timer_vec = vector_hit;
  __asm__ volatile(".option push\n.option norvc\necall\n.option pop" ::: "memory");
  uint64_t ecall_vec = vector_hit;
  install_m_trap_vector();
  t_check(ok && timer_vec == 7 && ecall_vec == 0,
          "vectored mode: timer interrupt at base + 4*7 (%ld), ecall at base (%ld)",
          (long)timer_vec, (long)ecall_vec);

  /* 16: M timer interrupt preempts S-mode even though mstatus.MIE = 0 */
  mti_count = 0;
  mti_target = 1;
  set_mtimecmp(read_mtime() + PERIOD);
  csr_set(mie, MIP_MTIP);
  long r = run_lower(PRV_S, s_spin_for_mti, 0, 0);
  csr_clear(mie, MIP_MTIP);
  t_check(r == 1 && mti_mpp == PRV_S,
          "M timer interrupt taken in S-mode with mstatus.MIE = 0 (MPP = %lu)",
          (unsigned long)mti_mpp);

  /* 17-19: supervisor timer interrupt delegated through mideleg, raised by M via mip.STIP */
  csr_write(mideleg, MIP_STIP | MIP_SSIP);
  t_check((csr_read(mideleg) & (MIP_STIP | MIP_SSIP)) == (MIP_STIP | MIP_SSIP),
          "mideleg accepts STI and SSI");
  sti_count = 0;
  last_scause = 0;
  last_mcause = 0;
  csr_set(mip, MIP_STIP);
  r = run_lower(PRV_S, s_wait_sti, 0, 0);
  t_check(sti_count == 1 && last_scause == INTR(5) && last_mcause == CAUSE_SUPERVISOR_ECALL,
          "delegated supervisor timer interrupt handled in S: scause = 0x%lx", last_scause);
  t_check(r == 3, "sip.STIP visible in S, cleared by M through an ecall");

  /* 20: supervisor software interrupt raised by S itself */
  ssi_count = 0;
  r = run_lower(PRV_S, s_ssi, 0, 0);
  t_check(r == 1 && ssi_count == 1 && last_scause == INTR(1),
          "S-mode write to sip.SSIP raises a delegated software interrupt: scause = 0x%lx",
          last_scause);
  csr_write(mideleg, 0);

  t_check(other_count == 0, "no unexpected traps");
  return t_finish("test-timer");
}
