#include "devices/goldfish_rtc.h"

#include <gtest/gtest.h>

#include "state_roundtrip.h"

namespace ferry {
namespace {

class FakeIrq : public IrqLine {
 public:
  void set_level(bool high) override { level = high; }
  bool level = false;
};

constexpr uint64_t kHostStart = 1'700'000'000'000'000'000ull;  // late 2023

class GoldfishRtcTest : public ::testing::Test {
 protected:
  uint32_t rd(uint64_t off) { return static_cast<uint32_t>(rtc.mmio_read(off, 4)); }
  void wr(uint64_t off, uint32_t v) { rtc.mmio_write(off, 4, v); }
  void set_alarm(uint64_t t) {
    wr(GoldfishRtc::kAlarmHigh, static_cast<uint32_t>(t >> 32));
    wr(GoldfishRtc::kAlarmLow, static_cast<uint32_t>(t));
  }

  uint64_t host_ns = kHostStart;
  FakeIrq irq;
  GoldfishRtc rtc{&irq, [this] { return host_ns; }};
};

TEST_F(GoldfishRtcTest, TimeFollowsTheHostAndTimeLowLatchesHigh) {
  uint64_t lo = rd(GoldfishRtc::kTimeLow);
  host_ns += 1ull << 40;  // the high half changes after the latch
  uint64_t hi = rd(GoldfishRtc::kTimeHigh);
  EXPECT_EQ(hi << 32 | lo, kHostStart);
  lo = rd(GoldfishRtc::kTimeLow);
  hi = rd(GoldfishRtc::kTimeHigh);
  EXPECT_EQ(hi << 32 | lo, host_ns);
}

TEST_F(GoldfishRtcTest, GuestWritesSetTheTime) {
  uint64_t wanted = 0x0123456789abcdefull;
  wr(GoldfishRtc::kTimeHigh, static_cast<uint32_t>(wanted >> 32));
  wr(GoldfishRtc::kTimeLow, static_cast<uint32_t>(wanted));
  EXPECT_EQ(rtc.now_ns(), wanted);
  host_ns += 1000;
  EXPECT_EQ(rtc.now_ns(), wanted + 1000);
  // Setting an earlier time works too (negative offset).
  wr(GoldfishRtc::kTimeHigh, 0);
  wr(GoldfishRtc::kTimeLow, 5);
  EXPECT_EQ(rtc.now_ns(), 5u);
}

TEST_F(GoldfishRtcTest, PastAlarmFiresAtOnce) {
  wr(GoldfishRtc::kIrqEnabled, 1);
  set_alarm(kHostStart - 1);
  EXPECT_EQ(rd(GoldfishRtc::kAlarmStatus), 0u);
  EXPECT_TRUE(irq.level);
  wr(GoldfishRtc::kClearInterrupt, 1);
  EXPECT_FALSE(irq.level);
}

TEST_F(GoldfishRtcTest, FutureAlarmFiresInUpdate) {
  wr(GoldfishRtc::kIrqEnabled, 1);
  set_alarm(kHostStart + 1'000'000);
  EXPECT_EQ(rd(GoldfishRtc::kAlarmStatus), 1u);
  EXPECT_EQ(rd(GoldfishRtc::kAlarmLow),
            static_cast<uint32_t>(kHostStart + 1'000'000));
  EXPECT_EQ(rd(GoldfishRtc::kAlarmHigh),
            static_cast<uint32_t>((kHostStart + 1'000'000) >> 32));
  EXPECT_EQ(rtc.ns_until_alarm(), 1'000'000u);
  rtc.update();
  EXPECT_FALSE(irq.level);
  host_ns += 999'999;
  rtc.update();
  EXPECT_FALSE(irq.level);
  host_ns += 1;
  EXPECT_EQ(rtc.ns_until_alarm(), 0u);
  rtc.update();
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(GoldfishRtc::kAlarmStatus), 0u);
  EXPECT_EQ(rtc.ns_until_alarm(), std::nullopt);
}

TEST_F(GoldfishRtcTest, InterruptNeedsIrqEnabled) {
  set_alarm(kHostStart);
  EXPECT_FALSE(irq.level);
  wr(GoldfishRtc::kIrqEnabled, 1);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(GoldfishRtc::kIrqEnabled), 1u);
  wr(GoldfishRtc::kIrqEnabled, 0);
  EXPECT_FALSE(irq.level);
}

TEST_F(GoldfishRtcTest, ClearAlarmDisarms) {
  wr(GoldfishRtc::kIrqEnabled, 1);
  set_alarm(kHostStart + 10);
  wr(GoldfishRtc::kClearAlarm, 1);
  EXPECT_EQ(rd(GoldfishRtc::kAlarmStatus), 0u);
  host_ns += 100;
  rtc.update();
  EXPECT_FALSE(irq.level);
}

TEST_F(GoldfishRtcTest, ResetKeepsTheTimeAndDisarms) {
  wr(GoldfishRtc::kTimeHigh, 1);
  uint64_t t = rtc.now_ns();
  wr(GoldfishRtc::kIrqEnabled, 1);
  set_alarm(t);
  ASSERT_TRUE(irq.level);
  rtc.reset();
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(rtc.now_ns(), t);
  EXPECT_EQ(rd(GoldfishRtc::kIrqEnabled), 0u);
  EXPECT_EQ(rd(GoldfishRtc::kAlarmLow), 0u);
}

TEST_F(GoldfishRtcTest, OddAccessesAreHarmless) {
  for (uint64_t off = 0; off < GoldfishRtc::kWindowSize; ++off)
    for (unsigned size : {1u, 2u, 4u, 8u}) rtc.mmio_read(off, size);
  rtc.mmio_write(GoldfishRtc::kTimeLow, 1, 0);
  rtc.mmio_write(GoldfishRtc::kTimeLow + 1, 4, 0);
  rtc.mmio_write(0x800, 4, 0);
  EXPECT_EQ(rtc.now_ns(), kHostStart);
}

TEST_F(GoldfishRtcTest, DefaultClockIsTheHostWallClock) {
  GoldfishRtc real(nullptr);
  EXPECT_GT(real.now_ns(), kHostStart);  // after late 2023
}

TEST_F(GoldfishRtcTest, StateRoundTrip) {
  wr(GoldfishRtc::kTimeHigh, 7);  // offset
  wr(GoldfishRtc::kIrqEnabled, 1);
  set_alarm(rtc.now_ns() + 5000);
  rd(GoldfishRtc::kTimeLow);  // latch

  uint64_t host2 = kHostStart;  // the destination's wall clock agrees
  FakeIrq irq2;
  GoldfishRtc rtc2(&irq2, [&] { return host2; });
  ASSERT_EQ(test_util::round_trip(rtc, rtc2), "");
  EXPECT_EQ(test_util::save_state(rtc2), test_util::save_state(rtc));
  EXPECT_EQ(rtc2.now_ns(), rtc.now_ns());
  EXPECT_EQ(rtc2.mmio_read(GoldfishRtc::kTimeHigh, 4),
            rtc.mmio_read(GoldfishRtc::kTimeHigh, 4));
  EXPECT_EQ(rtc2.mmio_read(GoldfishRtc::kAlarmStatus, 4), 1u);
  EXPECT_FALSE(irq2.level);
  host2 += 5000;
  rtc2.update();
  EXPECT_TRUE(irq2.level);
  EXPECT_EQ(rtc.state_name(), "goldfish_rtc");
}

}  // namespace
}  // namespace ferry
