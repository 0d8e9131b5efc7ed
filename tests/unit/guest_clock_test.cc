#include "devices/guest_clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ferry {
namespace {

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

TEST(GuestClockTest, StartsPausedAtZero) {
  GuestClock clock;
  EXPECT_TRUE(clock.paused());
  EXPECT_EQ(clock.ticks(), 0u);
  sleep_ms(2);
  EXPECT_EQ(clock.ticks(), 0u);
}

TEST(GuestClockTest, AdvancesAtTimebaseWhileRunning) {
  GuestClock clock;
  clock.resume();
  EXPECT_FALSE(clock.paused());
  uint64_t t0 = clock.ticks();
  sleep_ms(5);
  uint64_t t1 = clock.ticks();
  // At least 5 ms at 10 MHz; sleeping can only take longer.
  EXPECT_GE(t1 - t0, 50'000u);
}

TEST(GuestClockTest, PauseFreezesAndResumeContinues) {
  GuestClock clock;
  clock.set_ticks(1'000'000);
  clock.resume();
  sleep_ms(1);
  clock.pause();
  uint64_t frozen = clock.ticks();
  EXPECT_GE(frozen, 1'010'000u);
  sleep_ms(3);
  EXPECT_EQ(clock.ticks(), frozen);
  clock.pause();  // no-op
  EXPECT_EQ(clock.ticks(), frozen);

  clock.resume();
  uint64_t after = clock.ticks();
  EXPECT_GE(after, frozen);
  // The pause did not count: far less than the 3 ms slept while paused
  // (generous bound against a loaded machine).
  EXPECT_LT(after - frozen, 10'000'000u);
  clock.resume();  // no-op: keeps running from where it is
  EXPECT_GE(clock.ticks(), after);
}

TEST(GuestClockTest, SetTicksWhilePausedAndRunning) {
  GuestClock clock;
  clock.set_ticks(42);
  EXPECT_EQ(clock.ticks(), 42u);
  EXPECT_TRUE(clock.paused());
  clock.resume();
  clock.set_ticks(5'000'000'000ull);
  EXPECT_FALSE(clock.paused());
  EXPECT_GE(clock.ticks(), 5'000'000'000ull);
  clock.set_ticks(7);  // backwards is allowed: a guest write to mtime
  EXPECT_LT(clock.ticks(), 5'000'000'000ull);
}

TEST(GuestClockTest, TicksToHostNs) {
  EXPECT_EQ(GuestClock::kTimebaseHz, 10'000'000u);
  EXPECT_EQ(GuestClock::ticks_to_host_ns(0), 0u);
  EXPECT_EQ(GuestClock::ticks_to_host_ns(1), 100u);
  EXPECT_EQ(GuestClock::ticks_to_host_ns(10'000'000), 1'000'000'000u);
  EXPECT_EQ(GuestClock::ticks_to_host_ns(~0ull), ~0ull);  // saturates
}

TEST(GuestClockTest, HostNsUntil) {
  GuestClock clock;
  clock.set_ticks(1000);
  EXPECT_EQ(clock.host_ns_until(500), 0u);
  EXPECT_EQ(clock.host_ns_until(1000), 0u);
  EXPECT_EQ(clock.host_ns_until(1010), 1000u);
  EXPECT_EQ(clock.host_ns_until(~0ull), ~0ull);
}

TEST(GuestClockTest, ReadsStayMonotonicWhileAnotherThreadPausesAndResumes) {
  GuestClock clock;
  clock.resume();
  std::atomic<bool> done{false};
  std::atomic<bool> backwards{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      uint64_t now = clock.ticks();
      if (now < last) backwards = true;
      last = now;
    }
  });
  for (int i = 0; i < 2000; ++i) {
    clock.pause();
    clock.resume();
  }
  done = true;
  reader.join();
  EXPECT_FALSE(backwards.load());
}

}  // namespace
}  // namespace ferry
