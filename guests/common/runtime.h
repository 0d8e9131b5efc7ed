/* Tiny bare-metal runtime for ferry's guest programs (RV64, M-mode start, no libc). */
#ifndef FERRY_GUEST_RUNTIME_H
#define FERRY_GUEST_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/* ---- board addresses (QEMU virt layout) ---- */
#define UART0_BASE 0x10000000UL
#define TEST_BASE 0x00100000UL
#define CLINT_BASE 0x02000000UL
#define CLINT_MSIP (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME (CLINT_BASE + 0xbff8)
#define TIMEBASE_HZ 10000000UL
#define RAM_BASE 0x80000000UL
#define PAGE_SIZE 4096UL

/* ---- privilege modes / CSR bits ---- */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define MSTATUS_SIE (1UL << 1)
#define MSTATUS_MIE (1UL << 3)
#define MSTATUS_SPIE (1UL << 5)
#define MSTATUS_MPIE (1UL << 7)
#define MSTATUS_SPP (1UL << 8)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP (3UL << 11)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_SUM (1UL << 18)
#define MSTATUS_MXR (1UL << 19)

#define MIP_SSIP (1UL << 1)
#define MIP_MSIP (1UL << 3)
#define MIP_STIP (1UL << 5)
#define MIP_MTIP (1UL << 7)
#define MIP_SEIP (1UL << 9)
#define MIP_MEIP (1UL << 11)

#define CAUSE_INTR (1UL << 63)

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL_INSN 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_USER_ECALL 8
#define CAUSE_SUPERVISOR_ECALL 9
#define CAUSE_MACHINE_ECALL 11
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT 13
#define CAUSE_STORE_PAGE_FAULT 15

#define STR_(x) #x
#define STR(x) STR_(x)
#define csr_read(csr)                                   \
  ({                                                    \
    unsigned long __v;                                  \
    __asm__ volatile("csrr %0, " STR(csr) : "=r"(__v)::"memory"); \
    __v;                                                \
  })
#define csr_write(csr, val) __asm__ volatile("csrw " STR(csr) ", %0" ::"rK"(val) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " STR(csr) ", %0" ::"rK"(val) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " STR(csr) ", %0" ::"rK"(val) : "memory")
#define csr_swap(csr, val)                                                     \
  ({                                                                           \
    unsigned long __v;                                                         \
    __asm__ volatile("csrrw %0, " STR(csr) ", %1" : "=r"(__v) : "rK"(val) : "memory"); \
    __v;                                                                       \
  })

static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static inline uint64_t mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }

