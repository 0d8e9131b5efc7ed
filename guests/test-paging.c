/* test-paging: Sv39 translation built by the guest and exercised from S- and U-mode.
 *
 * Address space (satp = Sv39, root below):
 *   0x0000_0000 +1 GiB  gigapage -> PA 0           R W     (devices: UART, test device)
 *   0x8000_0000 +1 GiB  gigapage -> PA 0x8000_0000 R W X   (the image, identity)
 *   0xC000_0000 +1 GiB  gigapage -> PA 0x8000_0000 R W X U (alias used to run U-mode code)
 *   0x1_0000_0000       4 KiB test pages (table below), a misaligned and a valid megapage
 * Prints `ok N - ...` per check and `test-paging: PASS` (exit 0) or FAIL (exit 1). */
#include "runtime.h"

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)

#define SATP_SV39 (8UL << 60)
#define U_ALIAS_OFFSET 0x40000000UL

#define TEST_VA 0x100000000UL
#define VA(i) (TEST_VA + (i) * PAGE_SIZE)
enum {
  PG_RW_NOAD = 0, /* -> page 0, R W, A = D = 0 */
  PG_UNMAPPED = 1,
  PG_USER = 2,     /* -> page 1, R W X U */
  PG_XONLY = 3,    /* -> page 2, X */
  PG_RONLY = 4,    /* -> page 3, R */
  PG_REMAP = 5,    /* -> page 0, later page 4 */
  PG_NOEXEC = 6,   /* -> page 4, R W */
  PG_WNOR = 7,     /* -> page 5, W without R (reserved) */
};
#define MEGA_BAD_VA (TEST_VA + (1UL << 21))  /* megapage leaf with a misaligned PPN */
#define MEGA_GOOD_VA (TEST_VA + (2UL << 21)) /* valid megapage */

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[512] __attribute__((aligned(4096)));
static uint8_t pages[6][4096] __attribute__((aligned(4096)));
static volatile uint64_t identity_word = 0x1dea5eed;

static uint64_t pte(uintptr_t pa, uint64_t flags) { return ((pa >> 12) << 10) | flags; }
static uintptr_t pg(int i) { return (uintptr_t)pages[i]; }

/* ---------- code run in S-mode ---------- */
static long s_load(long va) {
  probe_arm();
  return (long)probe_ld((uintptr_t)va);
}
static long s_store(long va) {
  probe_arm();
  probe_sd((uintptr_t)va, 0x5700000000000000UL | (uintptr_t)va);
  return 0;
}
static long s_exec(long va) {
  probe_arm();
  return (long)probe_exec((uintptr_t)va);
}
static long s_load_sum(long va) {
  csr_set(sstatus, MSTATUS_SUM);
  long v = s_load(va);
  csr_clear(sstatus, MSTATUS_SUM);
  return v;
}
static long s_exec_sum(long va) {
  csr_set(sstatus, MSTATUS_SUM);
  long v = s_exec(va);
  csr_clear(sstatus, MSTATUS_SUM);
  return v;
}
static long s_load_mxr(long va) {
  csr_set(sstatus, MSTATUS_MXR);
  long v = s_load(va);
  csr_clear(sstatus, MSTATUS_MXR);
  return v;
}
static long s_read_identity(long arg) {
  (void)arg;
  return (long)identity_word;
}
/* read VA(PG_REMAP), switch its PTE to page 4, sfence.vma (global), read again;
 * then back to page 0 with an address-specific sfence.vma, read a third time */
