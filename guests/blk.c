/* blk: a small virtio-blk driver over virtio-mmio version 2 (the modern interface), written
 * from the virtio 1.x specification, and a deterministic disk workload on top of it.
 *
 * - Finds the disk by scanning the 8 virtio-mmio slots (magic "virt", version 2, device ID 2),
 *   negotiates VIRTIO_F_VERSION_1, VIRTIO_BLK_F_FLUSH and VIRTIO_RING_F_EVENT_IDX (each if
 *   offered; VERSION_1 is required), sets up queue 0 as a split ring of 16 entries in RAM and
 *   reads the capacity from the configuration space.
 * - Completions arrive by interrupt only: PLIC source 1 + slot, enabled for hart 0's M-mode
 *   context; the trap handler claims it, acknowledges InterruptStatus through InterruptACK and
 *   completes it. The driver sleeps in wfi until the used ring holds the whole batch *and* an
 *   interrupt came after the batch was published (with EVENT_IDX, used_event asks for exactly
 *   that one). A timer deadline turns a lost interrupt into a failure instead of a hang.
 * - One GET_ID request (the id is printed), reads beyond the end of the disk (status IOERR).
 * - ROUNDS rounds: five writes of mixed sizes (3-descriptor chains: header, data, status), one
 *   in each fifth of the disk, in one batch; then read back with separate requests (each range
 *   in two halves) and compared byte for byte; a FLUSH; "blk: round N checksum X" (CRC-32 of
 *   what the round wrote). ROUND_MS of guest time between rounds keeps the run a few seconds
 *   long (for migrating in the middle); nothing printed depends on timing.
 * - Ends with a device reset, "blk: PASS" and exit 0; a failed check prints what and exits 1.
 *
 * The data written is a function of (round, sector) only, so the final image is the same after
 * every run on the same starting image.
 */
#include "runtime.h"

#ifndef ROUNDS
#define ROUNDS 40
#endif
#ifndef ROUND_MS
#define ROUND_MS 50
#endif

/* ---- board ---- */
#define VIRTIO_MMIO_BASE 0x10001000UL
#define VIRTIO_MMIO_STRIDE 0x1000UL
#define VIRTIO_MMIO_SLOTS 8
#define PLIC_BASE 0x0c000000UL
#define PLIC_PRIORITY(src) (PLIC_BASE + 4UL * (src))
#define PLIC_ENABLE_CTX0(src) (PLIC_BASE + 0x2000UL + 4UL * ((src) / 32))
#define PLIC_THRESHOLD_CTX0 (PLIC_BASE + 0x200000UL)
#define PLIC_CLAIM_CTX0 (PLIC_BASE + 0x200004UL)
#define MIE_MEIE (1UL << 11)
#define MIE_MTIE (1UL << 7)
#define IRQ_M_TIMER 7
#define IRQ_M_EXT 11

/* ---- virtio-mmio registers (virtio 1.x, 4.2.2) ---- */
#define VM_MAGIC 0x000
#define VM_VERSION 0x004
#define VM_DEVICE_ID 0x008
#define VM_DEVICE_FEATURES 0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES 0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL 0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM 0x038
#define VM_QUEUE_READY 0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_INTERRUPT_STATUS 0x060
#define VM_INTERRUPT_ACK 0x064
#define VM_STATUS 0x070
#define VM_QUEUE_DESC_LOW 0x080
#define VM_QUEUE_DESC_HIGH 0x084
#define VM_QUEUE_DRIVER_LOW 0x090
#define VM_QUEUE_DRIVER_HIGH 0x094
#define VM_QUEUE_DEVICE_LOW 0x0a0
#define VM_QUEUE_DEVICE_HIGH 0x0a4
#define VM_CONFIG_GENERATION 0x0fc
#define VM_CONFIG 0x100

#define VIRTIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_ID_BLOCK 2

#define ST_ACKNOWLEDGE 1u
#define ST_DRIVER 2u
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define ST_NEEDS_RESET 64u
#define ST_FAILED 128u

