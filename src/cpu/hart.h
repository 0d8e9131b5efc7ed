// Hart: one RV64IMAFDC hart (M, S and U modes, Sv39) run by an interpreter.
//
// Instructions are decoded once per physical code page into DecodedInsn
// records (see code_cache.h) and dispatched with computed goto. Loads and
// stores go through a direct-mapped software TLB that holds host pointers;
// filling a *write* entry logs the page in GuestRam's dirty log, so the fast
// path needs no dirty marking of its own.
//
// Floating point (F and D, src/cpu/fpu/) runs on the host's FPU where the
// rounding mode allows: while run() executes, the hart thread's MXCSR holds
// the guest's rounding mode and flags (see HostFpContext); run() restores the
// host's before it returns.
//
// Threads: everything runs on the hart's own thread except request_exit()
// and set_interrupt_pending(), which any thread may call (a device raising a
// line, another hart's IPI through the CLINT). With several harts, loads and
// stores of different harts race as on hardware; AMOs and LR/SC are atomic
// on the host (LR/SC as a compare-and-swap of the value LR read, as QEMU
// does), and so are the hardware A/D updates of page-table entries.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cpu/code_cache.h"
#include "cpu/csr_numbers.h"
#include "cpu/decoded_insn.h"
#include "cpu/fpu/host_fpu.h"
#include "devices/interrupt_target.h"
#include "memory/address_space.h"
#include "state/state_visitor.h"

namespace ferry {

enum class Priv : uint8_t { kUser = 0, kSupervisor = 1, kMachine = 3 };

enum class StopReason {
  kBudget,       // the instruction budget ran out
  kWfi,          // the hart executed WFI with no interrupt pending
  kExitRequest,  // request_exit() was called, or a device asked for attention
};

class Hart : public StateOwner, public InterruptTarget {
 public:
  // `read_time` returns the 10 MHz guest timebase (the `time` CSR).
  Hart(AddressSpace& bus, std::function<uint64_t()> read_time, uint64_t hart_id = 0);
  ~Hart() override;

  // Power-on state: M-mode at `pc`, caches flushed.
  void reset(uint64_t pc);

  // Runs at most about `max_instructions` (a page of straight-line code may
  // overshoot it) and returns why it stopped.
  StopReason run(uint64_t max_instructions);

  // Any thread: makes run() return at its next block boundary.
  void request_exit() { exit_request_.store(true, std::memory_order_release); }

  // Drops every write-TLB entry, so the next store to each page is logged
  // again. vCPU thread (or while the hart is not running): the migration
  // calls it together with harvesting the dirty log (Vm::sync_dirty_log).
  void drop_write_tlb() { flush_write_tlb(); }

  // Sstc: recomputes STIP from `time` and stimecmp (the VM calls it at every
  // run-slice boundary and before WFI sleeps). Hart's own thread.
  void update_sstc_timer();
  // The tick count at which the Sstc timer fires (~0: off).
  uint64_t sstc_deadline() const {
    return (menvcfg_ & envcfg::kStce) ? stimecmp_ : ~0ull;
  }
  static constexpr uint64_t kCacheBlock = 64;  // riscv,cbo[mz]-block-size

  // True when an interrupt is pending and enabled in mie (wakes WFI).
  bool interrupt_pending() const { return (mip() & mie_) != 0; }

  // Any thread. Calls the wake-up hook when a bit rises, so a hart asleep in
  // WFI notices.
  void set_interrupt_pending(unsigned mip_bit, bool level) override;
  void set_wakeup(std::function<void()> wake) { wake_ = std::move(wake); }
  // Several harts share the memory: a fence.i must then drop this hart's
  // decoded code, since another hart may have written it through its own
  // write TLB without invalidating it here.
  void set_shares_memory(bool shared) { shares_memory_ = shared; }
  uint64_t hart_id() const { return hart_id_; }

