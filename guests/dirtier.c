/* dirtier: dirties a working set of RAM at a steady, mtime-paced rate (for live migration).
 *
 * Each 4 KiB page of the working set holds a counter in its first word and a tag
 * (page index ^ TAG_MAGIC) in its second. Pages are touched in a rotating order (one
 * counter increment per touch), PAGES_PER_SEC per second of guest time. When the run ends
 * every page is checked against the counter value it must hold, so a page lost or made
 * stale by a migration is detected: `NAME: PASS` or `NAME: FAIL page N ...`.
 *
 * Build-time parameters (all -D...):
 *   NAME           program name used in the output (default "dirtier")
 *   WS_MB          working set in MiB (default 64), starting at the first free MiB after the image
 *   PAGES_PER_SEC  pages touched per second (0 = as fast as possible)
 *   LAPS           stop after this many full laps over the working set (0 = no limit)
 *   DURATION_MS    stop after this much guest time (0 = no limit)
 *   HEARTBEAT_US   print `hb N` every HEARTBEAT_US microseconds (0 = off); N is the number
 *                  of whole periods since the start, so a jump in N shows missed beats
 *   LAP_LINES      print `lap N` when a lap completes (default 1)
 * With LAPS and DURATION_MS both 0 the program runs until powered off externally, or until
 * it reads 'q' on the serial console: then it verifies the pages and powers off.
 * Stopping by LAPS (and HEARTBEAT_US = 0) gives output that does not depend on timing. */
#include "runtime.h"

#ifndef NAME
#define NAME "dirtier"
#endif
#ifndef WS_MB
#define WS_MB 64
#endif
#ifndef PAGES_PER_SEC
#define PAGES_PER_SEC 0
#endif
#ifndef LAPS
#define LAPS 0
#endif
#ifndef DURATION_MS
#define DURATION_MS 0
#endif
#ifndef HEARTBEAT_US
#define HEARTBEAT_US 0
#endif
#ifndef LAP_LINES
#define LAP_LINES 1
#endif

#define TAG_MAGIC 0x5a17c0de00000000ULL
#define BATCH 64 /* pages touched between two looks at the clock */

static inline volatile uint64_t *page_ptr(uintptr_t base, uint64_t k) {
  return (volatile uint64_t *)(base + k * PAGE_SIZE);
}

int main(void) {
  const uint64_t npages = (uint64_t)WS_MB * (1024 * 1024 / PAGE_SIZE);
  const uintptr_t base = free_mem_start();
  const uint64_t bytes = (uint64_t)WS_MB << 20;

  kprintf("%s: working set %u MiB (%lu pages), %u pages/s, laps %u, duration %u ms\n", NAME,
          (unsigned)WS_MB, (unsigned long)npages, (unsigned)PAGES_PER_SEC, (unsigned)LAPS,
          (unsigned)DURATION_MS);
  if (boot_dtb > base && base + bytes > boot_dtb) {
    kprintf("%s: not enough RAM for a %u MiB working set (give the VM more memory)\n", NAME,
            (unsigned)WS_MB);
    return 3;
  }

  for (uint64_t k = 0; k < npages; k++) {
    volatile uint64_t *p = page_ptr(base, k);
    p[0] = 0;
    p[1] = k ^ TAG_MAGIC;
  }

  uint64_t lap = 0, page = 0, touched = 0;
  const uint64_t t0 = rdtime();
  uint64_t hb_ticks = (uint64_t)HEARTBEAT_US * (TIMEBASE_HZ / 1000000);
  uint64_t next_hb = t0 + hb_ticks;
  uint64_t next_poll = t0;
  int stop = 0;
  (void)hb_ticks;
  (void)next_hb;

  while (!stop) {
    uint64_t now = rdtime();
    uint64_t elapsed = now - t0;
#if DURATION_MS
    if (elapsed >= (uint64_t)DURATION_MS * (TIMEBASE_HZ / 1000)) break;
#endif
    if (HEARTBEAT_US && now >= next_hb) {
      uint64_t n = elapsed / hb_ticks;
      kprintf("hb %lu\n", (unsigned long)n);
      next_hb = t0 + (n + 1) * hb_ticks;
    }
    if (!LAPS && !DURATION_MS && now >= next_poll) { /* 'q' on the console: stop and verify */
      next_poll = now + TIMEBASE_HZ / 100;
      if (uart_getc_nb() == 'q') break;
    }
    /* pages allowed so far = elapsed * PAGES_PER_SEC / TIMEBASE_HZ, without overflow */
    uint64_t allowed = PAGES_PER_SEC ? (elapsed / TIMEBASE_HZ) * PAGES_PER_SEC +
                                           (elapsed % TIMEBASE_HZ) * PAGES_PER_SEC / TIMEBASE_HZ
                                     : touched + BATCH;
    for (unsigned b = 0; b < BATCH && touched < allowed; b++) {
      volatile uint64_t *p = page_ptr(base, page);
      p[0] = p[0] + 1;
      touched++;
      if (++page == npages) {
        page = 0;
        lap++;
        if (LAP_LINES) kprintf("lap %lu\n", (unsigned long)lap);
        if (LAPS && lap == LAPS) {
          stop = 1;
          break;
        }
      }
    }
  }

  /* verify: page k was touched lap times, plus once more if k < page */
  uint64_t sum = 0;
  for (uint64_t k = 0; k < npages; k++) {
    volatile uint64_t *p = page_ptr(base, k);
    uint64_t want = lap + (k < page ? 1 : 0);
    uint64_t got = p[0], tag = p[1];
    if (got != want || tag != (k ^ TAG_MAGIC)) {
      kprintf("%s: FAIL page %lu (counter %lu, expected %lu, tag 0x%lx)\n", NAME,
              (unsigned long)k, (unsigned long)got, (unsigned long)want, (unsigned long)tag);
      return 1;
    }
    sum = sum * 0x100000001B3ULL + (got ^ k);
  }
  kprintf("%s: %lu pages touched, %lu full laps, checksum 0x%016lx\n", NAME,
          (unsigned long)touched, (unsigned long)lap, (unsigned long)sum);
  kprintf("%s: PASS\n", NAME);
  return 0;
}