static inline void fence(void) { __asm__ volatile("fence" ::: "memory"); }
static inline void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }
static inline void sfence_vma(void) { __asm__ volatile("sfence.vma" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

/* ---- boot information (set by start.S) ---- */
extern uint64_t boot_hartid; /* a0 at entry */
extern uint64_t boot_dtb;    /* a1 at entry */
/* Linker symbols: end of the loaded image + stacks, rounded up to 1 MiB. */
extern char __image_start[], __bss_start[], __bss_end[], __free_start[];
static inline uintptr_t free_mem_start(void) { return (uintptr_t)__free_start; }

/* ---- UART ---- */
void uart_putc(char c); /* '\n' is sent as "\r\n" */
void uart_puts(const char *s);
void uart_write(const char *s, size_t n);
int uart_getc_nb(void); /* -1 if no byte is ready */
int uart_getc(void);    /* blocking */

/* ---- formatted output: %d %i %u %x %X %s %c %p %% with l/ll/z, '0'/'-' flags and width ---- */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
void print_dec(int64_t v);
void print_udec(uint64_t v);
void print_hex(uint64_t v, int digits); /* digits = 0: minimal, no 0x prefix */

/* ---- time ---- */
static inline uint64_t read_mtime(void) { return mmio_read64(CLINT_MTIME); }
static inline uint64_t rdtime(void) {
  uint64_t v;
  __asm__ volatile("rdtime %0" : "=r"(v));
  return v;
}
static inline void set_mtimecmp(uint64_t v) { mmio_write64(CLINT_MTIMECMP, v); }
void delay_us(uint64_t us);

/* ---- power ---- */
void poweroff(int code) __attribute__((noreturn)); /* 0 -> pass (0x5555), else 0x3333|code<<16 */
void exit(int code) __attribute__((noreturn));

/* ---- memory helpers (gcc may emit calls to these) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* ---- traps ----
 * m_trap_entry / s_trap_entry (trap.S) save all 31 registers into a trap_frame on the stack
 * (a dedicated trap stack when the trap comes from a lower privilege level), call the
 * dispatcher, which calls the installed handler, then restore and mret/sret to the epc the
 * handler returned.  x[n] is register xn; x[2] is the interrupted sp. Note: the entries use
 * mscratch/sscratch as a temporary, so those CSRs are clobbered by every trap. */
struct trap_frame {
  uint64_t x[32];
};
#define REG_RA 1
#define REG_SP 2
#define REG_A0 10
#define REG_A1 11
#define REG_A7 17

typedef uintptr_t (*trap_handler_t)(uintptr_t cause, uintptr_t epc, uintptr_t tval,
                                    struct trap_frame *f);
void m_trap_entry(void);
void s_trap_entry(void);
void m_trap_vector_table(void); /* vectored-mode table (16 entries, see trap.S) */
extern volatile uint64_t vector_hit; /* last vector index used in the vectored table */
/* Install the C handler (NULL -> default: report "unexpected trap" and fail). */
void set_m_handler(trap_handler_t h);
void set_s_handler(trap_handler_t h);
/* Point mtvec / stvec at the runtime's trap entries (start.S already does mtvec). */
void install_m_trap_vector(void);
void install_s_trap_vector(void);
/* Length in bytes of the instruction at addr (2 or 4), read directly (M-mode / identity). */
static inline unsigned insn_len(uintptr_t addr) {
  return ((*(volatile uint16_t *)addr) & 3) == 3 ? 4 : 2;
}
static inline uint32_t insn_bits(uintptr_t addr) {
  uint32_t lo = *(volatile uint16_t *)addr;
  if ((lo & 3) != 3) return lo;
  return lo | ((uint32_t) * (volatile uint16_t *)(addr + 2) << 16);
}

/* ---- probes: single accesses that may trap ----
 * Call probe_arm(), then a probe_*; if the access traps (in M or S, any handler) the
 * runtime records cause/tval, skips the access (loads return 0) and continues.
 * probe_cause == -1 means no trap happened. */
extern volatile int64_t probe_cause;
extern volatile uint64_t probe_tval;
extern volatile uint64_t probe_exec_armed;
static inline void probe_arm(void) {
  probe_cause = -1;
  probe_tval = 0;
}
uint64_t probe_ld(uintptr_t a);
int64_t probe_lw(uintptr_t a);
uint64_t probe_lwu(uintptr_t a);
int64_t probe_lh(uintptr_t a);
uint64_t probe_lhu(uintptr_t a);
uint64_t probe_lbu(uintptr_t a);
void probe_sd(uintptr_t a, uint64_t v);
void probe_sw(uintptr_t a, uint32_t v);
void probe_sh(uintptr_t a, uint16_t v);
void probe_sb(uintptr_t a, uint8_t v);
int64_t probe_amoadd_w(uintptr_t a, uint32_t v); /* returns old value */
uint64_t probe_amoadd_d(uintptr_t a, uint64_t v);
int64_t probe_lr_w(uintptr_t a);
uint64_t probe_sc_w(uintptr_t a, uint32_t v); /* returns sc result */
/* Jump (jalr) to addr with ra = return point; a fetch fault there (cause 0/1/12) returns
 * to the caller. Returns the callee's a0 if it ran. Set probe_exec_armed around it. */
uint64_t probe_exec_raw(uintptr_t a);
static inline uint64_t probe_exec(uintptr_t a) {
  probe_exec_armed = 1;
  uint64_t r = probe_exec_raw(a);
  probe_exec_armed = 0;
  return r;
}

/* ---- running code in a lower privilege mode ----
 * run_lower(mode, fn, arg, va_offset) mret's into `mode` (PRV_S / PRV_U) running fn(arg)
 * on the current stack; when fn returns, the runtime comes back to M-mode and run_lower
 * returns fn's result. va_offset is added to the code and stack addresses (for running at
 * an alias mapping under paging); 0 normally. Traps from the lower mode go to the handlers
 * as usual. */
typedef long (*lower_fn_t)(long);
long run_lower(int mode, lower_fn_t fn, long arg, uintptr_t va_offset);
#define LOWER_EXIT_MAGIC 0x4c4f5745525f4558UL /* "LOWER_EX" */

/* setjmp/longjmp (callee-saved registers only) */
typedef uint64_t jmp_buf[14];
int setjmp(jmp_buf jb) __attribute__((returns_twice));
void longjmp(jmp_buf jb, int v) __attribute__((noreturn));

/* ---- provoking traps ----
 * record_and_skip_trap: an M trap handler for tests that provoke traps on purpose: it
 * records the trap in `last_trap` and resumes after the instruction. */
struct recorded_trap {
  volatile uintptr_t cause, tval, epc;
  volatile int count;
};
extern struct recorded_trap last_trap;
uintptr_t record_and_skip_trap(uintptr_t cause, uintptr_t epc, uintptr_t tval,
                               struct trap_frame *f);
void reset_recorded_trap(void); /* cause/tval/epc = -1, count = 0 */

/* ---- test reporting (TAP-like) ---- */
void t_check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int t_failures(void);
int t_finish(const char *name); /* prints "NAME: PASS" / "NAME: FAIL (k of n)"; returns exit code */

/* ---- misc ---- */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t n); /* standard CRC-32 (IEEE) */

#endif