#define F_BLK_FLUSH (1ULL << 9)
#define F_RING_EVENT_IDX (1ULL << 29)
#define F_VERSION_1 (1ULL << 32)

#define INT_USED 1u
#define INT_CONFIG 2u

/* ---- split virtqueue (virtio 1.x, 2.7) ---- */
#define QSIZE 16
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

struct vq_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
struct vq_avail {
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[QSIZE];
  uint16_t used_event; /* with EVENT_IDX */
};
struct vq_used_elem {
  uint32_t id;
  uint32_t len;
};
struct vq_used {
  uint16_t flags;
  uint16_t idx;
  struct vq_used_elem ring[QSIZE];
  uint16_t avail_event; /* with EVENT_IDX */
};

/* ---- virtio-blk requests (virtio 1.x, 5.2.6) ---- */
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define BLK_ID_BYTES 20
#define SECTOR 512

struct blk_header {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};

/* One request of a batch (slot k uses descriptors 3k, 3k+1, 3k+2). */
#define MAX_INFLIGHT (QSIZE / 3)
struct request {
  uint32_t type;
  uint64_t sector;
  void *buf;
  uint32_t len;
  /* results */
  uint8_t status;
  uint32_t used_len;
  int done;
};

/* ---- driver state ---- */
static uintptr_t dev;        /* the device's register window */
static unsigned dev_irq;     /* its PLIC source */
static uint64_t features;    /* accepted */
static uint64_t capacity;    /* sectors */
static volatile struct vq_desc *desc;
static volatile struct vq_avail *avail;
static volatile struct vq_used *used;
static uint16_t avail_next; /* next avail index to publish */
static uint16_t used_seen;  /* used entries consumed */
static volatile struct blk_header *headers;
static volatile uint8_t *statuses;

static volatile uint64_t irq_used;   /* interrupts with InterruptStatus.used */
static volatile uint64_t irq_config; /* ... with the configuration-change bit */
static volatile uint64_t irq_other;  /* claims of another source */
static volatile int timer_fired;

static inline uint32_t rd(unsigned off) { return mmio_read32(dev + off); }
static inline void wr(unsigned off, uint32_t v) { mmio_write32(dev + off, v); }

static void fail(const char *what) __attribute__((noreturn));
static void fail(const char *what) {
  kprintf("blk: FAIL: %s\n", what);
  exit(1);
}

static uintptr_t trap(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f) {
  (void)f;
  if (cause == (CAUSE_INTR | IRQ_M_EXT)) {
    uint32_t src = mmio_read32(PLIC_CLAIM_CTX0);
    if (src == dev_irq) {
      uint32_t st = rd(VM_INTERRUPT_STATUS);
      wr(VM_INTERRUPT_ACK, st);
      if (st & INT_USED) irq_used++;
      if (st & INT_CONFIG) irq_config++;
    } else if (src != 0) {
      irq_other++;
    }
    if (src != 0) mmio_write32(PLIC_CLAIM_CTX0, src);
    return epc;
  }
  if (cause == (CAUSE_INTR | IRQ_M_TIMER)) {
    set_mtimecmp(~0ULL);
    timer_fired = 1;
    return epc;
  }
  kprintf("blk: unexpected trap: cause %lx epc %lx tval %lx\n", (unsigned long)cause,
          (unsigned long)epc, (unsigned long)tval);
  exit(2);
}

/* Arms the timer for `ticks` from now (the handler sets timer_fired). */
static void arm_timer(uint64_t ticks) {
  csr_clear(mie, MIE_MTIE);
  timer_fired = 0;
  set_mtimecmp(rdtime() + ticks);
  csr_set(mie, MIE_MTIE);
}

static void disarm_timer(void) {
  csr_clear(mie, MIE_MTIE);
  set_mtimecmp(~0ULL);
  timer_fired = 0;
}

/* Sleeps with wfi until cond() holds; interrupts are taken only between the checks, so one
 * arriving just after a check still ends the wfi (it is pending). Returns 0 on the timer. */
