// The interpreter loop: decoded instructions dispatched with computed goto.
//
// A "block" is a run of instructions inside one code page. Control leaves the
// block (back to the outer loop, which checks interrupts, exit requests and
// the budget) on a jump to another page, a trap, a CSR access, an MMIO access
// and the end of the page. Jumps within the page stay in the block as long as
// the budget lasts.
#include <atomic>
#include <bit>
#include <cstring>

#include "cpu/fpu/fp_arithmetic.h"
#include "cpu/fpu/fp_bits.h"
#include "cpu/fpu/fp_compare.h"
#include "cpu/fpu/fp_to_integer.h"
#include "cpu/hart.h"

namespace ferry {

namespace {
inline int64_t sx32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }
constexpr uint64_t kPageMask = ~(kPageSize - 1);
}  // namespace

StopReason Hart::run(uint64_t max_instructions) {
  if (flush_code_) {
    // After a fence.i on a hart that shares memory (not while executing
    // from a decoded page: the interpreter has returned).
    flush_code_ = false;
    code_cache_.clear();
    for (auto& e : fetch_tlb_) e.tag = ~0ull;  // invalid: never page-aligned
  }
  if (exit_request_.exchange(false, std::memory_order_acq_rel))
    return StopReason::kExitRequest;
  const StopReason reason = interpret(max_instructions);
  sync_fflags();
  host_fpu_.release();  // the host gets its own MXCSR back
  return reason;
}