  // --- register access (loader, tests, debugging) ---
  uint64_t reg(unsigned i) const { return x_[i]; }
  void set_reg(unsigned i, uint64_t v) { if (i != 0 && i < 32) x_[i] = v; }
  uint64_t freg(unsigned i) const { return f_[i]; }
  void set_freg(unsigned i, uint64_t v) { if (i < 32) f_[i] = v; }
  uint64_t pc() const { return pc_; }
  void set_pc(uint64_t pc) { pc_ = pc; }
  Priv priv() const { return priv_; }
  uint64_t instret() const { return instret_; }
  bool waiting_for_interrupt() const { return wfi_; }
  // Reads a CSR as M-mode would, without side effects; false if unknown.
  bool debug_read_csr(uint16_t csr, uint64_t& value);

  // StateOwner: the architectural state (caches are rebuilt, never saved).
  std::string_view state_name() const override { return "cpu"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor& v) override;
  void post_load() override;

  void flush_tlb();

 private:
  enum class Access { kRead, kWrite, kFetch };
  struct TlbEntry {
    uint64_t tag = 1;       // virtual page; 1 = invalid (never page-aligned)
    uintptr_t addend = 0;   // host address = guest virtual + addend
    uint64_t paddr = 0;     // guest-physical page, to find entries by page
  };
  struct FetchTlbEntry {
    uint64_t tag = 1;
    CodePage* page = nullptr;
  };
  static constexpr unsigned kTlbSize = 256;

  // With Sstc on (menvcfg.STCE), STIP is driven by stimecmp, not software.
  uint64_t mip() const {
    const uint64_t sw = (menvcfg_ & envcfg::kStce) ? (mip_sw_ & ~irq::kStip) : mip_sw_;
    return sw | mip_hw_.load(std::memory_order_relaxed);
  }

  // --- traps (trap.cc) ---
  void raise_exception(uint64_t cause, uint64_t tval, uint64_t pc);
  bool take_pending_interrupt();  // true when an interrupt was taken
  void enter_trap(uint64_t cause, uint64_t tval, uint64_t pc);
  void do_mret();
  void do_sret();
  void set_priv(Priv p);

  // --- CSRs (csr.cc) ---
  // Executes a CSR instruction; false when it trapped.
  bool csr_op(const DecodedInsn& in, uint64_t pc);
  bool csr_read(uint16_t csr, uint64_t& value);
  bool csr_write(uint16_t csr, uint64_t value);
  bool counter_accessible(uint16_t csr) const;

  // --- floating point ---
  // The F/D state is Dirty: an f register or fcsr was written.
  void mark_fp_dirty() { mstatus_ |= mstatus::kFs | mstatus::kSd; }
  // Moves the flags the host FPU holds for the guest into fflags_.
  void sync_fflags() { fflags_ |= host_fpu_.collect(); }

  // --- memory (mmu.cc) ---
  // Translates a virtual address; returns 0 on success or the fault cause.
  uint64_t translate(uint64_t va, Access access, uint64_t& pa);
  Priv data_priv() const;
  bool load_slow(uint64_t va, unsigned size, uint64_t& value, uint64_t pc);
  bool store_slow(uint64_t va, unsigned size, uint64_t value, uint64_t pc);
  bool load_aligned(uint64_t va, unsigned size, uint64_t& value, uint64_t pc);
  bool store_aligned(uint64_t va, unsigned size, uint64_t value, uint64_t pc);
  // A host pointer to `size` bytes at `va` for a read-modify-write (AMO),
  // or nullptr with `mmio_pa` set for device memory; false on a trap.
  bool amo_target(uint64_t va, unsigned size, uint8_t*& host, uint64_t& mmio_pa,
                  uint64_t pc);
  bool amo(const DecodedInsn& in, bool dword, uint64_t pc);
  // Zicbom / Zicboz: cbo.inval, cbo.clean, cbo.flush (memory is coherent:
  // only the checks) and cbo.zero (zeroes a kCacheBlock-byte block).
  bool cbo(const DecodedInsn& in, uint64_t pc);
  bool load_reserved(const DecodedInsn& in, bool dword, uint64_t pc);
  bool store_conditional(const DecodedInsn& in, bool dword, uint64_t pc);
  uint64_t mmio_read(uint64_t pa, unsigned size, bool& ok);
  bool mmio_write(uint64_t pa, unsigned size, uint64_t value);
  void flush_write_tlb();
  void flush_write_tlb_page(uint64_t paddr_page);
  // The decoded page holding pc, or nullptr after raising a fetch fault.
  CodePage* fetch_page(uint64_t pc);
  // Executes the 32-bit instruction that straddles a page boundary at pc.
  bool fetch_cross_page(uint64_t pc, DecodedInsn& out);