static int sleep_until(int (*cond)(void)) {
  for (;;) {
    csr_clear(mstatus, MSTATUS_MIE);
    fence();
    if (cond()) return 1;
    if (timer_fired) return 0;
    wfi();
    csr_set(mstatus, MSTATUS_MIE); /* take what is pending */
    __asm__ volatile("nop");
  }
}

static int never(void) { return 0; }

static void pause_ms(unsigned ms) {
  if (!ms) return;
  arm_timer((uint64_t)ms * (TIMEBASE_HZ / 1000));
  sleep_until(never);
  disarm_timer();
}

/* ---- device discovery and set-up ---- */

static uint64_t read_config64(unsigned off) {
  uint32_t gen, lo, hi;
  do {
    gen = rd(VM_CONFIG_GENERATION);
    lo = rd(VM_CONFIG + off);
    hi = rd(VM_CONFIG + off + 4);
  } while (rd(VM_CONFIG_GENERATION) != gen);
  return (uint64_t)hi << 32 | lo;
}

static void set_status(uint32_t bits) { wr(VM_STATUS, rd(VM_STATUS) | bits); }

static int find_disk(void) {
  for (unsigned n = 0; n < VIRTIO_MMIO_SLOTS; n++) {
    uintptr_t base = VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_STRIDE;
    if (mmio_read32(base + VM_MAGIC) != VIRTIO_MAGIC) continue;
    if (mmio_read32(base + VM_VERSION) != 2) {
      /* QEMU's slots are legacy unless -global virtio-mmio.force-legacy=false. */
      if (mmio_read32(base + VM_DEVICE_ID) == VIRTIO_ID_BLOCK)
        kprintf("blk: slot %u: a legacy (version 1) virtio-mmio disk, skipped\n", n);
      continue;
    }
    if (mmio_read32(base + VM_DEVICE_ID) != VIRTIO_ID_BLOCK) continue;
    dev = base;
    dev_irq = 1 + n;
    return 1;
  }
  return 0;
}

static void setup(uintptr_t mem) {
  /* Reset, then ACKNOWLEDGE and DRIVER (3.1.1). */
  wr(VM_STATUS, 0);
  if (rd(VM_STATUS) != 0) fail("status is not 0 after a reset");
  set_status(ST_ACKNOWLEDGE);
  set_status(ST_DRIVER);

  wr(VM_DEVICE_FEATURES_SEL, 0);
  uint64_t offered = rd(VM_DEVICE_FEATURES);
  wr(VM_DEVICE_FEATURES_SEL, 1);
  offered |= (uint64_t)rd(VM_DEVICE_FEATURES) << 32;
  if (!(offered & F_VERSION_1)) fail("the device does not offer VIRTIO_F_VERSION_1");
  features = offered & (F_VERSION_1 | F_BLK_FLUSH | F_RING_EVENT_IDX);
  wr(VM_DRIVER_FEATURES_SEL, 0);
  wr(VM_DRIVER_FEATURES, (uint32_t)features);
  wr(VM_DRIVER_FEATURES_SEL, 1);
  wr(VM_DRIVER_FEATURES, (uint32_t)(features >> 32));
  set_status(ST_FEATURES_OK);
  if (!(rd(VM_STATUS) & ST_FEATURES_OK)) fail("FEATURES_OK did not stick");
  kprintf("blk: features VERSION_1%s%s\n", features & F_BLK_FLUSH ? " FLUSH" : "",
          features & F_RING_EVENT_IDX ? " EVENT_IDX" : "");

  /* Queue 0 (4.2.3.2). */
  wr(VM_QUEUE_SEL, 0);
  if (rd(VM_QUEUE_READY) != 0) fail("queue 0 is ready before set-up");
  uint32_t max = rd(VM_QUEUE_NUM_MAX);
  if (max == 0) fail("queue 0 is not available (QueueNumMax 0)");
  if (max < QSIZE) fail("QueueNumMax below 16");
  desc = (volatile struct vq_desc *)mem;
  avail = (volatile struct vq_avail *)(mem + 0x1000);
  used = (volatile struct vq_used *)(mem + 0x2000);
  headers = (volatile struct blk_header *)(mem + 0x3000);
  statuses = (volatile uint8_t *)(mem + 0x3800);
  memset((void *)mem, 0, 0x4000);
  avail_next = used_seen = 0;
  wr(VM_QUEUE_NUM, QSIZE);
  wr(VM_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)desc);
  wr(VM_QUEUE_DESC_HIGH, (uint32_t)((uint64_t)(uintptr_t)desc >> 32));
  wr(VM_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)avail);
  wr(VM_QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)(uintptr_t)avail >> 32));
  wr(VM_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)used);
  wr(VM_QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)(uintptr_t)used >> 32));
  wr(VM_QUEUE_READY, 1);
  if (rd(VM_QUEUE_READY) != 1) fail("QueueReady did not stick");

  set_status(ST_DRIVER_OK);
  uint32_t st = rd(VM_STATUS);
  if (st & (ST_NEEDS_RESET | ST_FAILED)) fail("device status NEEDS_RESET/FAILED after DRIVER_OK");
  if ((st & 0xf) != (ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK))
    fail("device status does not read back");

  capacity = read_config64(0);
  kprintf("blk: capacity %lu sectors\n", (unsigned long)capacity);
  if (capacity < 5 * 256) fail("disk too small (need at least 640 KiB)");

  /* The interrupt: PLIC source dev_irq for hart 0's M-mode context, then mie.MEIE. */
  mmio_write32(PLIC_PRIORITY(dev_irq), 1);
  mmio_write32(PLIC_ENABLE_CTX0(dev_irq),
               mmio_read32(PLIC_ENABLE_CTX0(dev_irq)) | 1u << (dev_irq % 32));
  mmio_write32(PLIC_THRESHOLD_CTX0, 0);
  csr_set(mie, MIE_MEIE);
}