StopReason Hart::interpret(uint64_t budget) {
  // Two handlers per operation: [2 * op] for 2-byte, [2 * op + 1] for
  // 4-byte instructions (DecodedInsn::handler picks one).
  static const void* const kLabels[] = {
#define FERRY_OP_LABEL(name) &&op_##name##_2, &&op_##name##_4,
      FERRY_OPS(FERRY_OP_LABEL)
#undef FERRY_OP_LABEL
  };
  uint64_t* const x = x_.data();
  uint64_t pc = pc_;
  uint64_t icount = 0;
  StopReason reason = StopReason::kBudget;
  DecodedInsn* in = nullptr;
  CodePage* page = nullptr;
  // PC = pc_bias + address of `in` / 8 (one 16-byte record per 2-byte slot):
  // one value for the current page instead of its virtual and host bases.
  uint64_t pc_bias = 0;
  uint64_t jump_vbase = 0;  // page that jumps may stay in (~0: none)

#define DISPATCH() goto* kLabels[in->handler]
  // The pc of the current instruction, derived from its slot (16-byte
  // records, one per 2-byte slot); not kept up to date per instruction.
#define PC (pc_bias + (reinterpret_cast<uintptr_t>(in) >> 3))
  // The record of the instruction at `va`, in the current page.
#define RECORD_AT(va) reinterpret_cast<DecodedInsn*>(((va) - pc_bias) << 3)
#define NEXT()        \
  do {                \
    ++icount;         \
    in += STEP / 2;   \
    DISPATCH();       \
  } while (0)
  // Leaves the block after the current instruction retired.
#define RETIRE_AND_EXIT()  \
  do {                     \
    pc = PC + in->len;     \
    ++icount;              \
    goto block_exit;       \
  } while (0)
  // The current instruction trapped: pc_ holds the handler address.
#define TRAPPED()   \
  do {              \
    pc = pc_;       \
    goto block_exit; \
  } while (0)
#define JUMP(target_expr)                                                 \
  do {                                                                    \
    const uint64_t target_ = (target_expr);                               \
    ++icount;                                                             \
    if ((target_ & kPageMask) == jump_vbase && icount < budget) {         \
      in = RECORD_AT(target_);                                            \
      DISPATCH();                                                         \
    }                                                                     \
    pc = target_;                                                         \
    goto block_exit;                                                      \
  } while (0)
  // Keeps instret_ exact for CSR reads and traps.
#define SYNC_COUNT()                                 \
  do {                                               \
    instret_ += icount;                              \
    budget = budget > icount ? budget - icount : 0;  \
    icount = 0;                                      \
  } while (0)
#define AFTER_SLOW_STORE()                                                   \
  do {                                                                       \
    if (block_break_ || ram_.code_generation() != fetch_tlb_generation_) {   \
      block_break_ = false;                                                  \
      RETIRE_AND_EXIT();                                                     \
    }                                                                        \
  } while (0)
#define LOAD(type, size)                                                        \
  do {                                                                          \
    const uint64_t va = x[in->rs1] + static_cast<int64_t>(in->imm);            \
    const TlbEntry& e = read_tlb_[(va >> kPageShift) % kTlbSize];               \
    if (__builtin_expect(e.tag == (va & (kPageMask | (size - 1))), 1)) {        \
      type v_;                                                                  \
      std::memcpy(&v_, reinterpret_cast<const void*>(va + e.addend), size);    \
      x[in->rd] = static_cast<uint64_t>(static_cast<int64_t>(v_));             \
    } else {                                                                    \
      uint64_t v_;                                                              \
      if (!load_slow(va, size, v_, PC)) TRAPPED();                              \
      x[in->rd] = static_cast<uint64_t>(static_cast<int64_t>(static_cast<type>(v_))); \
      if (block_break_) {                                                       \
        block_break_ = false;                                                   \
        RETIRE_AND_EXIT();                                                      \
      }                                                                         \
    }                                                                           \
    NEXT();                                                                     \
  } while (0)
#define STORE(type, size)                                                       \
  do {                                                                          \
    const uint64_t va = x[in->rs1] + static_cast<int64_t>(in->imm);            \
    const TlbEntry& e = write_tlb_[(va >> kPageShift) % kTlbSize];              \
    if (__builtin_expect(e.tag == (va & (kPageMask | (size - 1))), 1)) {        \
      const type v_ = static_cast<type>(x[in->rs2]);                            \
      std::memcpy(reinterpret_cast<void*>(va + e.addend), &v_, size);          \
    } else {                                                                    \
      if (!store_slow(va, size, x[in->rs2], PC)) TRAPPED();                     \
      AFTER_SLOW_STORE();                                                       \
    }                                                                           \
    NEXT();                                                                     \
  } while (0)
#define ALU(expr)        \
  do {                   \
    x[in->rd] = (expr);  \
    NEXT();              \
  } while (0)
#define RS1 x[in->rs1]
#define RS2 x[in->rs2]
#define IMM static_cast<uint64_t>(static_cast<int64_t>(in->imm))
// --- F and D (handlers in interpreter_fp_ops.inc) ---
// The f register an instruction field names.
#define FREG(field) (f_.data()[in->field])
// Every FP instruction is illegal while mstatus.FS is Off.
#define FP_REQUIRE()                                                            \
  if (__builtin_expect(!(mstatus_ & mstatus::kFs), 0)) goto L(ILLEGAL)
// `var` = the instruction's rounding mode (frm for dyn); a reserved one traps.
#define FP_ROUNDING(var)                                                        \
  fpu::RoundingMode var = static_cast<fpu::RoundingMode>(in->aux);             \
  if (var == fpu::kDynamic) {                                                   \
    var = static_cast<fpu::RoundingMode>(frm_);                                 \
    if (__builtin_expect(var > fpu::kNearestMaxMag, 0)) goto L(ILLEGAL);        \
  }
#define FP_IN(F, reg) fpu::Register<fpu::F>::read(FREG(reg))
// Writes f[rd] (any write makes the F/D state Dirty).
#define FP_RESULT(F, expr)                                                      \
  do {                                                                          \
    FREG(rd) = fpu::Register<fpu::F>::write(expr);                             \
    mark_fp_dirty();                                                            \
    NEXT();                                                                     \
  } while (0)
#define FP_ROUNDED(F, expr)                                                     \
  do {                                                                          \
    FP_REQUIRE();                                                               \
    FP_ROUNDING(rm_);                                                           \
    FP_RESULT(F, expr);                                                         \
  } while (0)
#define FP_BINARY(F, op) \
  FP_ROUNDED(F, fpu::op<fpu::F>(host_fpu_, FP_IN(F, rs1), FP_IN(F, rs2), rm_, fflags_))
#define FP_FUSED(F, negate_product, negate_addend)                              \
  FP_ROUNDED(F, fpu::fma<fpu::F>(host_fpu_, FP_IN(F, rs1), FP_IN(F, rs2),       \
                                 fpu::Register<fpu::F>::read(FREG(imm)),       \
                                 negate_product, negate_addend, rm_, fflags_))
// Non-rounding operations with an f result and the flags in fflags_.
#define FP_EXACT(F, expr)                                                       \
  do {                                                                          \
    FP_REQUIRE();                                                               \
    FP_RESULT(F, expr);                                                         \
  } while (0)
// Operations with an x result; raised flags make the F/D state Dirty.
#define FP_TO_X(expr)                                                           \
  do {                                                                          \
    FP_REQUIRE();                                                               \
    uint32_t flags_ = 0;                                                        \
    x[in->rd] = (expr);                                                         \
    if (flags_) {                                                               \
      fflags_ |= flags_;                                                        \
      mark_fp_dirty();                                                          \
    }                                                                           \
    NEXT();                                                                     \
  } while (0)
// FCVT to and from an integer of kind fpu::IntegerKind::K.
#define FP_TO_INTEGER(F, K)                                                     \
  do {                                                                          \
    FP_ROUNDING(rm_);                                                           \
    FP_TO_X((fpu::to_integer<fpu::F, fpu::IntegerKind::K>(host_fpu_, FP_IN(F, rs1), rm_, flags_))); \
  } while (0)
#define FP_FROM_INTEGER(F, K) \
  FP_ROUNDED(F, (fpu::from_integer<fpu::F, fpu::IntegerKind::K>(host_fpu_, x[in->rs1], rm_, fflags_)))
// FP loads and stores: LOAD/STORE with an f register and the FS check.
#define FP_LOAD(type, size, to_reg)                                             \
  do {                                                                          \
    FP_REQUIRE();                                                               \
    const uint64_t va = x[in->rs1] + static_cast<int64_t>(in->imm);            \
    const TlbEntry& e = read_tlb_[(va >> kPageShift) % kTlbSize];               \
    type v_;                                                                    \
    if (__builtin_expect(e.tag == (va & (kPageMask | (size - 1))), 1)) {        \
      std::memcpy(&v_, reinterpret_cast<const void*>(va + e.addend), size);    \
    } else {                                                                    \
      uint64_t slow_;                                                           \
      if (!load_slow(va, size, slow_, PC)) TRAPPED();                           \
      v_ = static_cast<type>(slow_);                                            \
      if (block_break_) {                                                       \
        block_break_ = false;                                                   \
        FREG(rd) = to_reg(v_);                                                 \
        mark_fp_dirty();                                                        \
        RETIRE_AND_EXIT();                                                      \
      }                                                                         \
    }                                                                           \
    FREG(rd) = to_reg(v_);                                                     \
    mark_fp_dirty();                                                            \
    NEXT();                                                                     \
  } while (0)
#define FP_STORE(type, size)                                                    \
  do {                                                                          \
    FP_REQUIRE();                                                               \
    const uint64_t va = x[in->rs1] + static_cast<int64_t>(in->imm);            \
    const TlbEntry& e = write_tlb_[(va >> kPageShift) % kTlbSize];              \
    const type v_ = static_cast<type>(FREG(rs2));                              \
    if (__builtin_expect(e.tag == (va & (kPageMask | (size - 1))), 1)) {        \
      std::memcpy(reinterpret_cast<void*>(va + e.addend), &v_, size);         \
    } else {                                                                    \
      if (!store_slow(va, size, v_, PC)) TRAPPED();                             \
      AFTER_SLOW_STORE();                                                       \
    }                                                                           \
    NEXT();                                                                     \
  } while (0)

  for (;;) {
    if (icount >= budget) break;
    if (exit_request_.load(std::memory_order_relaxed)) {
      exit_request_.store(false, std::memory_order_relaxed);
      reason = StopReason::kExitRequest;
      break;
    }
    if (mip() & mie_) {
      pc_ = pc;
      if (take_pending_interrupt()) pc = pc_;
    }
    if (ram_.code_generation() != fetch_tlb_generation_) {
      for (auto& e : fetch_tlb_) e.tag = ~0ull;
      fetch_tlb_generation_ = ram_.code_generation();
    }
    {
      const FetchTlbEntry& fe = fetch_tlb_[(pc >> kPageShift) % kTlbSize];
      if (fe.tag == (pc & kPageMask)) {
        page = fe.page;
      } else {
        pc_ = pc;
        page = fetch_page(pc);
        if (!page) {
          // A fetch fault: charge the budget so a trap loop (a bad mtvec)
          // cannot keep run() from returning.
          pc = pc_;
          if (budget > icount) --budget;
          continue;
        }
        fetch_tlb_generation_ = ram_.code_generation();
      }
    }
    jump_vbase = pc & kPageMask;
    pc_bias = jump_vbase - (reinterpret_cast<uintptr_t>(page->insn.data()) >> 3);
    in = RECORD_AT(pc);
    DISPATCH();

#define L(name) op_##name##_2
#define STEP 2
#include "cpu/interpreter_ops.inc"
    // Operations without a compressed form: their 2-byte entries are never used.
#define FERRY_NO_COMPRESSED_FORM(name) L(name):
    FERRY_OPS_32BIT_ONLY(FERRY_NO_COMPRESSED_FORM)
#undef FERRY_NO_COMPRESSED_FORM
    goto L(ILLEGAL);
#undef L
#undef STEP
#define L(name) op_##name##_4
#define STEP 4
#include "cpu/interpreter_ops.inc"
#include "cpu/interpreter_fp_ops.inc"
#include "cpu/interpreter_bitmanip_ops.inc"
#undef L
#undef STEP

  block_exit:;
  }

#undef DISPATCH
#undef NEXT
#undef PC
#undef RECORD_AT
#undef RETIRE_AND_EXIT
#undef TRAPPED
#undef JUMP
#undef SYNC_COUNT
#undef AFTER_SLOW_STORE
#undef LOAD
#undef STORE
#undef ALU
#undef RS1
#undef RS2
#undef IMM
#undef FREG
#undef FP_REQUIRE
#undef FP_ROUNDING
#undef FP_IN
#undef FP_RESULT
#undef FP_ROUNDED
#undef FP_BINARY
#undef FP_FUSED
#undef FP_EXACT
#undef FP_TO_X
#undef FP_TO_INTEGER
#undef FP_FROM_INTEGER
#undef FP_LOAD
#undef FP_STORE

  instret_ += icount;
  pc_ = pc;
  x_[0] = 0;
  return reason;
}

}  // namespace ferry
