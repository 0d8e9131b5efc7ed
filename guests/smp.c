/* smp: every hart works at once (built for NHARTS harts; run with -smp NHARTS).
 *
 * Hart 0 starts the others with an IPI; then each hart
 *   - adds 1 to a shared counter with amoadd.w, ITERS times;
 *   - takes a spinlock built on lr/sc around a plain read-modify-write of a shared
 *     64-bit counter, ITERS times;
 *   - fills a region of its own (REGION_KB) with xorshift data and folds it into a CRC,
 *     PASSES times, reading its neighbour's region after a barrier in between;
 * with a sense-reversing barrier (AMOs) between the phases. Hart 0 prints every hart's
 * result and the counters; the output is the same on any host and timing, so runs with
 * and without a migration, and on QEMU, compare byte for byte. */
#include "common/runtime.h"

#ifndef NHARTS
#define NHARTS 4
#endif
#ifndef ITERS
#define ITERS 200000
#endif
#ifndef REGION_KB
#define REGION_KB 2048
#endif
#ifndef PASSES
#define PASSES 40
#endif

extern void (*volatile secondary_entry)(uint64_t hartid);

static volatile uint32_t amo_counter;
static volatile uint64_t locked_counter;
static volatile uint32_t lock;
static volatile uint32_t barrier_count;
static volatile uint32_t barrier_sense;
static volatile uint64_t results[NHARTS];
static volatile uint32_t started;

static uint64_t *region(unsigned hart) {
  return (uint64_t *)(free_mem_start() + (uint64_t)hart * REGION_KB * 1024);
}

static void spin_lock(void) {
  uint32_t tmp;
  __asm__ volatile(
      "1: lr.w.aq %0, (%1)\n"
      "   bnez %0, 1b\n"
      "   li %0, 1\n"
      "   sc.w.rl %0, %0, (%1)\n"
      "   bnez %0, 1b\n"
      : "=&r"(tmp)
      : "r"(&lock)
      : "memory");
}

static void spin_unlock(void) { __asm__ volatile("amoswap.w.rl zero, zero, (%0)" ::"r"(&lock) : "memory"); }

static void barrier(uint32_t *local_sense) {
  *local_sense = !*local_sense;
  uint32_t arrived;
  __asm__ volatile("amoadd.w.aqrl %0, %1, (%2)" : "=r"(arrived) : "r"(1), "r"(&barrier_count) : "memory");
  if (arrived == NHARTS - 1) {
    barrier_count = 0;
    fence();
    barrier_sense = *local_sense;
  } else {
    while (barrier_sense != *local_sense) {
    }
  }
  fence();
}

static uint32_t fold64(uint32_t crc, uint64_t v) {
  for (int i = 0; i < 64; ++i) {
    uint32_t bit = (crc ^ (uint32_t)(v >> i)) & 1;
    crc = (crc >> 1) ^ (bit ? 0xedb88320u : 0);
  }
  return crc;
}

static void work(uint64_t hart) {
  uint32_t sense = 0;
  __asm__ volatile("amoadd.w zero, %0, (%1)" ::"r"(1), "r"(&started) : "memory");
  barrier(&sense);
  for (int i = 0; i < ITERS; ++i)
    __asm__ volatile("amoadd.w zero, %0, (%1)" ::"r"(1), "r"(&amo_counter) : "memory");
  for (int i = 0; i < ITERS / 4; ++i) {
    spin_lock();
    locked_counter = locked_counter + 1;
    spin_unlock();
  }
  barrier(&sense);
  uint64_t *mine = region(hart);
  const size_t words = REGION_KB * 1024 / 8;
  uint64_t x = 0x9e3779b97f4a7c15ull * (hart + 1);
  uint32_t crc = 0xffffffffu;
  for (int pass = 0; pass < PASSES; ++pass) {
    for (size_t i = 0; i < words; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      mine[i] += x;
    }
    barrier(&sense);
    /* Read the neighbour's region: data written by another hart. */
    const uint64_t *theirs = region((hart + 1) % NHARTS);
    for (size_t i = 0; i < words; i += 61) crc = fold64(crc, theirs[i]);
    barrier(&sense);
    if (hart == 0) kprintf("pass %d/%d\n", pass + 1, PASSES);
  }
  results[hart] = crc ^ 0xffffffffu;
  barrier(&sense);
}

static void secondary(uint64_t hart) {
  if (hart < NHARTS) work(hart);
  for (;;) wfi();
}

int main(uint64_t hartid, uintptr_t dtb) {
  (void)dtb;
  kprintf("smp: %d harts, %d iterations, %d KiB each, %d passes\n", NHARTS, ITERS, REGION_KB,
          PASSES);
  secondary_entry = secondary;
  fence();
  for (unsigned h = 1; h < NHARTS; ++h) mmio_write32(0x2000000 + 4 * h, 1);
  work(hartid);
  int failed = 0;
  for (unsigned h = 0; h < NHARTS; ++h) kprintf("hart %u: crc %08lx\n", h, (unsigned long)results[h]);
  kprintf("started %u, amo counter %u, locked counter %lu\n", started, amo_counter,
          (unsigned long)locked_counter);
  if (started != NHARTS || amo_counter != (uint32_t)NHARTS * ITERS ||
      locked_counter != (uint64_t)NHARTS * (ITERS / 4))
    failed = 1;
  kprintf("smp: %s\n", failed ? "FAIL" : "PASS");
  return failed;
}