/* ---- requests ---- */

static uint16_t batch_target;
static uint64_t batch_irq_before;

static int batch_complete(void) {
  return used->idx == batch_target && irq_used != batch_irq_before;
}

/* vring_need_event (2.7.10): notify when new_idx passed event_idx since old_idx. */
static int need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
  return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* Submits requests r[0..n) (n <= MAX_INFLIGHT) as one batch and waits for all of them. */
static void run_batch(struct request *r, int n) {
  if (n < 1 || n > MAX_INFLIGHT) fail("bad batch size");
  const uint16_t old = avail_next;
  for (int k = 0; k < n; k++) {
    volatile struct blk_header *h = &headers[k];
    h->type = r[k].type;
    h->reserved = 0;
    h->sector = r[k].sector;
    statuses[k] = 0xff;
    r[k].done = 0;
    unsigned d = 3 * k;
    desc[d].addr = (uintptr_t)h;
    desc[d].len = sizeof *h;
    desc[d].flags = DESC_F_NEXT;
    desc[d].next = d + 1;
    unsigned last = d + 1;
    if (r[k].len) {
      desc[d + 1].addr = (uintptr_t)r[k].buf;
      desc[d + 1].len = r[k].len;
      desc[d + 1].flags = DESC_F_NEXT | (r[k].type == BLK_T_OUT ? 0 : DESC_F_WRITE);
      desc[d + 1].next = d + 2;
      last = d + 2;
    }
    desc[last].addr = (uintptr_t)&statuses[k];
    desc[last].len = 1;
    desc[last].flags = DESC_F_WRITE;
    desc[last].next = 0;
    avail->ring[(uint16_t)(old + k) % QSIZE] = d;
  }
  avail_next = old + n;
  batch_target = (uint16_t)(used_seen + n);
  batch_irq_before = irq_used;
  /* With EVENT_IDX: one interrupt, when the batch's last request is used. */
  if (features & F_RING_EVENT_IDX) avail->used_event = (uint16_t)(batch_target - 1);
  fence(); /* descriptors and ring entries before the index */
  avail->idx = avail_next;
  fence(); /* the index before reading the device's suppression fields */
  int notify = (features & F_RING_EVENT_IDX) ? need_event(used->avail_event, avail_next, old)
                                             : !(used->flags & USED_F_NO_NOTIFY);
  if (notify) wr(VM_QUEUE_NOTIFY, 0);

  arm_timer(30 * TIMEBASE_HZ);
  if (!sleep_until(batch_complete)) {
    kprintf("blk: no completion interrupt within 30 s: used idx %u of %u, interrupts %lu\n",
            (unsigned)used->idx, (unsigned)batch_target, (unsigned long)irq_used);
    fail("lost completion");
  }
  disarm_timer();
  fence();
  while (used_seen != batch_target) {
    volatile struct vq_used_elem *e = &used->ring[used_seen % QSIZE];
    uint32_t id = e->id;
    if (id % 3 != 0 || id / 3 >= (uint32_t)n || r[id / 3].done) {
      kprintf("blk: used ring returned descriptor %u\n", (unsigned)id);
      fail("bad used element");
    }
    r[id / 3].done = 1;
    r[id / 3].used_len = e->len;
    r[id / 3].status = statuses[id / 3];
    used_seen++;
  }
  if (features & F_RING_EVENT_IDX) avail->used_event = used_seen;
  if (irq_config) fail("configuration-change interrupt (device needs reset?)");
  if (rd(VM_STATUS) & ST_NEEDS_RESET) fail("device status NEEDS_RESET");
}

