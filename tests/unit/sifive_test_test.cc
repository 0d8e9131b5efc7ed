#include "devices/sifive_test.h"

#include <gtest/gtest.h>

#include <vector>

#include "state_roundtrip.h"

namespace ferry {
namespace {

class FakePower : public PowerControl {
 public:
  void request_poweroff(int exit_code) override { poweroffs.push_back(exit_code); }
  void request_reset() override { ++resets; }
  std::vector<int> poweroffs;
  int resets = 0;
};

TEST(SifiveTestTest, PassPowersOffWithZero) {
  FakePower power;
  SifiveTest dev(power);
  dev.mmio_write(0, 4, 0x5555);
  EXPECT_EQ(power.poweroffs, std::vector<int>{0});
  EXPECT_EQ(power.resets, 0);
}

TEST(SifiveTestTest, FailCarriesTheExitCode) {
  FakePower power;
  SifiveTest dev(power);
  dev.mmio_write(0, 4, 0x3333 | (42u << 16));
  dev.mmio_write(0, 4, 0x3333 | (0xffffu << 16));
  EXPECT_EQ(power.poweroffs, (std::vector<int>{42, 0xffff}));
}

TEST(SifiveTestTest, ResetRequestsReset) {
  FakePower power;
  SifiveTest dev(power);
  dev.mmio_write(0, 4, 0x7777);
  EXPECT_EQ(power.resets, 1);
  EXPECT_TRUE(power.poweroffs.empty());
}

TEST(SifiveTestTest, OtherWritesAreIgnoredAndReadsAreZero) {
  FakePower power;
  SifiveTest dev(power);
  dev.mmio_write(0, 4, 0x1234);
  dev.mmio_write(0, 4, 0x5554);
  dev.mmio_write(4, 4, 0x5555);    // wrong offset
  dev.mmio_write(0, 1, 0x5555);    // a byte can't hold the command
  EXPECT_TRUE(power.poweroffs.empty());
  EXPECT_EQ(power.resets, 0);
  for (uint64_t off = 0; off < SifiveTest::kWindowSize; off += 4)
    EXPECT_EQ(dev.mmio_read(off, 4), 0u);
}

TEST(SifiveTestTest, SysconReadModifyWriteStillPowersOff) {
  // u-boot's syscon-poweroff: regmap_update_bits(0, 0xffffffff, 0x5555).
  FakePower power;
  SifiveTest dev(power);
  uint64_t v = dev.mmio_read(0, 4);
  dev.mmio_write(0, 4, (v & ~0xffffffffull) | 0x5555);
  EXPECT_EQ(power.poweroffs, std::vector<int>{0});
  dev.mmio_write(0, 2, 0x7777);  // 16-bit writes work too
  EXPECT_EQ(power.resets, 1);
}

TEST(SifiveTestTest, StateIsEmpty) {
  FakePower power;
  SifiveTest a(power), b(power);
  EXPECT_EQ(a.state_name(), "sifive_test");
  EXPECT_TRUE(test_util::save_state(a).empty());
  EXPECT_EQ(test_util::round_trip(a, b), "");
}

}  // namespace
}  // namespace ferry
