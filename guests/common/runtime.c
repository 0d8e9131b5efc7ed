/* Tiny bare-metal runtime for ferry's guest programs. */
#include "runtime.h"

uint64_t boot_hartid;
/* Set by a guest that starts the other harts (see start.S). */
void (*volatile secondary_entry)(uint64_t hartid);
uint8_t secondary_stacks[8 * 16384] __attribute__((aligned(16)));
uint64_t boot_dtb;

/* ------------------------------------------------------------------ UART (ns16550a) */
#define UART_RBR 0
#define UART_THR 0
#define UART_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

static void uart_tx(char c) {
  while (!(mmio_read8(UART0_BASE + UART_LSR) & LSR_THRE)) {
  }
  mmio_write8(UART0_BASE + UART_THR, (uint8_t)c);
}

void uart_putc(char c) {
  if (c == '\n') uart_tx('\r');
  uart_tx(c);
}

void uart_puts(const char *s) {
  while (*s) uart_putc(*s++);
}

void uart_write(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) uart_putc(s[i]);
}

int uart_getc_nb(void) {
  if (mmio_read8(UART0_BASE + UART_LSR) & LSR_DR) return mmio_read8(UART0_BASE + UART_RBR);
  return -1;
}

int uart_getc(void) {
  int c;
  while ((c = uart_getc_nb()) < 0) {
  }
  return c;
}

/* ------------------------------------------------------------------ printf */
static void put_padded(const char *s, int len, int width, int left, char pad) {
  if (!left)
    for (int i = len; i < width; i++) uart_putc(pad);
  for (int i = 0; i < len; i++) uart_putc(s[i]);
  if (left)
    for (int i = len; i < width; i++) uart_putc(' ');
}

static int fmt_u64(char *buf, uint64_t v, unsigned base, int upper) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

int kvprintf(const char *fmt, va_list ap) {
  int count = 0;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      uart_putc(*p);
      count++;
      continue;
    }
    p++;
    int left = 0;
    char pad = ' ';
    for (;; p++) {
      if (*p == '-')
        left = 1;
      else if (*p == '0')
        pad = '0';
      else
        break;
    }
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int lng = 0;
    while (*p == 'l' || *p == 'z') {
      lng = 1;
      p++;
    }
    char buf[32];
    int len = 0;
    switch (*p) {
      case 'd':
      case 'i': {
        int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
        uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
        if (v < 0) buf[len++] = '-';
        len += fmt_u64(buf + len, u, 10, 0);
        if (v < 0 && pad == '0' && !left) { /* sign before zero padding */
          uart_putc('-');
          put_padded(buf + 1, len - 1, width - 1, 0, '0');
          count += width > len ? width : len;
          continue;
        }
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
        len = fmt_u64(buf, v, *p == 'u' ? 10 : 16, *p == 'X');
        break;
      }
      case 'p': {
        uint64_t v = (uintptr_t)va_arg(ap, void *);
        buf[0] = '0';
        buf[1] = 'x';
        len = 2 + fmt_u64(buf + 2, v, 16, 0);
        break;
      }
      case 'c':
        buf[0] = (char)va_arg(ap, int);
        len = 1;
        break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        int n = (int)strlen(s);
        put_padded(s, n, width, left, ' ');
        count += n > width ? n : width;
        continue;
      }
      case '%':
        buf[0] = '%';
        len = 1;
        break;
      case '\0':
        return count;
      default:
        buf[0] = '%';
        buf[1] = *p;
        len = 2;
        break;
    }
    put_padded(buf, len, width, left, left ? ' ' : pad);
    count += len > width ? len : width;
  }
  return count;
}

int kprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = kvprintf(fmt, ap);
  va_end(ap);
  return n;
}

void print_dec(int64_t v) { kprintf("%ld", (long)v); }
void print_udec(uint64_t v) { kprintf("%lu", (unsigned long)v); }
void print_hex(uint64_t v, int digits) {
  char buf[24];
  int n = fmt_u64(buf, v, 16, 0);
  for (int i = n; i < digits; i++) uart_putc('0');
  uart_write(buf, (size_t)n);
}

/* ------------------------------------------------------------------ time, power */
void delay_us(uint64_t us) {
  uint64_t end = rdtime() + us * (TIMEBASE_HZ / 1000000);
  while (rdtime() < end) {
  }
}

void poweroff(int code) {
  uint32_t v = code == 0 ? 0x5555u : (0x3333u | ((uint32_t)(code & 0xffff) << 16));
  mmio_write32(TEST_BASE, v);
  for (;;) wfi();
}

void exit(int code) { poweroff(code); }

/* ------------------------------------------------------------------ memory helpers */
/* The attribute keeps gcc from turning these loops back into calls to themselves. */
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALL void *memset(void *d, int c, size_t n) {
  uint8_t *p = d;
  uint8_t b = (uint8_t)c;
  while (n && ((uintptr_t)p & 7)) {
    *p++ = b;
    n--;
  }
  uint64_t w = b * 0x0101010101010101ULL;
  while (n >= 8) {
    *(uint64_t *)p = w;
    p += 8;
    n -= 8;
  }
  while (n--) *p++ = b;
  return d;
}

NO_LIBCALL void *memcpy(void *d, const void *s, size_t n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  if ((((uintptr_t)dp | (uintptr_t)sp) & 7) == 0) {
    while (n >= 8) {
      *(uint64_t *)dp = *(const uint64_t *)sp;
      dp += 8;
      sp += 8;
      n -= 8;
    }
  }
  while (n--) *dp++ = *sp++;
  return d;
}