static void one_request(struct request *r) { run_batch(r, 1); }

/* ---- the data ---- */

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/* The 512 bytes round `round` writes into `sector`. */
static void fill_sector(uint8_t *p, unsigned round, uint64_t sector) {
  uint64_t s = mix64(((uint64_t)round << 40) ^ sector ^ 0x9e3779b97f4a7c15ULL) | 1;
  uint64_t *w = (uint64_t *)p;
  for (unsigned i = 0; i < SECTOR / 8; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    w[i] = s;
  }
}

#define NWRITES 5
static const uint32_t sizes[NWRITES] = {1, 7, 16, 33, 64}; /* sectors */
#define MAX_SECTORS 64

static void check_status(const struct request *r, uint8_t want, uint32_t want_len,
                         const char *what, unsigned round) {
  if (r->status != want) {
    kprintf("blk: round %u: %s at sector %lu: status %u, expected %u\n", round, what,
            (unsigned long)r->sector, (unsigned)r->status, (unsigned)want);
    fail("request status");
  }
  if (want_len && r->used_len != want_len) {
    kprintf("blk: round %u: %s at sector %lu: used length %u, expected %u\n", round, what,
            (unsigned long)r->sector, (unsigned)r->used_len, (unsigned)want_len);
    fail("used length");
  }
}