  // --- interpreter (interpreter.cc) ---
  StopReason interpret(uint64_t budget);

  AddressSpace& bus_;
  GuestRam& ram_;
  std::function<uint64_t()> read_time_;
  CodeCache code_cache_;

  // Architectural state.
  std::array<uint64_t, 33> x_{};  // x_[32] absorbs writes to x0
  uint64_t pc_ = 0;
  Priv priv_ = Priv::kMachine;
  uint64_t hart_id_;
  uint64_t instret_ = 0;
  uint64_t mstatus_ = 0, misa_ = 0, medeleg_ = 0, mideleg_ = 0, mie_ = 0;
  uint64_t mip_sw_ = 0;  // bits written by software (SSIP, STIP, SEIP)
  std::atomic<uint64_t> mip_hw_{0};  // bits driven by devices (MSIP, MTIP, MEIP, SEIP)
  uint64_t mtvec_ = 0, mscratch_ = 0, mepc_ = 0, mcause_ = 0, mtval_ = 0;
  uint64_t mcounteren_ = 0, menvcfg_ = 0, mcountinhibit_ = 0;
  uint64_t stvec_ = 0, sscratch_ = 0, sepc_ = 0, scause_ = 0, stval_ = 0;
  uint64_t scounteren_ = 0, senvcfg_ = 0, satp_ = 0;
  uint64_t stimecmp_ = 0;  // Sstc
  std::array<uint64_t, 2> pmpcfg_{};  // pmpcfg0, pmpcfg2
  std::array<uint64_t, csr::kPmpEntries> pmpaddr_{};
  std::array<uint64_t, csr::kHpmLast + 1> mhpmevent_{};
  std::array<uint64_t, csr::kHpmLast + 1> mhpmcounter_{};  // writable, never count
  uint64_t reservation_ = ~0ull;  // LR/SC reserved address; ~0 = none
  uint64_t reservation_value_ = 0;  // what LR read there (SC compares and swaps it)
  std::array<uint64_t, 32> f_{};  // f registers (singles NaN-boxed)
  uint32_t fflags_ = 0;           // fcsr[4:0], without the flags host_fpu_ holds
  uint32_t frm_ = 0;              // fcsr[7:5]

  // Caches (rebuilt, never migrated).
  std::array<TlbEntry, kTlbSize> read_tlb_;
  std::array<TlbEntry, kTlbSize> write_tlb_;
  std::array<FetchTlbEntry, kTlbSize> fetch_tlb_;
  uint64_t fetch_tlb_generation_ = 0;  // ram_.code_generation() when filled
  std::array<DecodedInsn, 3> cross_page_insn_{};  // see fetch_cross_page
  fpu::HostFpContext host_fpu_;  // the host FPU while run() executes guest FP

  std::atomic<bool> exit_request_{false};
  std::function<void()> wake_;
  bool shares_memory_ = false;
  bool flush_code_ = false;  // a fence.i asked to drop the decoded code
  bool block_break_ = false;  // a slow path asks the interpreter to stop
  bool wfi_ = false;
};

}  // namespace ferry
