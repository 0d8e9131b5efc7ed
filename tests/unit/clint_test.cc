#include "devices/clint.h"

#include <gtest/gtest.h>

#include "state_roundtrip.h"
#include "fakes.h"

namespace ferry {
namespace {

using test_util::FakeHart;

class ClintTest : public ::testing::Test {
 protected:
  ClintTest() { clint.reset(); }
  GuestClock clock;  // paused: time moves only when a test says so
  FakeHart hart;
  Clint clint{clock, hart};
};

TEST_F(ClintTest, ResetLeavesMtipSetLikeQemu) {
  EXPECT_EQ(clint.mtimecmp(), 0u);
  EXPECT_EQ(clock.ticks(), 0u);
  EXPECT_TRUE(hart.pending(kMipMtip));
  EXPECT_FALSE(hart.pending(kMipMsip));
}

TEST_F(ClintTest, MsipDrivesOnlyBitZero) {
  clint.mmio_write(0x0, 4, 1);
  EXPECT_TRUE(hart.pending(kMipMsip));
  EXPECT_EQ(clint.mmio_read(0x0, 4), 1u);
  clint.mmio_write(0x0, 4, 0xfffffffe);
  EXPECT_FALSE(hart.pending(kMipMsip));
  EXPECT_EQ(clint.mmio_read(0x0, 4), 0u);
  // A second hart's msip does not exist.
  clint.mmio_write(0x4, 4, 1);
  EXPECT_EQ(clint.mmio_read(0x4, 4), 0u);
  EXPECT_FALSE(hart.pending(kMipMsip));
}

TEST_F(ClintTest, MtimecmpFullAndHalves) {
  clint.mmio_write(0x4000, 8, 0x1122334455667788ull);
  EXPECT_EQ(clint.mmio_read(0x4000, 8), 0x1122334455667788ull);
  EXPECT_EQ(clint.mmio_read(0x4000, 4), 0x55667788u);
  EXPECT_EQ(clint.mmio_read(0x4004, 4), 0x11223344u);
  clint.mmio_write(0x4004, 4, 0xaabbccdd);
  EXPECT_EQ(clint.mtimecmp(), 0xaabbccdd55667788ull);
  clint.mmio_write(0x4000, 4, 0x01020304);
  EXPECT_EQ(clint.mtimecmp(), 0xaabbccdd01020304ull);
  EXPECT_EQ(clint.next_deadline_ticks(), 0xaabbccdd01020304ull);
}

TEST_F(ClintTest, MtimeReadsAndWritesTheClock) {
  clock.set_ticks(0x0000000500000007ull);
  EXPECT_EQ(clint.mmio_read(0xbff8, 8), 0x0000000500000007ull);
  EXPECT_EQ(clint.mmio_read(0xbff8, 4), 7u);
  EXPECT_EQ(clint.mmio_read(0xbffc, 4), 5u);
  clint.mmio_write(0xbff8, 8, 1234);
  EXPECT_EQ(clock.ticks(), 1234u);
  clint.mmio_write(0xbffc, 4, 2);
  EXPECT_EQ(clock.ticks(), (2ull << 32) | 1234);
  clint.mmio_write(0xbff8, 4, 9);
  EXPECT_EQ(clock.ticks(), (2ull << 32) | 9);
}

TEST_F(ClintTest, MtipFollowsMtimeAgainstMtimecmp) {
  clock.set_ticks(100);
  clint.mmio_write(0x4000, 8, 200);
  EXPECT_FALSE(hart.pending(kMipMtip));
  clock.set_ticks(199);
  clint.update();
  EXPECT_FALSE(hart.pending(kMipMtip));
  clock.set_ticks(200);
  EXPECT_FALSE(hart.pending(kMipMtip));  // only update() notices time moving
  clint.update();
  EXPECT_TRUE(hart.pending(kMipMtip));
  // Moving mtimecmp ahead clears it at once.
  clint.mmio_write(0x4000, 8, ~0ull);
  EXPECT_FALSE(hart.pending(kMipMtip));
  // So does writing mtime backwards... and forwards sets it.
  clint.mmio_write(0x4000, 8, 1000);
  clint.mmio_write(0xbff8, 8, 1000);
  EXPECT_TRUE(hart.pending(kMipMtip));
  clint.mmio_write(0xbff8, 8, 10);
  EXPECT_FALSE(hart.pending(kMipMtip));
}

TEST_F(ClintTest, RunningClockRaisesMtip) {
  clint.mmio_write(0x4000, 8, 1000);  // 100 µs from 0
  clock.resume();
  while (clock.ticks() < 1000) {
  }
  clint.update();
  EXPECT_TRUE(hart.pending(kMipMtip));
}

TEST_F(ClintTest, OtherOffsetsAndSizesAreHarmless) {
  for (uint64_t off = 0; off < Clint::kWindowSize; off += 0x100) {
    for (unsigned size : {1u, 2u, 3u, 4u, 8u, 16u}) {
      clint.mmio_read(off, size);
    }
  }
  EXPECT_EQ(clint.mmio_read(0x8, 4), 0u);
  EXPECT_EQ(clint.mmio_read(0x4008, 8), 0u);
  EXPECT_EQ(clint.mmio_read(0x4004, 8), 0u);  // straddles the register end
  EXPECT_EQ(clint.mmio_read(0x0, 3), 0u);
  clint.mmio_write(0x4004, 8, 5);  // ignored
  EXPECT_EQ(clint.mtimecmp(), 0u);
  // Byte access inside a register works.
  clint.mmio_write(0x4001, 1, 0xab);
  EXPECT_EQ(clint.mtimecmp(), 0xab00u);
  EXPECT_EQ(clint.mmio_read(0x4001, 1), 0xabu);
}

TEST_F(ClintTest, ResetClearsEverything) {
  clint.mmio_write(0x0, 4, 1);
  clint.mmio_write(0x4000, 8, 5000);
  clock.set_ticks(4000);
  clint.reset();
  EXPECT_FALSE(hart.pending(kMipMsip));
  EXPECT_TRUE(hart.pending(kMipMtip));
  EXPECT_EQ(clint.mtimecmp(), 0u);
  EXPECT_EQ(clock.ticks(), 0u);
}

TEST_F(ClintTest, StateRoundTripCarriesMtimeIntoTheNewClock) {
  clint.mmio_write(0x0, 4, 1);
  clint.mmio_write(0x4000, 8, 0x123456789ull);
  clock.set_ticks(0x100000000ull);
  clint.update();

  GuestClock clock2;
  FakeHart hart2;
  Clint clint2(clock2, hart2);
  clint2.reset();
  ASSERT_EQ(test_util::round_trip(clint, clint2), "");
  EXPECT_EQ(clock2.ticks(), 0x100000000ull);
  EXPECT_EQ(clint2.mtimecmp(), 0x123456789ull);
  EXPECT_EQ(clint2.mmio_read(0x0, 4), 1u);
  EXPECT_EQ(clint2.mmio_read(0xbff8, 8), 0x100000000ull);
  EXPECT_EQ(hart2.mip, hart.mip);
  EXPECT_EQ(test_util::save_state(clint2), test_util::save_state(clint));
  EXPECT_EQ(clint.state_name(), "clint");
}

}  // namespace
}  // namespace ferry
