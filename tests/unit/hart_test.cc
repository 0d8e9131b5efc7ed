// Hart: instruction semantics, traps, CSRs, paging, self-modifying code and
// the dirty log, on small hand-assembled programs.
#include <gtest/gtest.h>

#include <vector>

#include "cpu/hart.h"
#include "rv_asm.h"
#include "state_roundtrip.h"

namespace ferry {
namespace {

using namespace rv;
constexpr uint64_t kBase = kRamBase;

class HartTest : public ::testing::Test {
 protected:
  HartTest() : ram_(kBase, 4 << 20), bus_(ram_), hart_(bus_, [this] { return time_; }) {}

  // Places the program at `addr` and points the hart there in M-mode.
  void load(const std::vector<uint32_t>& code, uint64_t addr = kBase) {
    ram_.write(addr, code.data(), code.size() * 4);
    hart_.reset(addr);
  }
  StopReason run(uint64_t budget = 100000) { return hart_.run(budget); }
  uint64_t csr(uint16_t n) {
    uint64_t v = 0;
    EXPECT_TRUE(hart_.debug_read_csr(n, v));
    return v;
  }

  uint64_t time_ = 1234;
  GuestRam ram_;
  AddressSpace bus_;
  Hart hart_;
};

TEST_F(HartTest, ArithmeticAndWfiStop) {
  load({addi(10, 0, 7), addi(11, 0, -3), r_type(0x33, 12, 0, 10, 11, 0),  // add
        r_type(0x33, 13, 0, 10, 11, 1),                                   // mul
        r_type(0x33, 14, 4, 10, 0, 1),                                    // div by zero
        r_type(0x33, 15, 6, 10, 0, 1),                                    // rem by zero
        kWfi});
  EXPECT_EQ(run(), StopReason::kWfi);
  EXPECT_EQ(hart_.reg(12), 4u);
  EXPECT_EQ(static_cast<int64_t>(hart_.reg(13)), -21);
  EXPECT_EQ(hart_.reg(14), ~0ull);
  EXPECT_EQ(hart_.reg(15), 7u);
  EXPECT_EQ(hart_.instret(), 7u);
}

TEST_F(HartTest, IllegalInstructionTrapsWithBits) {
  load(cat(la(5, 0x100), {csrrw(0, 0x305, 5),  // mtvec = base + 0x100
                          0xffffffff}));
  ram_.write(kBase + 0x100, &kWfi, 4);
  run();
  EXPECT_EQ(hart_.pc(), kBase + 0x104);
  EXPECT_EQ(csr(0x342), 2u);            // mcause
  EXPECT_EQ(csr(0x343), 0xffffffffu);   // mtval
  EXPECT_EQ(csr(0x341), kBase + 24);    // mepc
}

TEST_F(HartTest, UnknownCsrIsIllegal) {
  load(cat(la(5, 0x100), {csrrw(0, 0x305, 5),
                          csrrs(10, 0x7c0, 0)}));  // custom CSR that does not exist
  ram_.write(kBase + 0x100, &kWfi, 4);
  run();
  EXPECT_EQ(csr(0x342), 2u);
  EXPECT_EQ(csr(0x343), csrrs(10, 0x7c0, 0));
}

TEST_F(HartTest, TimeCsrReadsTheClock) {
  load({csrrs(10, 0xc01, 0), kWfi});
  run();
  EXPECT_EQ(hart_.reg(10), 1234u);
}

TEST_F(HartTest, StoresAreLoggedInTheDirtyLog) {
  // Two stores to the same page: the first fills the write TLB (and logs the
  // page), the second takes the fast path.
  load(cat(la(5, 0x100000), {addi(6, 0, 42), sd(5, 6, 0), sd(5, 6, 8), ld(7, 5, 8), kWfi}));
  std::vector<uint64_t> bits;
  ram_.harvest_dirty(bits);  // forget the loader's writes
  run();
  EXPECT_EQ(hart_.reg(7), 42u);
  ram_.harvest_dirty(bits);
  const uint64_t page = 0x100;  // (0x80100000 - base) >> 12
  EXPECT_TRUE(bits[page / 64] & (1ull << (page % 64)));
  EXPECT_TRUE(ram_.ever_written(page));
  EXPECT_FALSE(ram_.ever_written(page + 1));
}

TEST_F(HartTest, WriteTlbFlushMakesTheNextStoreLogAgain) {
  // A loop storing to one page; after a harvest the page must show up again.
  load(cat(la(5, 0x100000), {addi(6, 0, 1), sd(5, 6, 0), kWfi}));
  run();
  std::vector<uint64_t> bits;
  const uint64_t page_bit = 1ull << (0x100 % 64);
  ram_.harvest_dirty(bits);
  // Without dropping the write TLB the store goes unlogged: this is why the
  // migration drops it together with every harvest.
  hart_.set_pc(kBase + 24);  // the sd again
  run();
  ram_.harvest_dirty(bits);
  EXPECT_FALSE(bits[0x100 / 64] & page_bit);
  hart_.drop_write_tlb();  // as Vm::sync_dirty_log does with the harvest
  hart_.set_pc(kBase + 24);
  run();
  ram_.harvest_dirty(bits);
  EXPECT_TRUE(bits[0x100 / 64] & page_bit);
}

TEST_F(HartTest, SelfModifyingCodeIsSeen) {
  // Runs "addi a0, x0, 1" at +0x40, then overwrites it with "addi a0, x0, 2"
  // and runs it again: the second run must see the new instruction.
  const uint32_t one = addi(10, 0, 1), two = addi(10, 0, 2);
  load({0});
  ram_.write(kBase + 0x40, &one, 4);
  ram_.write(kBase + 0x44, &kWfi, 4);
  hart_.set_pc(kBase + 0x40);
  run();
  EXPECT_EQ(hart_.reg(10), 1u);
  // The program stores `two` over the instruction, then jumps to it.
  const std::vector<uint32_t> patch = cat(la(5, 0), {lui(6, two >> 12),
                                       addi(6, 6, static_cast<int32_t>(two & 0xfff)),
                                       sw(5, 6, 0x40), i_type(0x67, 0, 0, 5, 0x40)});
  ram_.write(kBase + 0x100, patch.data(), patch.size() * 4);
  hart_.set_pc(kBase + 0x100);
  run();
  EXPECT_EQ(hart_.reg(10), 2u);
}

TEST_F(HartTest, EcallFromMachineMode) {
  load(cat(la(5, 0x100), {csrrw(0, 0x305, 5), kEcall}));
  ram_.write(kBase + 0x100, &kWfi, 4);
  run();
  EXPECT_EQ(csr(0x342), 11u);
}

TEST_F(HartTest, MachineTimerInterruptIsTaken) {
  // mtvec = handler, mie.MTIE, mstatus.MIE, then spin; MTIP arrives.
  load(cat(la(5, 0x100), {csrrw(0, 0x305, 5), addi(6, 0, 0x80),
        csrrw(0, 0x304, 6), addi(6, 0, 8), csrrw(0, 0x300, 6),
        0x0000006f}));  // j . (spin)
  const uint32_t spin = 0x0000006f;
  ram_.write(kBase + 0x100, &spin, 4);  // the handler spins too
  run(1000);
  EXPECT_EQ(hart_.pc(), kBase + 0x28);  // still spinning
  hart_.set_interrupt_pending(kMipMtip, true);
  run(1000);
  EXPECT_EQ(csr(0x342), (1ull << 63) | 7);
  EXPECT_EQ(csr(0x341), kBase + 0x28);
}

TEST_F(HartTest, MipReadModifyWriteDoesNotLatchTheExternalSeip) {
  // The PLIC drives SEIP; firmware sets SSIP with csrrs mip (an IPI). When the
  // PLIC drops SEIP, mip must drop it too: the csrrs must not have copied the
  // line's level into the software-written bit.
  load({addi(6, 0, 2), csrrs(10, 0x344, 6), kWfi});
  hart_.set_interrupt_pending(kMipSeip, true);
  EXPECT_EQ(run(), StopReason::kWfi);
  EXPECT_EQ(hart_.reg(10) & (1u << kMipSeip), 1u << kMipSeip);  // the read sees the line
  hart_.set_interrupt_pending(kMipSeip, false);
  EXPECT_EQ(csr(0x344) & ((1u << kMipSeip) | 2u), 2u);  // SSIP stays, SEIP follows the line
  // A csrrw writes the software bit itself; a csrrc of SSIP keeps it.
  load({addi(6, 0, 1 << kMipSeip), csrrw(0, 0x344, 6), addi(6, 0, 2), csrrc(0, 0x344, 6), kWfi});
  run();
  EXPECT_EQ(csr(0x344) & ((1u << kMipSeip) | 2u), 1u << kMipSeip);
}

TEST_F(HartTest, Sv39TranslatesAndSetsAccessedDirty) {
  // Root table at +0x10000, a level-1 table at +0x11000, a level-0 table at
  // +0x12000 mapping VA 0x40000000 -> PA base+0x20000 (RW), plus a gigapage
  // identity map of the RAM gigabyte so S-mode can run its code.
  const uint64_t root = kBase + 0x10000, l1 = kBase + 0x11000, l0 = kBase + 0x12000;
  auto put = [&](uint64_t addr, uint64_t pte) { ram_.write(addr, &pte, 8); };
  put(root + 2 * 8, ((kBase >> 12) << 10) | 0xcf);  // VA 0x80000000 gigapage RWX, A, D
  put(root + 1 * 8, ((l1 >> 12) << 10) | 1);        // VA 0x40000000 -> l1
  put(l1 + 0, ((l0 >> 12) << 10) | 1);
  put(l0 + 0, (((kBase + 0x20000) >> 12) << 10) | 0x07);  // V R W, no A/D
  // M-mode: satp, MPP = S, mepc = S code, mret. S code: store through VA.
  std::vector<uint32_t> code;
  // Build satp in t0 with shifts: t0 = 8 << 60 | (root >> 12)
  code.push_back(addi(5, 0, 8));
  code.push_back(i_type(0x13, 5, 1, 5, 60));           // slli t0, t0, 60
  code = cat(code, la(6, static_cast<uint32_t>(root - kBase)));
  code.push_back(i_type(0x13, 6, 5, 6, 12));           // srli t1, t1, 12
  code.push_back(r_type(0x33, 5, 6, 5, 6, 0));         // or t0, t0, t1
  code.push_back(csrrw(0, 0x180, 5));                  // satp
  code.push_back(addi(6, 0, 1));
  code.push_back(i_type(0x13, 6, 1, 6, 11));           // t1 = 1 << 11 (MPP = S)
  code.push_back(csrrw(0, 0x300, 6));                  // mstatus
  code = cat(code, la(7, 0x200));
  code.push_back(csrrw(0, 0x341, 7));                  // mepc = S code
  code.push_back(kMret);
  load(code);
  const std::vector<uint32_t> s_code = {lui(28, 0x40000), addi(29, 0, 99), sd(28, 29, 16),
                                        ld(30, 28, 16), kWfi};
  ram_.write(kBase + 0x200, s_code.data(), s_code.size() * 4);
  run();
  EXPECT_EQ(hart_.priv(), Priv::kSupervisor);
  EXPECT_EQ(hart_.reg(30), 99u);
  uint64_t value;
  ram_.read(kBase + 0x20000 + 16, &value, 8);
  EXPECT_EQ(value, 99u);
  uint64_t pte;
  ram_.read(l0, &pte, 8);
  EXPECT_EQ(pte & 0xc0, 0xc0u);  // A and D set by the walk
}

// --- F and D ---

constexpr uint16_t kFflags = 0x001, kFrm = 0x002, kMstatus = 0x300;
constexpr uint64_t kFsShift = 13;

// x5 = (FS << 13), mstatus |= x5; then `code`, then wfi. x10 = 1.0, x11 = 3.0.
std::vector<uint32_t> with_fpu(unsigned fs, const std::vector<uint32_t>& code) {
  std::vector<uint32_t> p = {addi(5, 0, static_cast<int32_t>(fs)), slli(5, 5, kFsShift),
                             csrrs(0, kMstatus, 5), addi(10, 0, 0x3ff), slli(10, 10, 52),
                             addi(11, 0, 0x400), slli(11, 11, 52), addi(12, 0, 1),
                             slli(12, 12, 51), add(11, 11, 12)};
  p = cat(p, code);
  p.push_back(kWfi);
  return p;
}

TEST_F(HartTest, FpIsOffAfterResetAndTrapsIllegal) {
  EXPECT_EQ(csr(kMstatus) & (3u << kFsShift), 0u);
  EXPECT_NE(csr(0x301) & (1u << ('F' - 'A')), 0u);  // misa.F
  EXPECT_NE(csr(0x301) & (1u << ('D' - 'A')), 0u);  // misa.D
  load(cat(la(5, 0x100), {csrrw(0, 0x305, 5), fadd_d(1, 2, 3)}));
  ram_.write(kBase + 0x100, &kWfi, 4);
  run();
  EXPECT_EQ(csr(0x342), 2u);                // illegal instruction
  EXPECT_EQ(csr(0x343), fadd_d(1, 2, 3));   // mtval = the bits
  // fcsr accesses too.
  load(cat(la(5, 0x100), {csrrw(0, 0x305, 5), csrrs(10, kFflags, 0)}));
  run();
  EXPECT_EQ(csr(0x342), 2u);
  EXPECT_EQ(csr(0x343), csrrs(10, kFflags, 0));
}

TEST_F(HartTest, FpArithmeticSetsFlagsAndDirty) {
  load(with_fpu(1, {fmv_d_x(1, 10), fmv_d_x(2, 11), fdiv_d(3, 1, 2), fmv_x_d(13, 3)}));
  run();
  EXPECT_EQ(hart_.freg(3), 0x3fd5555555555555u);  // 1/3, RNE
  EXPECT_EQ(hart_.reg(13), 0x3fd5555555555555u);
  EXPECT_EQ(csr(kFflags), 1u);  // inexact
  const uint64_t mstatus = csr(kMstatus);
  EXPECT_EQ((mstatus >> kFsShift) & 3, 3u);  // Dirty
  EXPECT_NE(mstatus & (1ull << 63), 0u);     // SD
  EXPECT_NE(csr(0x100) & (1ull << 63), 0u);  // sstatus.SD
}

TEST_F(HartTest, FpRoundingModeComesFromFrmAndTheHostKeepsItsOwn) {
  uint32_t before;
  __asm__ volatile("stmxcsr %0" : "=m"(before));
  load(with_fpu(1, {csrrwi(0, kFrm, 3),  // RUP
                    fmv_d_x(1, 10), fmv_d_x(2, 11), fdiv_d(3, 1, 2),
                    fdiv_d(4, 1, 2, 4)}));  // RMM (software path)
  run();
  EXPECT_EQ(hart_.freg(3), 0x3fd5555555555556u);
  EXPECT_EQ(hart_.freg(4), 0x3fd5555555555555u);
  uint32_t after;
  __asm__ volatile("stmxcsr %0" : "=m"(after));
  EXPECT_EQ(after & ~0x3fu, before & ~0x3fu);  // control bits restored
}

TEST_F(HartTest, ReservedDynamicRoundingModeTraps) {
  load(cat(la(5, 0x100), {csrrw(0, 0x305, 5), addi(6, 0, 1), slli(6, 6, kFsShift),
                          csrrs(0, kMstatus, 6), csrrwi(0, kFrm, 5), fadd_d(1, 2, 3, 0),
                          fadd_d(1, 2, 3)}));
  ram_.write(kBase + 0x100, &kWfi, 4);
  run();
  EXPECT_EQ(csr(0x342), 2u);
  EXPECT_EQ(csr(0x343), fadd_d(1, 2, 3));  // the static-rne one before it ran
  EXPECT_EQ(csr(0x341), kBase + 4 * 11);
}

TEST_F(HartTest, ImproperlyBoxedSingleReadsAsCanonicalNan) {
  load(with_fpu(1, {fmv_d_x(1, 10),  // 0x3ff0...: upper half not all ones
                    fadd_s(2, 1, 1)}));
  run();
  EXPECT_EQ(hart_.freg(2), 0xffffffff7fc00000u);
  EXPECT_EQ(csr(kFflags), 0u);  // a quiet NaN operand raises nothing
}

TEST_F(HartTest, FpStateMigratesInASubsection) {
  // Unused FPU: the subsection is not in the state.
  load({kWfi});
  run();
  auto unused = test_util::save_state(hart_);
  auto it = std::find_if(unused.begin(), unused.end(),
                         [](const test_util::StateEntry& e) { return e.name == "fpu"; });
  ASSERT_NE(it, unused.end());
  EXPECT_EQ(it->values[0], 0u);  // recorded as absent

  load(with_fpu(1, {fmv_d_x(1, 10), fmv_d_x(2, 11), fdiv_d(31, 1, 2), csrrwi(0, kFrm, 2)}));
  run();
  GuestRam ram2(kBase, 4 << 20);
  AddressSpace bus2(ram2);
  Hart other(bus2, [] { return 0; });
  ASSERT_EQ(test_util::round_trip(hart_, other), "");
  EXPECT_EQ(other.freg(31), 0x3fd5555555555555u);
  uint64_t v = 0;
  ASSERT_TRUE(other.debug_read_csr(0x003, v));
  EXPECT_EQ(v, (2u << 5) | 1u);  // frm = RDN, fflags = NX
}

// --- Zba, Zbb, Zbs (the guest test-bitmanip checks them all against QEMU) ---

TEST_F(HartTest, BitManipulationEdgeCases) {
  // x10 = 1 << 63 (low half zero), x11 = 0x80 << 32 | 0x80.
  load({addi(10, 0, 1), slli(10, 10, 63), addi(11, 0, 0x80), slli(11, 11, 32),
        addi(11, 11, 0x80),
        i_type(0x1b, 12, 1, 10, 0x601),                // ctzw x12, x10: 32 (not 63)
        i_type(0x1b, 13, 1, 10, 0x600),                // clzw x13, x10: 32
        i_type(0x13, 14, 1, 0, 0x601),                 // ctz x14, x0: 64
        i_type(0x13, 15, 5, 11, 0x287),                // orc.b x15, x11
        r_type(0x3b, 16, 0, 11, 10, 0x04),             // add.uw x16, x11, x10
        r_type(0x33, 17, 1, 0, 0, 0x14),               // bset x17, x0, x0: 1
        kWfi});
  run();
  EXPECT_EQ(hart_.reg(12), 32u);
  EXPECT_EQ(hart_.reg(13), 32u);
  EXPECT_EQ(hart_.reg(14), 64u);
  EXPECT_EQ(hart_.reg(15), 0x000000ff000000ffu);
  EXPECT_EQ(hart_.reg(16), (1ull << 63) + 0x80);
  EXPECT_EQ(hart_.reg(17), 1u);
}

TEST_F(HartTest, StateRoundTripsThroughReset) {
  load({addi(10, 0, 5), kWfi});
  run();
  EXPECT_EQ(hart_.reg(10), 5u);
  hart_.reset(kBase);
  EXPECT_EQ(hart_.reg(10), 0u);
  EXPECT_EQ(hart_.priv(), Priv::kMachine);
}

}  // namespace
}  // namespace ferry
