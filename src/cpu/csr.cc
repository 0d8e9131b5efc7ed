// Control and status registers: access checks, reads, writes and their
// side effects. Unknown CSRs raise an illegal-instruction trap, because
// firmware probes for optional ones that way.
#include "cpu/hart.h"

namespace ferry {

namespace {
constexpr uint64_t kMedelegWritable =
    (1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) |
    (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 8) | (1ull << 9) |
    (1ull << 12) | (1ull << 13) | (1ull << 15);
constexpr uint64_t kMieWritable = irq::kAll;
constexpr uint64_t kMipWritable = irq::kSsip | irq::kStip | irq::kSeip;
constexpr uint64_t kPmpAddrMask = (1ull << 54) - 1;
constexpr uint64_t kSatpModeSv39 = 8;

uint64_t legal_tvec(uint64_t old_value, uint64_t value) {
  return (value & 3) < 2 ? value : old_value;  // modes 2 and 3 are reserved
}
}  // namespace

// An envcfg write: CBIE's reserved value 2 keeps the old field (WARL).
static uint64_t legal_envcfg(uint64_t old_value, uint64_t value, uint64_t writable) {
  uint64_t next = value & writable;
  if ((next & envcfg::kCbie) == (2ull << 4)) next = (next & ~envcfg::kCbie) | (old_value & envcfg::kCbie);
  return next;
}

void Hart::update_sstc_timer() {
  set_interrupt_pending(kMipStip, (menvcfg_ & envcfg::kStce) && read_time_() >= stimecmp_);
}

bool Hart::counter_accessible(uint16_t csr) const {
  const uint64_t bit = 1ull << (csr & 31);
  if (priv_ < Priv::kMachine && !(mcounteren_ & bit)) return false;
  if (priv_ < Priv::kSupervisor && !(scounteren_ & bit)) return false;
  return true;
}

bool Hart::csr_read(uint16_t csr, uint64_t& v) {
  using namespace csr;
  if (csr >= kHpmCounter3 && csr <= kHpmCounter3 + (kHpmLast - kHpmFirst)) {
    v = mhpmcounter_[csr - kHpmCounter3 + kHpmFirst];
    return true;
  }
  if (csr >= kMhpmcounter3 && csr <= kMhpmcounter3 + (kHpmLast - kHpmFirst)) {
    v = mhpmcounter_[csr - kMhpmcounter3 + kHpmFirst];
    return true;
  }
  if (csr >= kMhpmevent3 && csr <= kMhpmevent3 + (kHpmLast - kHpmFirst)) {
    v = mhpmevent_[csr - kMhpmevent3 + kHpmFirst];
    return true;
  }
  if (csr >= kPmpaddr0 && csr < kPmpaddr0 + kPmpEntries) {
    v = pmpaddr_[csr - kPmpaddr0];
    return true;
  }
  switch (csr) {
    case kFflags: sync_fflags(); v = fflags_; return true;
    case kFrm: v = frm_; return true;
    case kFcsr: sync_fflags(); v = (frm_ << 5) | fflags_; return true;
    case kCycle: case kInstret: case kMcycle: case kMinstret: v = instret_; return true;
    case kTime: v = read_time_(); return true;
    case kSstatus: v = mstatus_ & mstatus::kSVisible; return true;
    case kSie: v = mie_ & mideleg_; return true;
    case kStvec: v = stvec_; return true;
    case kScounteren: v = scounteren_; return true;
    case kSenvcfg: v = senvcfg_; return true;
    case kSscratch: v = sscratch_; return true;
    case kSepc: v = sepc_; return true;
    case kScause: v = scause_; return true;
    case kStval: v = stval_; return true;
    case kSip: v = mip() & mideleg_; return true;
    case kStimecmp: v = stimecmp_; return true;
    case kSatp: v = satp_; return true;
    case kMvendorid: case kMarchid: case kMimpid: case kMconfigptr: v = 0; return true;
    case kMhartid: v = hart_id_; return true;
    case kMstatus: v = mstatus_; return true;
    case kMisa: v = misa_; return true;
    case kMedeleg: v = medeleg_; return true;
    case kMideleg: v = mideleg_; return true;
    case kMie: v = mie_; return true;
    case kMtvec: v = mtvec_; return true;
    case kMcounteren: v = mcounteren_; return true;
    case kMenvcfg: v = menvcfg_; return true;
    case kMcountinhibit: v = mcountinhibit_; return true;
    case kMscratch: v = mscratch_; return true;
    case kMepc: v = mepc_; return true;
    case kMcause: v = mcause_; return true;
    case kMtval: v = mtval_; return true;
    case kMip: v = mip(); return true;
    case kPmpcfg0: v = pmpcfg_[0]; return true;
    case kPmpcfg0 + 2: v = pmpcfg_[1]; return true;
  }
  return false;
}

bool Hart::csr_write(uint16_t csr, uint64_t v) {
  using namespace csr;
  if (csr >= kMhpmcounter3 && csr <= kMhpmcounter3 + (kHpmLast - kHpmFirst)) {
    mhpmcounter_[csr - kMhpmcounter3 + kHpmFirst] = v;  // no events are counted
    return true;
  }
  if (csr >= kMhpmevent3 && csr <= kMhpmevent3 + (kHpmLast - kHpmFirst)) {
    mhpmevent_[csr - kMhpmevent3 + kHpmFirst] = v;
    return true;
  }
  if (csr >= kPmpaddr0 && csr < kPmpaddr0 + kPmpEntries) {
    const unsigned i = csr - kPmpaddr0;
    const uint8_t cfg = (pmpcfg_[i / 8] >> (8 * (i % 8))) & 0xff;
    if (!(cfg & 0x80)) pmpaddr_[i] = v & kPmpAddrMask;  // locked entries keep their value
    return true;
  }
  switch (csr) {
    case kFflags:
    case kFrm:
    case kFcsr:
      sync_fflags();  // the pending flags are part of what is overwritten
      if (csr != kFrm) fflags_ = static_cast<uint32_t>(v) & fpu::kAllFlags;
      if (csr == kFrm) frm_ = static_cast<uint32_t>(v) & 7;
      if (csr == kFcsr) frm_ = static_cast<uint32_t>(v >> 5) & 7;
      mark_fp_dirty();
      return true;
    case kMcycle: case kMinstret: instret_ = v; return true;
    case kSstatus:
      v = (mstatus_ & ~mstatus::kSWritable) | (v & mstatus::kSWritable);
      [[fallthrough]];
    case kMstatus: {
      uint64_t next = (mstatus_ & ~mstatus::kMWritable) | (v & mstatus::kMWritable);
      if (((next & mstatus::kMpp) >> mstatus::kMppShift) == 2)  // reserved: keep old MPP
        next = (next & ~mstatus::kMpp) | (mstatus_ & mstatus::kMpp);
      const uint64_t translation_bits =
          mstatus::kMprv | mstatus::kSum | mstatus::kMxr | mstatus::kMpp;
      if ((next ^ mstatus_) & translation_bits) flush_tlb();
      mstatus_ = mstatus::with_sd(next);
      block_break_ = true;
      return true;
    }
    case kSie:
      mie_ = (mie_ & ~mideleg_) | (v & mideleg_ & kMieWritable);
      block_break_ = true;
      return true;
    case kStvec: stvec_ = legal_tvec(stvec_, v); return true;
    case kScounteren: scounteren_ = v & 0xffffffffull; return true;
    case kSenvcfg: senvcfg_ = legal_envcfg(senvcfg_, v, envcfg::kSWritable); return true;
    case kStimecmp:
      stimecmp_ = v;
      update_sstc_timer();
      block_break_ = true;
      return true;
    case kSscratch: sscratch_ = v; return true;
    case kSepc: sepc_ = v & ~1ull; return true;
    case kScause: scause_ = v; return true;
    case kStval: stval_ = v; return true;
    case kSip: {
      const uint64_t mask = irq::kSsip & mideleg_;
      mip_sw_ = (mip_sw_ & ~mask) | (v & mask);
      block_break_ = true;
      return true;
    }
    case kSatp: {
      const uint64_t mode = v >> 60;
      if (mode != 0 && mode != kSatpModeSv39) return true;  // WARL: write ignored
      satp_ = (mode << 60) | (v & ((1ull << 44) - 1));     // no ASID bits
      flush_tlb();
      block_break_ = true;
      return true;
    }
    case kMisa: return true;  // WARL: extensions cannot be turned off
    case kMedeleg: medeleg_ = v & kMedelegWritable; return true;
    case kMideleg: mideleg_ = v & irq::kSMask; block_break_ = true; return true;
    case kMie: mie_ = v & kMieWritable; block_break_ = true; return true;
    case kMtvec: mtvec_ = legal_tvec(mtvec_, v); return true;
    case kMcounteren: mcounteren_ = v & 0xffffffffull; return true;
    case kMenvcfg:
      menvcfg_ = legal_envcfg(menvcfg_, v, envcfg::kMWritable);
      update_sstc_timer();
      block_break_ = true;
      return true;
    case kMcountinhibit: mcountinhibit_ = v & 0xfffffffdull; return true;
    case kMscratch: mscratch_ = v; return true;
    case kMepc: mepc_ = v & ~1ull; return true;
    case kMcause: mcause_ = v; return true;
    case kMtval: mtval_ = v; return true;
    case kMip:
      mip_sw_ = (mip_sw_ & ~kMipWritable) | (v & kMipWritable);
      block_break_ = true;
      return true;
    case kPmpcfg0:
    case kPmpcfg0 + 2: {
      uint64_t& reg = pmpcfg_[(csr - kPmpcfg0) / 2];
      uint64_t next = reg;
      for (unsigned b = 0; b < 8; ++b) {
        const uint64_t shift = 8 * b;
        if ((reg >> shift) & 0x80) continue;  // locked
        uint64_t cfg = (v >> shift) & 0x9f;   // bits 5 and 6 are reserved
        if ((cfg & 3) == 2) cfg &= ~3ull;     // W without R is reserved
        next = (next & ~(0xffull << shift)) | (cfg << shift);
      }
      reg = next;
      return true;
    }
  }
  return false;
}

bool Hart::csr_op(const DecodedInsn& in, uint64_t pc) {
  const uint16_t csr = static_cast<uint16_t>(in.imm);
  const bool immediate = in.op == Op::CSRRWI || in.op == Op::CSRRSI || in.op == Op::CSRRCI;
  const uint64_t operand = immediate ? in.rs1 : x_[in.rs1];
  const bool is_write_op = in.op == Op::CSRRW || in.op == Op::CSRRWI;
  const bool writes = is_write_op || in.rs1 != 0;
  auto illegal = [&] {
    raise_exception(cause::kIllegal, in.raw, pc);
    return false;
  };
  if (static_cast<unsigned>(priv_) < ((csr >> 8) & 3)) return illegal();
  if (writes && (csr >> 10) == 3) return illegal();  // read-only CSR
  if (csr == csr::kSatp && priv_ == Priv::kSupervisor && (mstatus_ & mstatus::kTvm))
    return illegal();
  if (csr >= csr::kCycle && csr <= csr::kCycle + 31 && !counter_accessible(csr))
    return illegal();
  // Sstc: below M, stimecmp needs menvcfg.STCE and mcounteren.TM.
  if (csr == csr::kStimecmp && priv_ != Priv::kMachine &&
      (!(menvcfg_ & envcfg::kStce) || !(mcounteren_ & 2)))
    return illegal();
  if (csr >= csr::kFflags && csr <= csr::kFcsr && !(mstatus_ & mstatus::kFs))
    return illegal();  // FS = Off
  uint64_t old;
  if (!csr_read(csr, old)) return illegal();
  if (writes) {
    // A read-modify-write of mip starts from the software-written bits: the
    // PLIC's SEIP (and Sstc's STIP) must not be latched into them (the
    // privileged spec, mip.SEIP). OpenSBI sets SSIP with csrrs mip.
    const uint64_t base = csr == csr::kMip ? (old & ~kMipWritable) | mip_sw_ : old;
    uint64_t next = operand;
    if (in.op == Op::CSRRS || in.op == Op::CSRRSI) next = base | operand;
    if (in.op == Op::CSRRC || in.op == Op::CSRRCI) next = base & ~operand;
    if (!csr_write(csr, next)) return illegal();
  }
  x_[in.rd] = old;
  return true;
}

bool Hart::debug_read_csr(uint16_t csr, uint64_t& value) { return csr_read(csr, value); }

}  // namespace ferry
