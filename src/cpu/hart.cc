#include "cpu/hart.h"

namespace ferry {

namespace {
// misa: MXL = 64, extensions I M A F D C S U.
constexpr uint64_t kMisa = (2ull << 62) | (1u << ('I' - 'A')) | (1u << ('M' - 'A')) |
                           (1u << ('A' - 'A')) | (1u << ('F' - 'A')) | (1u << ('D' - 'A')) |
                           (1u << ('C' - 'A')) | (1u << ('S' - 'A')) | (1u << ('U' - 'A'));
}  // namespace

Hart::Hart(AddressSpace& bus, std::function<uint64_t()> read_time, uint64_t hart_id)
    : bus_(bus), ram_(bus.ram()), read_time_(std::move(read_time)), hart_id_(hart_id) {
  DecodedInsn end;
  end.op = Op::PAGE_END;
  cross_page_insn_[1] = cross_page_insn_[2] = with_handler(end);
  reset(0x1000);
}

Hart::~Hart() = default;

void Hart::reset(uint64_t pc) {
  x_.fill(0);
  f_.fill(0);
  host_fpu_.release();
  fflags_ = frm_ = 0;
  pc_ = pc;
  priv_ = Priv::kMachine;
  instret_ = 0;
  mstatus_ = mstatus::kUxl64 | mstatus::kSxl64;
  misa_ = kMisa;
  medeleg_ = mideleg_ = mie_ = mip_sw_ = 0;
  mtvec_ = mscratch_ = mepc_ = mcause_ = mtval_ = 0;
  mcounteren_ = menvcfg_ = mcountinhibit_ = 0;
  stvec_ = sscratch_ = sepc_ = scause_ = stval_ = 0;
  scounteren_ = senvcfg_ = satp_ = 0;
  stimecmp_ = 0;
  pmpcfg_.fill(0);
  pmpaddr_.fill(0);
  mhpmevent_.fill(0);
  mhpmcounter_.fill(0);
  reservation_ = ~0ull;
  reservation_value_ = 0;
  flush_code_ = false;
  wfi_ = false;
  block_break_ = false;
  code_cache_.clear();
  flush_tlb();
}

void Hart::visit_state(StateVisitor& v) {
  v.u64_array("x", std::span<uint64_t>(x_.data(), 32));
  v.field("pc", pc_);
  uint8_t priv = static_cast<uint8_t>(priv_);
  v.field("priv", priv);
  if (v.loading()) priv_ = static_cast<Priv>(priv & 3);
  v.field("instret", instret_);
  v.field("mstatus", mstatus_);
  v.field("medeleg", medeleg_);
  v.field("mideleg", mideleg_);
  v.field("mie", mie_);
  v.field("mip", mip_sw_);
  v.field("mtvec", mtvec_);
  v.field("mscratch", mscratch_);
  v.field("mepc", mepc_);
  v.field("mcause", mcause_);
  v.field("mtval", mtval_);
  v.field("mcounteren", mcounteren_);
  v.field("menvcfg", menvcfg_);
  v.field("mcountinhibit", mcountinhibit_);
  v.field("stvec", stvec_);
  v.field("sscratch", sscratch_);
  v.field("sepc", sepc_);
  v.field("scause", scause_);
  v.field("stval", stval_);
  v.field("scounteren", scounteren_);
  v.field("senvcfg", senvcfg_);
  v.field("satp", satp_);
  v.u64_array("pmpcfg", pmpcfg_);
  v.u64_array("pmpaddr", pmpaddr_);
  v.u64_array("mhpmevent", mhpmevent_);
  v.u64_array("mhpmcounter", mhpmcounter_);
  v.field("reservation", reservation_);
  v.field("wfi", wfi_);
  v.subsection("sstc", stimecmp_ != 0,
               [this](StateVisitor& s) { s.field("stimecmp", stimecmp_); });
  // What LR read: SC compares against it.
  v.subsection("lr", reservation_ != ~0ull,
               [this](StateVisitor& s) { s.field("value", reservation_value_); });
  // F/D state: only when the guest turned the FPU on or left something in
  // it, so streams of FPU-less guests (and older builds) stay as they were.
  bool fp_used = (mstatus_ & mstatus::kFs) != 0 || fflags_ != 0 || frm_ != 0;
  for (uint64_t r : f_) fp_used = fp_used || r != 0;
  v.subsection("fpu", fp_used, [this](StateVisitor& s) {
    s.u64_array("f", f_);
    s.field("fflags", fflags_);
    s.field("frm", frm_);
  });
}

void Hart::post_load() {
  x_[0] = 0;
  misa_ = kMisa;
  fflags_ &= fpu::kAllFlags;
  frm_ &= 7;
  mstatus_ = mstatus::with_sd(mstatus_);
  // Decoded code and translations are rebuilt from the loaded state.
  code_cache_.clear();
  flush_tlb();
  update_sstc_timer();
}

}  // namespace ferry
