// Traps: exceptions, interrupts (with delegation), mret and sret.
#include "cpu/hart.h"

namespace ferry {

void Hart::set_priv(Priv p) {
  if (p != priv_) {
    priv_ = p;
    flush_tlb();  // TLB entries were filled under the old privilege
  }
}

void Hart::set_interrupt_pending(unsigned mip_bit, bool level) {
  const uint64_t bit = 1ull << mip_bit;
  if (level) {
    const uint64_t before = mip_hw_.fetch_or(bit, std::memory_order_acq_rel);
    if (!(before & bit) && wake_) wake_();
  } else {
    mip_hw_.fetch_and(~bit, std::memory_order_acq_rel);
  }
}

void Hart::enter_trap(uint64_t cause_value, uint64_t tval, uint64_t pc) {
  const bool interrupt = cause_value & cause::kInterrupt;
  const uint64_t code = cause_value & ~cause::kInterrupt;
  const uint64_t deleg = interrupt ? mideleg_ : medeleg_;
  wfi_ = false;
  if (priv_ <= Priv::kSupervisor && ((deleg >> code) & 1)) {
    scause_ = cause_value;
    sepc_ = pc;
    stval_ = tval;
    uint64_t s = mstatus_ & ~(mstatus::kSpie | mstatus::kSie | mstatus::kSpp);
    if (mstatus_ & mstatus::kSie) s |= mstatus::kSpie;
    if (priv_ == Priv::kSupervisor) s |= mstatus::kSpp;
    mstatus_ = s;
    pc_ = (stvec_ & ~3ull) + ((interrupt && (stvec_ & 1)) ? 4 * code : 0);
    set_priv(Priv::kSupervisor);
    return;
  }
  mcause_ = cause_value;
  mepc_ = pc;
  mtval_ = tval;
  uint64_t m = mstatus_ & ~(mstatus::kMpie | mstatus::kMie | mstatus::kMpp);
  if (mstatus_ & mstatus::kMie) m |= mstatus::kMpie;
  m |= static_cast<uint64_t>(priv_) << mstatus::kMppShift;
  mstatus_ = m;
  pc_ = (mtvec_ & ~3ull) + ((interrupt && (mtvec_ & 1)) ? 4 * code : 0);
  set_priv(Priv::kMachine);
}

void Hart::raise_exception(uint64_t cause_value, uint64_t tval, uint64_t pc) {
  enter_trap(cause_value, tval, pc);
}

bool Hart::take_pending_interrupt() {
  const uint64_t pending = mip() & mie_;
  if (!pending) return false;
  const bool m_enabled = priv_ < Priv::kMachine || (mstatus_ & mstatus::kMie);
  const bool s_enabled = priv_ < Priv::kSupervisor ||
                         (priv_ == Priv::kSupervisor && (mstatus_ & mstatus::kSie));
  uint64_t candidates = m_enabled ? (pending & ~mideleg_) : 0;
  if (!candidates && s_enabled) candidates = pending & mideleg_;
  if (!candidates) return false;
  // Priority order of the privileged spec: MEI, MSI, MTI, SEI, SSI, STI.
  static constexpr unsigned kOrder[] = {11, 3, 7, 9, 1, 5};
  for (unsigned code : kOrder) {
    if (candidates & (1ull << code)) {
      enter_trap(cause::kInterrupt | code, 0, pc_);
      return true;
    }
  }
  return false;
}

void Hart::do_mret() {
  const auto mpp = static_cast<Priv>((mstatus_ & mstatus::kMpp) >> mstatus::kMppShift);
  uint64_t m = mstatus_ & ~(mstatus::kMie | mstatus::kMpp);
  if (mstatus_ & mstatus::kMpie) m |= mstatus::kMie;
  m |= mstatus::kMpie;
  if (mpp != Priv::kMachine) m &= ~mstatus::kMprv;
  mstatus_ = m;
  pc_ = mepc_;
  set_priv(mpp);
  flush_tlb();  // MPRV may have changed
}

void Hart::do_sret() {
  const Priv spp = (mstatus_ & mstatus::kSpp) ? Priv::kSupervisor : Priv::kUser;
  uint64_t s = mstatus_ & ~(mstatus::kSie | mstatus::kSpp | mstatus::kMprv);
  if (mstatus_ & mstatus::kSpie) s |= mstatus::kSie;
  s |= mstatus::kSpie;
  mstatus_ = s;
  pc_ = sepc_;
  set_priv(spp);
}

}  // namespace ferry
