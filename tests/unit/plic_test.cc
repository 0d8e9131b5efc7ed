#include "devices/plic.h"

#include <gtest/gtest.h>

#include "state_roundtrip.h"
#include "fakes.h"

namespace ferry {
namespace {

using test_util::FakeHart;

constexpr uint64_t kPriority = 0x0;
constexpr uint64_t kPending = 0x1000;
constexpr uint64_t kEnable0 = 0x2000;
constexpr uint64_t kEnable1 = 0x2080;
constexpr uint64_t kThreshold0 = 0x200000;
constexpr uint64_t kClaim0 = 0x200004;
constexpr uint64_t kThreshold1 = 0x201000;
constexpr uint64_t kClaim1 = 0x201004;

class PlicTest : public ::testing::Test {
 protected:
  PlicTest() { plic.reset(); }

  void set_priority(unsigned src, uint32_t prio) {
    plic.mmio_write(kPriority + 4 * src, 4, prio);
  }
  void enable(uint64_t enable_base, unsigned src) {
    uint64_t off = enable_base + 4 * (src / 32);
    uint32_t cur = static_cast<uint32_t>(plic.mmio_read(off, 4));
    plic.mmio_write(off, 4, cur | (1u << (src % 32)));
  }
  uint32_t claim(uint64_t claim_reg = kClaim0) {
    return static_cast<uint32_t>(plic.mmio_read(claim_reg, 4));
  }
  void complete(uint32_t src, uint64_t claim_reg = kClaim0) {
    plic.mmio_write(claim_reg, 4, src);
  }
  void raise(unsigned src, bool high = true) { plic.irq_line(src)->set_level(high); }

