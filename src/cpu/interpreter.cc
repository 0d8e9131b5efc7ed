// The interpreter loop: decoded instructions dispatched with computed goto.
//
// A "block" is a run of instructions inside one code page. Control leaves the
// block (back to the outer loop, which checks interrupts, exit requests and
// the budget) on a jump to another page, a trap, a CSR access, an MMIO access
// and the end of the page. Jumps within the page stay in the block as long as
// the budget lasts.
#include <cstring>

#include "cpu/hart.h"

namespace ferry {

namespace {
inline int64_t sx32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }
constexpr uint64_t kPageMask = ~(kPageSize - 1);
}  // namespace

StopReason Hart::run(uint64_t max_instructions) {
  service_flush_requests();
  if (exit_request_.exchange(false, std::memory_order_acq_rel))
    return StopReason::kExitRequest;
  return interpret(max_instructions);
}

StopReason Hart::interpret(uint64_t budget) {
  static const void* const kLabels[] = {
#define FERRY_OP_LABEL(name) &&op_##name,
      FERRY_OPS(FERRY_OP_LABEL)
#undef FERRY_OP_LABEL
  };
  uint64_t* const x = x_.data();
  uint64_t pc = pc_;
  uint64_t icount = 0;
  StopReason reason = StopReason::kBudget;
  DecodedInsn* in = nullptr;
  DecodedInsn* page_base = nullptr;
  CodePage* page = nullptr;
  uint64_t page_vbase = 0;  // virtual address of page_base's first slot
  uint64_t jump_vbase = 0;  // page that jumps may stay in (~0: none)

#define DISPATCH() goto* kLabels[static_cast<unsigned>(in->op)]
  // The pc of the current instruction, derived from its slot (16-byte
  // records, one per 2-byte slot); not kept up to date per instruction.
#define PC (page_vbase + (static_cast<uint64_t>(reinterpret_cast<char*>(in) - \
                                              reinterpret_cast<char*>(page_base)) >> 3))
