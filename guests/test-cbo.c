/* test-cbo: Zicbom / Zicboz (cbo.inval, cbo.clean, cbo.flush, cbo.zero) with their
 * menvcfg enables. Prints `ok N - ...` per check and `test-cbo: PASS` (exit 0) or FAIL
 * (exit 1). QEMU 7.2 has neither extension, so this one runs on ferry only
 * (tests/system/test_cpu_extensions.py). */
#include "runtime.h"

#define ENVCFG_CBIE (3UL << 4)
#define ENVCFG_CBCFE (1UL << 6)
#define ENVCFG_CBZE (1UL << 7)

static inline void cbo_zero(void *p) { __asm__ volatile(".insn i 0x0f, 2, x0, %0, 4" ::"r"(p) : "memory"); }
static inline void cbo_clean(void *p) { __asm__ volatile(".insn i 0x0f, 2, x0, %0, 1" ::"r"(p) : "memory"); }
static inline void cbo_flush(void *p) { __asm__ volatile(".insn i 0x0f, 2, x0, %0, 2" ::"r"(p) : "memory"); }
static inline void cbo_inval(void *p) { __asm__ volatile(".insn i 0x0f, 2, x0, %0, 0" ::"r"(p) : "memory"); }

static uint8_t block[256] __attribute__((aligned(64)));

/* ---- S-mode code ---- */
static long s_cbo_zero(long arg) {
  cbo_zero(block + arg);
  return 0;
}

static long s_cbo_manage(long arg) {
  (void)arg;
  cbo_clean(block);
  cbo_flush(block);
  cbo_inval(block);
  return 0;
}

int main(void) {
  set_m_handler(record_and_skip_trap);
  /* Zicboz: cbo.zero clears the aligned 64-byte block holding the address. */
  memset(block, 0xa5, sizeof block);
  cbo_zero(block + 64 + 17);
  int zeroed = 1, kept = 1;
  for (int i = 0; i < 256; ++i) {
    if (i >= 64 && i < 128) zeroed &= block[i] == 0;
    else kept &= block[i] == 0xa5;
  }
  t_check(zeroed && kept, "cbo.zero in M clears exactly the block [64, 128)");

  memset(block, 0xa5, sizeof block);
  csr_clear(menvcfg, ENVCFG_CBZE);
  reset_recorded_trap();
  run_lower(PRV_S, s_cbo_zero, 128, 0);
  t_check((last_trap.count == 1 && last_trap.cause == CAUSE_ILLEGAL_INSN) && block[128] == 0xa5, "menvcfg.CBZE = 0: cbo.zero from S is illegal");
  csr_set(menvcfg, ENVCFG_CBZE);
  reset_recorded_trap();
  run_lower(PRV_S, s_cbo_zero, 128, 0);
  t_check(last_trap.count == 0 && block[128] == 0 && block[191] == 0 && block[192] == 0xa5,
          "menvcfg.CBZE = 1: cbo.zero from S clears its block");

  /* Zicbom: allowed in M; from S only as menvcfg allows. */
  cbo_clean(block);
  cbo_flush(block);
  cbo_inval(block);
  t_check(block[0] == 0xa5, "cbo.clean / flush / inval in M keep the data (memory is coherent)");
  csr_clear(menvcfg, ENVCFG_CBCFE | ENVCFG_CBIE);
  reset_recorded_trap();
  run_lower(PRV_S, s_cbo_manage, 0, 0);
  t_check((last_trap.count == 3 && last_trap.cause == CAUSE_ILLEGAL_INSN), "CBCFE = 0, CBIE = 0: all three are illegal from S (%d)", last_trap.count);
  csr_set(menvcfg, ENVCFG_CBCFE | ENVCFG_CBIE);
  reset_recorded_trap();
  run_lower(PRV_S, s_cbo_manage, 0, 0);
  t_check(last_trap.count == 0, "CBCFE = 1, CBIE = 11: all three run in S");
  csr_write(menvcfg, 0);

  return t_finish("test-cbo");
}