  FakeHart hart;
  Plic plic{hart};
};

TEST_F(PlicTest, IrqLinesExistFor1To95) {
  EXPECT_EQ(plic.irq_line(0), nullptr);
  EXPECT_EQ(plic.irq_line(96), nullptr);
  EXPECT_EQ(plic.irq_line(1000), nullptr);
  for (unsigned s = 1; s < 96; ++s) EXPECT_NE(plic.irq_line(s), nullptr);
  plic.set_source_level(0, true);  // ignored
  plic.set_source_level(200, true);
  EXPECT_EQ(plic.mmio_read(kPending, 4), 0u);
}

TEST_F(PlicTest, PriorityZeroNeverInterrupts) {
  enable(kEnable0, 10);
  raise(10);
  EXPECT_TRUE(plic.pending(10));
  EXPECT_EQ(plic.mmio_read(kPending, 4), 1u << 10);
  EXPECT_FALSE(hart.pending(kMipMeip));
  EXPECT_EQ(claim(), 0u);
}

TEST_F(PlicTest, EnabledSourceAboveThresholdRaisesMeipOnly) {
  set_priority(10, 1);
  raise(10);
  EXPECT_FALSE(hart.pending(kMipMeip));  // not enabled yet
  enable(kEnable0, 10);
  EXPECT_TRUE(hart.pending(kMipMeip));
  EXPECT_FALSE(hart.pending(kMipSeip));
  plic.mmio_write(kThreshold0, 4, 1);  // threshold >= priority masks
  EXPECT_FALSE(hart.pending(kMipMeip));
  EXPECT_EQ(claim(), 0u);
  plic.mmio_write(kThreshold0, 4, 0);
  EXPECT_TRUE(hart.pending(kMipMeip));
}

TEST_F(PlicTest, SContextDrivesSeip) {
  set_priority(33, 2);
  enable(kEnable1, 33);
  raise(33);
  EXPECT_TRUE(hart.pending(kMipSeip));
  EXPECT_FALSE(hart.pending(kMipMeip));
  EXPECT_EQ(claim(kClaim0), 0u);  // not enabled for M
  EXPECT_EQ(claim(kClaim1), 33u);
  EXPECT_FALSE(hart.pending(kMipSeip));
  plic.mmio_write(kThreshold1, 4, 0xff);
  EXPECT_EQ(plic.mmio_read(kThreshold1, 4), 7u);
}

TEST_F(PlicTest, ClaimPicksHighestPriorityThenLowestId) {
  for (unsigned s : {5u, 7u, 40u, 90u}) enable(kEnable0, s);
  set_priority(5, 3);
  set_priority(7, 6);
  set_priority(40, 6);
  set_priority(90, 2);
  for (unsigned s : {5u, 7u, 40u, 90u}) raise(s);
  EXPECT_EQ(claim(), 7u);
  EXPECT_EQ(claim(), 40u);
  EXPECT_EQ(claim(), 5u);
  EXPECT_EQ(claim(), 90u);
  EXPECT_EQ(claim(), 0u);
  EXPECT_FALSE(hart.pending(kMipMeip));
}

TEST_F(PlicTest, ClaimedLevelSourceRependsOnlyAfterComplete) {
  set_priority(10, 1);
  enable(kEnable0, 10);
  raise(10);
  ASSERT_EQ(claim(), 10u);
  EXPECT_FALSE(plic.pending(10));
  EXPECT_TRUE(plic.claimed(10));
  EXPECT_FALSE(hart.pending(kMipMeip));
  raise(10);  // still high: no new pending while claimed
  EXPECT_FALSE(plic.pending(10));
  EXPECT_FALSE(hart.pending(kMipMeip));
  complete(10);  // line still high: pending again
  EXPECT_FALSE(plic.claimed(10));
  EXPECT_TRUE(plic.pending(10));
  EXPECT_TRUE(hart.pending(kMipMeip));

  ASSERT_EQ(claim(), 10u);
  raise(10, false);  // the device was serviced
  complete(10);
  EXPECT_FALSE(plic.pending(10));
  EXPECT_FALSE(hart.pending(kMipMeip));
}

TEST_F(PlicTest, DroppingTheLineClearsPending) {
  set_priority(3, 1);
  enable(kEnable0, 3);
  raise(3);
  EXPECT_TRUE(hart.pending(kMipMeip));
  raise(3, false);
  EXPECT_FALSE(plic.pending(3));
  EXPECT_FALSE(hart.pending(kMipMeip));
}

TEST_F(PlicTest, RegistersReadBackMasked) {
  set_priority(1, 0xffffffff);
  EXPECT_EQ(plic.mmio_read(kPriority + 4, 4), 7u);
  set_priority(0, 5);  // source 0 does not exist
  EXPECT_EQ(plic.mmio_read(kPriority, 4), 0u);
  plic.mmio_write(kEnable0, 4, 0xffffffff);
  EXPECT_EQ(plic.mmio_read(kEnable0, 4), 0xfffffffeu);
  plic.mmio_write(kEnable0 + 8, 4, 0xffffffff);
  EXPECT_EQ(plic.mmio_read(kEnable0 + 8, 4), 0xffffffffu);
  plic.mmio_write(kEnable0 + 12, 4, 0xffffffff);  // past source 95
  EXPECT_EQ(plic.mmio_read(kEnable0 + 12, 4), 0u);
  plic.mmio_write(kPending, 4, 0xffffffff);  // read-only
  EXPECT_EQ(plic.mmio_read(kPending, 4), 0u);
}

TEST_F(PlicTest, EightByteAccessIsTwoWords) {
  plic.mmio_write(kPriority + 8, 8, 0x0000000300000002ull);
  EXPECT_EQ(plic.mmio_read(kPriority + 8, 4), 2u);
  EXPECT_EQ(plic.mmio_read(kPriority + 12, 4), 3u);
  EXPECT_EQ(plic.mmio_read(kPriority + 8, 8), 0x0000000300000002ull);
}

TEST_F(PlicTest, AnyOffsetAndSizeIsHarmless) {
  for (uint64_t off = 0; off < Plic::kWindowSize + 0x1000; off += 0x7c) {
    for (unsigned size : {1u, 2u, 4u, 8u}) plic.mmio_read(off, size);
  }
  for (uint64_t off : {0x3ull, 0x1001ull, 0x2002ull, 0x200001ull, 0x202000ull,
                       0x5ffffcull, 0x600000ull}) {
    for (unsigned size : {1u, 2u, 4u, 8u}) plic.mmio_write(off, size, ~0ull);
  }
  EXPECT_FALSE(hart.pending(kMipMeip));
}

TEST_F(PlicTest, ResetKeepsLineLevels) {
  set_priority(10, 1);
  enable(kEnable0, 10);
  raise(10);
  ASSERT_EQ(claim(), 10u);
  plic.reset();
  EXPECT_FALSE(plic.claimed(10));
  EXPECT_TRUE(plic.pending(10));  // the wire is still high
  EXPECT_EQ(plic.mmio_read(kPriority + 40, 4), 0u);
  EXPECT_EQ(plic.mmio_read(kEnable0, 4), 0u);
  EXPECT_FALSE(hart.pending(kMipMeip));
}

TEST_F(PlicTest, StateRoundTrip) {
  set_priority(10, 4);
  set_priority(11, 2);
  set_priority(70, 5);
  enable(kEnable0, 10);
  enable(kEnable0, 11);
  enable(kEnable1, 70);
  plic.mmio_write(kThreshold1, 4, 1);
  raise(10);
  raise(11);
  raise(70);
  ASSERT_EQ(claim(), 10u);  // 10 claimed, 11 pending, 70 pending for S

  FakeHart hart2;
  Plic plic2(hart2);
  plic2.reset();
  ASSERT_EQ(test_util::round_trip(plic, plic2), "");
  EXPECT_EQ(test_util::save_state(plic2), test_util::save_state(plic));
  EXPECT_EQ(hart2.mip, hart.mip);
  EXPECT_TRUE(plic2.claimed(10));
  EXPECT_EQ(plic2.mmio_read(kThreshold1, 4), 1u);
  EXPECT_EQ(plic2.mmio_read(kClaim0, 4), 11u);
  EXPECT_EQ(plic2.mmio_read(kClaim1, 4), 70u);
  // The line levels came along: completing 10 re-pends it.
  plic2.mmio_write(kClaim0, 4, 10);
  EXPECT_TRUE(plic2.pending(10));
  EXPECT_EQ(plic.state_name(), "plic");
}

}  // namespace
}  // namespace ferry