static volatile uint64_t remap_vals[3];
static long s_remap(long arg) {
  (void)arg;
  volatile uint64_t *p = (volatile uint64_t *)VA(PG_REMAP);
  remap_vals[0] = *p;
  l0[PG_REMAP] = pte(pg(4), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  __asm__ volatile("sfence.vma" ::: "memory");
  remap_vals[1] = *p;
  l0[PG_REMAP] = pte(pg(0), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  __asm__ volatile("sfence.vma %0, zero" ::"r"(p) : "memory");
  remap_vals[2] = *p;
  return 0;
}
/* load page fault delegated to S: returns scause, leaves stval in s_stval */
static volatile uint64_t s_stval;
static long s_delegated_fault(long va) {
  csr_write(scause, 0);
  csr_write(stval, 0);
  probe_arm();
  probe_ld((uintptr_t)va);
  s_stval = csr_read(stval);
  return (long)csr_read(scause);
}

/* ---------- code run in U-mode (through the U alias) ---------- */
static long u_load(long va) {
  probe_arm();
  return (long)probe_ld((uintptr_t)va);
}
static long u_exec(long va) {
  probe_arm();
  return (long)probe_exec((uintptr_t)va);
}
static long run_u(lower_fn_t fn, long arg) { return run_lower(PRV_U, fn, arg, U_ALIAS_OFFSET); }
static long run_s(lower_fn_t fn, long arg) { return run_lower(PRV_S, fn, arg, 0); }

static int faulted(int64_t cause, uint64_t va) {
  return probe_cause == cause && probe_tval == va;
}

int main(void) {
  uint64_t *pv;
  long r;

  /* ---- page tables ---- */
  root[0] = pte(0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  root[2] = pte(0x80000000UL, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
  root[3] = pte(0x80000000UL, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  root[4] = pte((uintptr_t)l1, PTE_V);
  l1[0] = pte((uintptr_t)l0, PTE_V);
  uintptr_t mega_pa = (free_mem_start() + (1UL << 21) - 1) & ~((1UL << 21) - 1);
  l1[1] = pte(mega_pa + PAGE_SIZE, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D); /* misaligned */
  l1[2] = pte(mega_pa, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  l0[PG_RW_NOAD] = pte(pg(0), PTE_V | PTE_R | PTE_W);
  l0[PG_USER] = pte(pg(1), PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  l0[PG_XONLY] = pte(pg(2), PTE_V | PTE_X | PTE_A);
  l0[PG_RONLY] = pte(pg(3), PTE_V | PTE_R | PTE_A);
  l0[PG_REMAP] = pte(pg(0), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  l0[PG_NOEXEC] = pte(pg(4), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  l0[PG_WNOR] = pte(pg(5), PTE_V | PTE_W | PTE_A | PTE_D);

  /* page contents */
  for (int i = 0; i < 6; i++) ((volatile uint64_t *)pages[i])[0] = 0x1000 + i;
  ((volatile uint64_t *)pages[3])[1] = 0xcafe;
  ((volatile uint32_t *)pages[2])[0] = 0x02a00513; /* li a0, 42 */
  ((volatile uint32_t *)pages[2])[1] = 0x00008067; /* ret */
  ((volatile uint32_t *)pages[1])[2] = 0x02b00513; /* li a0, 43 (at offset 8) */
  ((volatile uint32_t *)pages[1])[3] = 0x00008067; /* ret */
  ((volatile uint32_t *)pages[4])[2] = 0x00008067; /* ret (at offset 8) */
  fence_i();

  uint64_t satp = SATP_SV39 | ((uintptr_t)root >> 12);
  csr_write(satp, satp);
  sfence_vma();
  t_check(csr_read(satp) == satp, "satp accepts Sv39 mode (8) with the root table's PPN");

  r = run_s(s_read_identity, 0);
  t_check(r == 0x1dea5eed, "S-mode runs through the identity gigapage (read 0x%lx)", r);

  /* ---- A/D bits set by hardware ---- */
  pv = &l0[PG_RW_NOAD];
  r = run_s(s_load, (long)VA(PG_RW_NOAD));
  t_check(probe_cause == -1 && r == 0x1000, "load through a 4 KiB mapping with A = 0 succeeds");
  t_check((*pv & PTE_A) && !(*pv & PTE_D), "after the load: PTE.A = 1, PTE.D = 0");
  run_s(s_store, (long)VA(PG_RW_NOAD));
  t_check(probe_cause == -1 && (*pv & PTE_A) && (*pv & PTE_D), "after a store: PTE.D = 1");
  *pv &= ~(PTE_A | PTE_D);
  sfence_vma();
  run_s(s_store, (long)VA(PG_RW_NOAD));
  t_check(probe_cause == -1 && (*pv & PTE_A) && (*pv & PTE_D),
          "a store to a page with A = D = 0 sets both");

  /* ---- two views of one physical page ---- */
  run_s(s_store, (long)VA(PG_RW_NOAD) + 16);
  t_check(((volatile uint64_t *)pages[0])[2] == (0x5700000000000000UL | (VA(PG_RW_NOAD) + 16)),
          "S store through the VA is visible at the PA");
  ((volatile uint64_t *)pages[0])[3] = 0x2222;
  r = run_s(s_load, (long)VA(PG_RW_NOAD) + 24);
  t_check(r == 0x2222, "M store at the PA is visible through the VA");

  /* ---- page faults ---- */
  run_s(s_load, (long)VA(PG_UNMAPPED) + 8);
  t_check(faulted(CAUSE_LOAD_PAGE_FAULT, VA(PG_UNMAPPED) + 8),
          "S load from an unmapped VA: cause %ld, tval = VA", (long)probe_cause);
  run_s(s_store, (long)VA(PG_UNMAPPED) + 16);
  t_check(faulted(CAUSE_STORE_PAGE_FAULT, VA(PG_UNMAPPED) + 16),
          "S store to an unmapped VA: cause %ld, tval = VA", (long)probe_cause);
  run_s(s_exec, (long)VA(PG_UNMAPPED));
  t_check(faulted(CAUSE_FETCH_PAGE_FAULT, VA(PG_UNMAPPED)),
          "S fetch from an unmapped VA: cause %ld, tval = VA", (long)probe_cause);
  run_s(s_load, 0x4000000000L);
  t_check(faulted(CAUSE_LOAD_PAGE_FAULT, 0x4000000000UL),
          "S load from a non-canonical VA (bit 38 set, upper bits clear): cause %ld",
          (long)probe_cause);

  r = run_s(s_load, (long)VA(PG_RONLY) + 8);
  t_check(probe_cause == -1 && r == 0xcafe, "load from a read-only page");
  run_s(s_store, (long)VA(PG_RONLY));
  t_check(faulted(CAUSE_STORE_PAGE_FAULT, VA(PG_RONLY)), "store to a read-only page: cause %ld",
          (long)probe_cause);

  run_s(s_load, (long)VA(PG_WNOR));
  t_check(faulted(CAUSE_LOAD_PAGE_FAULT, VA(PG_WNOR)),
          "load from a W-without-R PTE (reserved): cause %ld", (long)probe_cause);
  run_s(s_store, (long)VA(PG_WNOR));
  t_check(faulted(CAUSE_STORE_PAGE_FAULT, VA(PG_WNOR)),
          "store to a W-without-R PTE (reserved): cause %ld", (long)probe_cause);

  run_s(s_load, (long)MEGA_BAD_VA + 8);
  t_check(faulted(CAUSE_LOAD_PAGE_FAULT, MEGA_BAD_VA + 8),
          "megapage with a misaligned PPN: load page fault (cause %ld)", (long)probe_cause);
  run_s(s_store, (long)MEGA_GOOD_VA + 0x1234 * 8);
  t_check(probe_cause == -1 && *(volatile uint64_t *)(mega_pa + 0x1234 * 8) ==
                                   (0x5700000000000000UL | (MEGA_GOOD_VA + 0x1234 * 8)),
          "store through a 2 MiB megapage lands at PA base + offset");

  /* ---- execute permission ---- */
  r = run_s(s_exec, (long)VA(PG_XONLY));
  t_check(probe_cause == -1 && r == 42, "S fetch from an execute-only page runs (a0 = %ld)", r);
  run_s(s_exec, (long)VA(PG_NOEXEC) + 8);
  t_check(faulted(CAUSE_FETCH_PAGE_FAULT, VA(PG_NOEXEC) + 8),
          "S fetch from a page without X: cause %ld, tval = VA", (long)probe_cause);

  /* ---- MXR ---- */
  run_s(s_load, (long)VA(PG_XONLY));
  t_check(faulted(CAUSE_LOAD_PAGE_FAULT, VA(PG_XONLY)),
          "load from an execute-only page with MXR = 0: cause %ld", (long)probe_cause);
  r = run_s(s_load_mxr, (long)VA(PG_XONLY));
  t_check(probe_cause == -1 && r == 0x0000806702a00513L,
          "load from an execute-only page with MXR = 1 reads the code (0x%lx)", r);

  /* ---- SUM and the U bit ---- */
  run_s(s_load, (long)VA(PG_USER));
  t_check(faulted(CAUSE_LOAD_PAGE_FAULT, VA(PG_USER)),
          "S load from a U page with SUM = 0: cause %ld", (long)probe_cause);
  r = run_s(s_load_sum, (long)VA(PG_USER));
  t_check(probe_cause == -1 && r == 0x1001, "S load from a U page with SUM = 1");
  run_s(s_exec_sum, (long)VA(PG_USER) + 8);
  t_check(faulted(CAUSE_FETCH_PAGE_FAULT, VA(PG_USER) + 8),
          "S fetch from a U page faults even with SUM = 1: cause %ld", (long)probe_cause);

  r = run_u(u_load, (long)VA(PG_USER));
  t_check(probe_cause == -1 && r == 0x1001, "U load from a U page");
  r = run_u(u_exec, (long)VA(PG_USER) + 8);
  t_check(probe_cause == -1 && r == 43, "U fetch from a U page runs (a0 = %ld)", r);
  run_u(u_load, (long)VA(PG_RONLY));
  t_check(faulted(CAUSE_LOAD_PAGE_FAULT, VA(PG_RONLY)),
          "U load from a page without U: cause %ld, tval = VA", (long)probe_cause);
  run_u(u_exec, (long)(uintptr_t)s_read_identity);
  t_check(faulted(CAUSE_FETCH_PAGE_FAULT, (uintptr_t)s_read_identity),
          "U fetch from a page without U: cause %ld", (long)probe_cause);

  /* ---- sfence.vma after changing a mapping ---- */
  ((volatile uint64_t *)pages[0])[0] = 0x1000;
  run_s(s_remap, 0);
  t_check(remap_vals[0] == 0x1000 && remap_vals[1] == 0x1004 && remap_vals[2] == 0x1000,
          "remapped PTE seen after sfence.vma (global: 0x%lx -> 0x%lx, by address: -> 0x%lx)",
          (unsigned long)remap_vals[0], (unsigned long)remap_vals[1],
          (unsigned long)remap_vals[2]);

  /* ---- M-mode access with MPRV = 1 translates like S ---- */
  csr_clear(mstatus, MSTATUS_MPP);
  csr_set(mstatus, (uintptr_t)PRV_S << MSTATUS_MPP_SHIFT);
  uint64_t v;
  __asm__ volatile("csrs mstatus, %1\n ld %0, 0(%2)\n csrc mstatus, %1"
                   : "=&r"(v)
                   : "r"(MSTATUS_MPRV), "r"(VA(PG_RONLY) + 8)
                   : "memory");
  t_check(v == 0xcafe, "M-mode load with MPRV = 1, MPP = S goes through the page table");

  /* ---- a page fault delegated to S ---- */
  csr_write(medeleg, 1UL << CAUSE_LOAD_PAGE_FAULT);
  install_s_trap_vector();
  r = run_s(s_delegated_fault, (long)VA(PG_UNMAPPED) + 40);
  csr_write(medeleg, 0);
  t_check(r == CAUSE_LOAD_PAGE_FAULT && s_stval == VA(PG_UNMAPPED) + 40 &&
              faulted(CAUSE_LOAD_PAGE_FAULT, VA(PG_UNMAPPED) + 40),
          "load page fault delegated to S: scause = %ld, stval = VA", r);

  csr_write(satp, 0);
  sfence_vma();
  return t_finish("test-paging");
}