#define NEXT()                                                              \
  do {                                                                      \
    ++icount;                                                               \
    in = reinterpret_cast<DecodedInsn*>(reinterpret_cast<char*>(in) + in->len * 8); \
    DISPATCH();                                                             \
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
      in = page_base + ((target_ & (kPageSize - 1)) >> 1);                \
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
    page_base = page->insn.data();
    page_vbase = pc & kPageMask;
    jump_vbase = page_vbase;
    in = page_base + ((pc & (kPageSize - 1)) >> 1);
    DISPATCH();

  op_DECODE: {
    const size_t slot = static_cast<size_t>(in - page_base);
    const uint8_t* bytes = page->host + slot * 2;
    uint16_t low;
    std::memcpy(&low, bytes, 2);
    if (instruction_length(low) == 4) {
      if (slot == CodePage::kSlots - 1) {
        DecodedInsn d;
        d.op = Op::CROSS_PAGE;
        d.len = 4;
        *in = d;
      } else {
        uint32_t word;
        std::memcpy(&word, bytes, 4);
        *in = decode_instruction(word);
      }
    } else {
      *in = decode_instruction(low);
    }
    DISPATCH();
  }
  op_PAGE_END:
    pc = PC;
    goto block_exit;
  op_CROSS_PAGE:
    pc = PC;
    pc_ = pc;
    if (!fetch_cross_page(pc, cross_page_insn_[0])) TRAPPED();
    in = &cross_page_insn_[0];
    page_base = in;
    page_vbase = pc;
    jump_vbase = ~0ull;  // no jump may continue inside this "page"
    DISPATCH();
  op_ILLEGAL:
    SYNC_COUNT();
    raise_exception(cause::kIllegal, in->raw, PC);
    TRAPPED();

  op_LUI: ALU(IMM);
  op_AUIPC: ALU(PC + IMM);
  op_JAL: {
    const uint64_t link = PC + in->len;
    x[in->rd] = link;
    JUMP(PC + IMM);
  }
  op_JALR: {
    const uint64_t target = (RS1 + IMM) & ~1ull;
    x[in->rd] = PC + in->len;
    JUMP(target);
  }
  op_BEQ: if (RS1 == RS2) JUMP(PC + IMM); NEXT();
  op_BNE: if (RS1 != RS2) JUMP(PC + IMM); NEXT();
  op_BLT: if (static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2)) JUMP(PC + IMM); NEXT();
  op_BGE: if (static_cast<int64_t>(RS1) >= static_cast<int64_t>(RS2)) JUMP(PC + IMM); NEXT();
  op_BLTU: if (RS1 < RS2) JUMP(PC + IMM); NEXT();
  op_BGEU: if (RS1 >= RS2) JUMP(PC + IMM); NEXT();

  op_LB: LOAD(int8_t, 1);
  op_LH: LOAD(int16_t, 2);
  op_LW: LOAD(int32_t, 4);
  op_LD: LOAD(uint64_t, 8);
  op_LBU: LOAD(uint8_t, 1);
  op_LHU: LOAD(uint16_t, 2);
  op_LWU: LOAD(uint32_t, 4);
  op_SB: STORE(uint8_t, 1);
  op_SH: STORE(uint16_t, 2);
  op_SW: STORE(uint32_t, 4);
  op_SD: STORE(uint64_t, 8);

  op_ADDI: ALU(RS1 + IMM);
  op_SLTI: ALU(static_cast<int64_t>(RS1) < in->imm ? 1 : 0);
  op_SLTIU: ALU(RS1 < IMM ? 1 : 0);
  op_XORI: ALU(RS1 ^ IMM);
  op_ORI: ALU(RS1 | IMM);
  op_ANDI: ALU(RS1 & IMM);
  op_SLLI: ALU(RS1 << in->imm);
  op_SRLI: ALU(RS1 >> in->imm);
  op_SRAI: ALU(static_cast<uint64_t>(static_cast<int64_t>(RS1) >> in->imm));
  op_ADD: ALU(RS1 + RS2);
  op_SUB: ALU(RS1 - RS2);
  op_SLL: ALU(RS1 << (RS2 & 63));
  op_SLT: ALU(static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2) ? 1 : 0);
  op_SLTU: ALU(RS1 < RS2 ? 1 : 0);
  op_XOR: ALU(RS1 ^ RS2);
  op_SRL: ALU(RS1 >> (RS2 & 63));
  op_SRA: ALU(static_cast<uint64_t>(static_cast<int64_t>(RS1) >> (RS2 & 63)));
  op_OR: ALU(RS1 | RS2);
  op_AND: ALU(RS1 & RS2);
  op_ADDIW: ALU(static_cast<uint64_t>(sx32(RS1 + IMM)));
  op_SLLIW: ALU(static_cast<uint64_t>(sx32(RS1 << in->imm)));
  op_SRLIW: ALU(static_cast<uint64_t>(sx32(static_cast<uint32_t>(RS1) >> in->imm)));
  op_SRAIW: ALU(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> in->imm)));
  op_ADDW: ALU(static_cast<uint64_t>(sx32(RS1 + RS2)));
  op_SUBW: ALU(static_cast<uint64_t>(sx32(RS1 - RS2)));
  op_SLLW: ALU(static_cast<uint64_t>(sx32(RS1 << (RS2 & 31))));
  op_SRLW: ALU(static_cast<uint64_t>(sx32(static_cast<uint32_t>(RS1) >> (RS2 & 31))));
  op_SRAW: ALU(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> (RS2 & 31))));

  op_MUL: ALU(RS1 * RS2);
  op_MULH: ALU(static_cast<uint64_t>((static_cast<__int128>(static_cast<int64_t>(RS1)) *
                                       static_cast<__int128>(static_cast<int64_t>(RS2))) >> 64));
  op_MULHSU: ALU(static_cast<uint64_t>((static_cast<__int128>(static_cast<int64_t>(RS1)) *
                                         static_cast<__int128>(static_cast<unsigned __int128>(RS2))) >> 64));
  op_MULHU: ALU(static_cast<uint64_t>((static_cast<unsigned __int128>(RS1) *
                                        static_cast<unsigned __int128>(RS2)) >> 64));
  op_DIV: {
    const int64_t a = static_cast<int64_t>(RS1), b = static_cast<int64_t>(RS2);
    ALU(b == 0 ? ~0ull
               : (a == INT64_MIN && b == -1) ? static_cast<uint64_t>(a)
                                             : static_cast<uint64_t>(a / b));
  }
  op_DIVU: ALU(RS2 == 0 ? ~0ull : RS1 / RS2);
  op_REM: {
    const int64_t a = static_cast<int64_t>(RS1), b = static_cast<int64_t>(RS2);
    ALU(b == 0 ? static_cast<uint64_t>(a)
               : (a == INT64_MIN && b == -1) ? 0 : static_cast<uint64_t>(a % b));
  }
  op_REMU: ALU(RS2 == 0 ? RS1 : RS1 % RS2);
  op_MULW: ALU(static_cast<uint64_t>(sx32(RS1 * RS2)));
  op_DIVW: {
    const int32_t a = static_cast<int32_t>(RS1), b = static_cast<int32_t>(RS2);
    ALU(static_cast<uint64_t>(static_cast<int64_t>(
        b == 0 ? -1 : (a == INT32_MIN && b == -1) ? a : a / b)));
  }
  op_DIVUW: {
    const uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
    ALU(static_cast<uint64_t>(sx32(b == 0 ? ~0u : a / b)));
  }
  op_REMW: {
    const int32_t a = static_cast<int32_t>(RS1), b = static_cast<int32_t>(RS2);
    ALU(static_cast<uint64_t>(static_cast<int64_t>(
        b == 0 ? a : (a == INT32_MIN && b == -1) ? 0 : a % b)));
  }
  op_REMUW: {
    const uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
    ALU(static_cast<uint64_t>(sx32(b == 0 ? a : a % b)));
  }

  op_LR_W:
  op_LR_D:
    SYNC_COUNT();
    if (!load_reserved(*in, in->op == Op::LR_D, PC)) TRAPPED();
    if (block_break_) { block_break_ = false; RETIRE_AND_EXIT(); }
    NEXT();
  op_SC_W:
  op_SC_D:
    SYNC_COUNT();
    if (!store_conditional(*in, in->op == Op::SC_D, PC)) TRAPPED();
    AFTER_SLOW_STORE();
    NEXT();
  op_AMO_W:
  op_AMO_D:
    SYNC_COUNT();
    if (!amo(*in, in->op == Op::AMO_D, PC)) TRAPPED();
    AFTER_SLOW_STORE();
    NEXT();

  op_FENCE: NEXT();
  op_FENCE_I: RETIRE_AND_EXIT();  // stores to code pages already invalidate it
  op_ECALL:
    SYNC_COUNT();
    raise_exception(priv_ == Priv::kUser         ? cause::kEcallU
                    : priv_ == Priv::kSupervisor ? cause::kEcallS
                                                 : cause::kEcallM,
                    0, PC);
    TRAPPED();
  op_EBREAK:
    SYNC_COUNT();
    raise_exception(cause::kBreakpoint, 0, PC);  // tval 0, as QEMU
    TRAPPED();
  op_MRET:
    SYNC_COUNT();
    if (priv_ != Priv::kMachine) {
      raise_exception(cause::kIllegal, in->raw, PC);
      TRAPPED();
    }
    do_mret();
    ++icount;
    pc = pc_;
    goto block_exit;
  op_SRET:
    SYNC_COUNT();
    if (priv_ == Priv::kUser ||
        (priv_ == Priv::kSupervisor && (mstatus_ & mstatus::kTsr))) {
      raise_exception(cause::kIllegal, in->raw, PC);
      TRAPPED();
    }
    do_sret();
    ++icount;
    pc = pc_;
    goto block_exit;
  op_WFI:
    SYNC_COUNT();
    if (priv_ == Priv::kUser ||
        (priv_ == Priv::kSupervisor && (mstatus_ & mstatus::kTw))) {
      raise_exception(cause::kIllegal, in->raw, PC);
      TRAPPED();
    }
    pc = PC + in->len;
    ++icount;
    if (!interrupt_pending()) {
      wfi_ = true;
      reason = StopReason::kWfi;
      break;
    }
    goto block_exit;
  op_SFENCE_VMA:
    SYNC_COUNT();
    if (priv_ == Priv::kUser ||
        (priv_ == Priv::kSupervisor && (mstatus_ & mstatus::kTvm))) {
      raise_exception(cause::kIllegal, in->raw, PC);
      TRAPPED();
    }
    flush_tlb();
    RETIRE_AND_EXIT();
  op_CSRRW:
  op_CSRRS:
  op_CSRRC:
  op_CSRRWI:
  op_CSRRSI:
  op_CSRRCI:
    SYNC_COUNT();
    if (!csr_op(*in, PC)) TRAPPED();
    block_break_ = false;
    RETIRE_AND_EXIT();

  block_exit:;
  }

#undef DISPATCH
#undef NEXT
#undef PC
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

  instret_ += icount;
  pc_ = pc;
  x_[0] = 0;
  return reason;
}

}  // namespace ferry