NO_LIBCALL void *memmove(void *d, const void *s, size_t n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  if (dp <= sp || dp >= sp + n) return memcpy(d, s, n);
  while (n--) dp[n] = sp[n];
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

/* ------------------------------------------------------------------ traps */
volatile int64_t probe_cause = -1;
volatile uint64_t probe_tval;
volatile uint64_t probe_exec_armed;
volatile uint64_t vector_hit = (uint64_t)-1;

static trap_handler_t m_handler;
static trap_handler_t s_handler;
static jmp_buf lower_jb;
static volatile long lower_result;

extern char __probe_start[], __probe_end[];
void lower_trampoline(void);
void lower_exit(void);
void enter_lower(long mode, uintptr_t fn, long arg, uintptr_t tramp, uintptr_t va_off)
    __attribute__((noreturn));

void set_m_handler(trap_handler_t h) { m_handler = h; }
void set_s_handler(trap_handler_t h) { s_handler = h; }
void install_m_trap_vector(void) { csr_write(mtvec, (uintptr_t)m_trap_entry); }
void install_s_trap_vector(void) { csr_write(stvec, (uintptr_t)s_trap_entry); }

/* Is epc one of the probe instructions? Compared modulo 1 GiB so that probes run through
 * a gigapage alias (see run_lower's va_offset) are recognised too. */
static int in_probe(uintptr_t epc) {
  uintptr_t off = (epc - (uintptr_t)__probe_start) & 0x3fffffffUL;
  return off < (uintptr_t)(__probe_end - __probe_start);
}

static int probe_fixup(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f,
                       uintptr_t *resume) {
  if (cause & CAUSE_INTR) return 0;
  if (in_probe(epc)) {
    probe_cause = (int64_t)cause;
    probe_tval = tval;
    f->x[REG_A0] = 0;
    *resume = epc + 4;
    return 1;
  }
  if (probe_exec_armed && (cause == CAUSE_MISALIGNED_FETCH || cause == CAUSE_FETCH_ACCESS ||
                           cause == CAUSE_FETCH_PAGE_FAULT)) {
    probe_cause = (int64_t)cause;
    probe_tval = tval;
    f->x[REG_A0] = 0;
    *resume = f->x[REG_RA];
    return 1;
  }
  return 0;
}

static void __attribute__((noreturn))
unexpected(const char *mode, uintptr_t cause, uintptr_t epc, uintptr_t tval) {
  kprintf("\nunexpected trap in %s-mode handler: cause=0x%lx epc=0x%lx tval=0x%lx\n", mode,
          cause, epc, tval);
  poweroff(2);
}

uintptr_t m_trap_dispatch(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f,
                          long vec) {
  uintptr_t resume;
  if (vec >= 0) vector_hit = (uint64_t)vec;
  if (probe_fixup(cause, epc, tval, f, &resume)) return resume;
  if ((cause == CAUSE_USER_ECALL || cause == CAUSE_SUPERVISOR_ECALL) &&
      f->x[REG_A7] == LOWER_EXIT_MAGIC) {
    lower_result = (long)f->x[REG_A0];
    longjmp(lower_jb, 1);
  }
  if (m_handler) return m_handler(cause, epc, tval, f);
  unexpected("M", cause, epc, tval);
}

uintptr_t s_trap_dispatch(uintptr_t cause, uintptr_t epc, uintptr_t tval, struct trap_frame *f,
                          long vec) {
  (void)vec;
  uintptr_t resume;
  if (probe_fixup(cause, epc, tval, f, &resume)) return resume;
  if (cause == CAUSE_USER_ECALL && f->x[REG_A7] == LOWER_EXIT_MAGIC) {
    /* U-mode ecalls are delegated to S: pass the exit on to M with an S-mode ecall. */
    register long a0 __asm__("a0") = (long)f->x[REG_A0];
    register unsigned long a7 __asm__("a7") = LOWER_EXIT_MAGIC;
    __asm__ volatile("ecall" ::"r"(a0), "r"(a7) : "memory");
    for (;;) {
    }
  }
  if (s_handler) return s_handler(cause, epc, tval, f);
  unexpected("S", cause, epc, tval);
}

long run_lower(int mode, lower_fn_t fn, long arg, uintptr_t va_offset) {
  if (setjmp(lower_jb) == 0)
    enter_lower(mode, (uintptr_t)fn + va_offset, arg, (uintptr_t)lower_trampoline + va_offset,
                va_offset);
  return lower_result;
}

/* ------------------------------------------------------------------ test reporting */
static int t_count, t_failed;

void t_check(int cond, const char *fmt, ...) {
  t_count++;
  if (!cond) t_failed++;
  kprintf("%s %d - ", cond ? "ok" : "not ok", t_count);
  va_list ap;
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
  uart_putc('\n');
}

int t_failures(void) { return t_failed; }

int t_finish(const char *name) {
  if (t_failed == 0) {
    kprintf("%s: PASS (%d checks)\n", name, t_count);
    return 0;
  }
  kprintf("%s: FAIL (%d of %d checks failed)\n", name, t_failed, t_count);
  return 1;
}

/* ------------------------------------------------------------------ CRC-32 */
static uint32_t crc_table[256];

uint32_t crc32_update(uint32_t crc, const void *buf, size_t n) {
  if (!crc_table[1]) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      crc_table[i] = c;
    }
  }
  const uint8_t *p = buf;
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

struct recorded_trap last_trap;

uintptr_t record_and_skip_trap(uintptr_t cause, uintptr_t epc, uintptr_t tval,
                               struct trap_frame *f) {
  (void)f;
  last_trap.cause = cause;
  last_trap.tval = tval;
  last_trap.epc = epc;
  last_trap.count++;
  return epc + insn_len(epc);
}

void reset_recorded_trap(void) {
  last_trap.cause = last_trap.tval = last_trap.epc = (uintptr_t)-1;
  last_trap.count = 0;
}