static void get_id(uint8_t *buf) {
  memset(buf, 0, 64);
  struct request r = {.type = BLK_T_GET_ID, .sector = 0, .buf = buf, .len = BLK_ID_BYTES};
  one_request(&r);
  check_status(&r, BLK_S_OK, 0, "GET_ID", 0);
  char id[BLK_ID_BYTES + 1];
  unsigned i;
  for (i = 0; i < BLK_ID_BYTES && buf[i]; i++) id[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.';
  id[i] = 0;
  kprintf("blk: id '%s'\n", id);
  for (i = BLK_ID_BYTES; i < 64; i++)
    if (buf[i]) fail("GET_ID wrote beyond its 20 bytes");
}

static void beyond_capacity(uint8_t *buf) {
  /* One starting at the end, one straddling it: both IOERR. */
  struct request r[2] = {
      {.type = BLK_T_IN, .sector = capacity, .buf = buf, .len = SECTOR},
      {.type = BLK_T_IN, .sector = capacity - 1, .buf = buf + SECTOR, .len = 2 * SECTOR},
  };
  memset(buf, 0x5a, 3 * SECTOR);
  run_batch(r, 2);
  check_status(&r[0], BLK_S_IOERR, 0, "read at the capacity", 0);
  check_status(&r[1], BLK_S_IOERR, 0, "read across the capacity", 0);
  kprintf("blk: reads beyond the capacity: IOERR\n");
}

int main(unsigned long hartid, unsigned long dtb) {
  (void)hartid;
  (void)dtb;
  set_m_handler(trap);
  disarm_timer();
  if (!find_disk()) fail("no virtio-blk device (version 2) in the virtio-mmio slots");
  uintptr_t mem = free_mem_start();
  setup(mem);

  uint8_t *scratch = (uint8_t *)(mem + 0x4000);
  uint8_t *wbuf = (uint8_t *)(mem + 0x10000);
  uint8_t *rbuf = (uint8_t *)(mem + 0x10000 + NWRITES * MAX_SECTORS * SECTOR);

  get_id(scratch);
  beyond_capacity(scratch);

  const uint64_t region = capacity / NWRITES;
  for (unsigned round = 1; round <= ROUNDS; round++) {
    struct request w[NWRITES];
    uint32_t crc = 0;
    for (unsigned j = 0; j < NWRITES; j++) {
      uint32_t n = sizes[(round + j) % NWRITES];
      uint64_t start = region * j + mix64((uint64_t)round << 8 | j) % (region - n);
      uint8_t *p = wbuf + j * MAX_SECTORS * SECTOR;
      for (uint32_t s = 0; s < n; s++) fill_sector(p + s * SECTOR, round, start + s);
      crc = crc32_update(crc, p, n * SECTOR);
      w[j] = (struct request){.type = BLK_T_OUT, .sector = start, .buf = p, .len = n * SECTOR};
    }
    run_batch(w, NWRITES);
    for (unsigned j = 0; j < NWRITES; j++) check_status(&w[j], BLK_S_OK, 1, "write", round);

    /* Read back: each range in two halves (one request for a single sector). */
    memset(rbuf, 0xa5 ^ round, NWRITES * MAX_SECTORS * SECTOR);
    struct request rd_req[2 * NWRITES];
    int nr = 0;
    for (unsigned j = 0; j < NWRITES; j++) {
      uint32_t n = w[j].len / SECTOR, first = n / 2;
      uint8_t *p = rbuf + j * MAX_SECTORS * SECTOR;
      if (first)
        rd_req[nr++] = (struct request){.type = BLK_T_IN, .sector = w[j].sector, .buf = p,
                                        .len = first * SECTOR};
      rd_req[nr++] = (struct request){.type = BLK_T_IN, .sector = w[j].sector + first,
                                      .buf = p + first * SECTOR, .len = (n - first) * SECTOR};
    }
    for (int k = 0; k < nr; k += MAX_INFLIGHT) {
      int m = nr - k < MAX_INFLIGHT ? nr - k : MAX_INFLIGHT;
      run_batch(&rd_req[k], m);
      for (int i = 0; i < m; i++)
        check_status(&rd_req[k + i], BLK_S_OK, rd_req[k + i].len + 1, "read", round);
    }
    for (unsigned j = 0; j < NWRITES; j++) {
      const uint8_t *a = wbuf + j * MAX_SECTORS * SECTOR, *b = rbuf + j * MAX_SECTORS * SECTOR;
      for (uint32_t i = 0; i < w[j].len; i++) {
        if (a[i] != b[i]) {
          kprintf("blk: round %u: sector %lu byte %u reads %02x, %02x was written\n", round,
                  (unsigned long)(w[j].sector + i / SECTOR), (unsigned)(i % SECTOR),
                  (unsigned)b[i], (unsigned)a[i]);
          fail("data read back differs");
        }
      }
    }

    if (features & F_BLK_FLUSH) {
      struct request f = {.type = BLK_T_FLUSH, .sector = 0, .buf = 0, .len = 0};
      one_request(&f);
      check_status(&f, BLK_S_OK, 1, "flush", round);
    }
    kprintf("blk: round %u checksum %08x\n", round, (unsigned)crc);
    if (round != ROUNDS) pause_ms(ROUND_MS);
  }

  /* Reset: the device lets go of the queue. */
  wr(VM_STATUS, 0);
  if (rd(VM_STATUS) != 0) fail("status is not 0 after the final reset");
  if (irq_used == 0) fail("no interrupt seen");
  if (irq_other) fail("claimed an interrupt of another source");
  kprintf("blk: PASS\n");
  return 0;
}
