/* checksum: a deterministic memory workload whose output proves that RAM survived intact.
 *
 * Over CK_MB MiB of RAM after the image: fill with xorshift64*, CK_PASSES passes of
 * read-modify-write mixing with data-dependent (random) reads, a heapsort of a sub-array,
 * then CRC-32 of the whole area. Prints one line per phase and `checksum: 0x........` at
 * the end. Nothing printed depends on time or the board description, so the output must be
 * byte-identical with or without a migration in the middle.
 *
 * Build-time parameters: CK_MB (default 64), CK_PASSES (default 4), CK_EXPECT (if defined
 * and non-zero: expected final CRC, prints checksum: PASS/FAIL and sets the exit code). */
#include "runtime.h"

#ifndef CK_MB
#define CK_MB 64
#endif
#ifndef CK_PASSES
#define CK_PASSES 4
#endif
#ifndef CK_SORT_WORDS
#define CK_SORT_WORDS (1u << 18) /* 2 MiB sorted */
#endif

static uint64_t rng_state;

static uint64_t xorshift64s(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rotl(uint64_t x, unsigned r) {
  r &= 63;
  return r ? (x << r) | (x >> (64 - r)) : x;
}

/* index in [0, n) from a 64-bit value (multiply-high, no division) */
static inline uint64_t scale(uint64_t x, uint64_t n) {
  return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

static void sift_down(uint64_t *a, uint64_t start, uint64_t end) {
  uint64_t root = start;
  for (;;) {
    uint64_t child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && a[child] < a[child + 1]) child++;
    if (a[root] >= a[child]) return;
    uint64_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

static void heapsort(uint64_t *a, uint64_t n) {
  if (n < 2) return;
  for (uint64_t s = n / 2; s-- > 0;) sift_down(a, s, n);
  for (uint64_t end = n - 1; end > 0; end--) {
    uint64_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

int main(void) {
  const uint64_t bytes = (uint64_t)CK_MB << 20;
  const uint64_t n = bytes / 8;
  uint64_t *a = (uint64_t *)free_mem_start();

  kprintf("checksum: %u MiB, %u passes\n", (unsigned)CK_MB, (unsigned)CK_PASSES);
  /* The device tree sits near the top of RAM (both on QEMU and ferry): stay below it. */
  if (boot_dtb > (uintptr_t)a && (uintptr_t)a + bytes > boot_dtb) {
    kprintf("checksum: not enough RAM for %u MiB (give the VM more memory)\n",
            (unsigned)CK_MB);
    return 3;
  }

  /* fill */
  rng_state = 0x9E3779B97F4A7C15ULL;
  uint64_t digest = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t v = xorshift64s();
    a[i] = v;
    digest = rotl(digest, 5) ^ v;
  }
  kprintf("fill: digest 0x%016lx\n", digest);

  /* mixing passes: read a data-dependent word (in the same 4 KiB page, or every 16th time
   * anywhere in the area) and rewrite the current one */
  for (unsigned p = 1; p <= CK_PASSES; p++) {
    uint64_t prev = 0x6A09E667F3BCC908ULL * p;
    digest = 0;
    if (p & 1) {
      for (uint64_t i = 0; i < n; i++) {
        uint64_t x = a[i] ^ prev;
        uint64_t j = (i & 15) ? ((i & ~511ULL) | (x & 511)) : scale(x, n);
        uint64_t v = rotl(a[i] ^ a[j], (unsigned)(p * 7 + i)) + 0x9E3779B97F4A7C15ULL * p;
        a[i] = v;
        prev = v;
        digest = digest * 0x100000001B3ULL + v;
      }
    } else {
      for (uint64_t i = n; i-- > 0;) {
        uint64_t x = a[i] + prev;
        uint64_t j = (i & 15) ? ((i & ~511ULL) | (x & 511)) : scale(x, n);
        uint64_t v = rotl(a[i] + a[j], (unsigned)(p * 13 + i)) ^ (0xBB67AE8584CAA73BULL * p);
        a[i] = v;
        prev = v;
        digest = digest * 0x100000001B3ULL + v;
      }
    }
    kprintf("pass %u/%u: digest 0x%016lx\n", p, (unsigned)CK_PASSES, digest);
  }

  /* sort a sub-array whose position depends on the data */
  uint64_t sn = CK_SORT_WORDS < n ? CK_SORT_WORDS : n;
  uint64_t start = scale(a[0], n - sn + 1);
  uint64_t *s = a + start;
  heapsort(s, sn);
  int sorted = 1;
  digest = 0;
  for (uint64_t i = 0; i < sn; i++) {
    if (i && s[i - 1] > s[i]) sorted = 0;
    digest = rotl(digest, 11) ^ s[i];
  }
  kprintf("sort: %lu words at word %lu: %s, digest 0x%016lx\n", (unsigned long)sn,
          (unsigned long)start, sorted ? "sorted" : "NOT SORTED", digest);

  /* CRC-32 of the whole area, with a progress line every 1/8 */
  uint32_t crc = 0;
  const uint64_t chunk = bytes / 8;
  for (unsigned c = 0; c < 8; c++) {
    crc = crc32_update(crc, (const uint8_t *)a + c * chunk, chunk);
    kprintf("crc32: %u/8 0x%08x\n", c + 1, crc);
  }
  kprintf("checksum: 0x%08x\n", crc);

#if defined(CK_EXPECT)
  if (CK_EXPECT != 0) {
    int pass = sorted && crc == (uint32_t)CK_EXPECT;
    kprintf("checksum: %s\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
  }
#endif
  return sorted ? 0 : 1;
}
