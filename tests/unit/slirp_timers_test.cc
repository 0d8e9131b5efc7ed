// SlirpTimers: arming, the nearest deadline, and firing while the actions
// change the list.
#include "net/slirp_timers.h"

#include <gtest/gtest.h>

#include <vector>

namespace ferry {
namespace {

TEST(SlirpTimersTest, FiresWhatIsDueOnce) {
  SlirpTimers timers;
  std::vector<int> fired;
  void* a = timers.create([&] { fired.push_back(1); });
  void* b = timers.create([&] { fired.push_back(2); });
  EXPECT_EQ(timers.ms_until_next(0), -1);  // created disarmed
  timers.arm(a, 100);
  timers.arm(b, 40);
  EXPECT_EQ(timers.ms_until_next(10), 30);
  EXPECT_EQ(timers.ms_until_next(70), 0);  // overdue
  timers.run_due(50);
  EXPECT_EQ(fired, std::vector<int>{2});
  timers.run_due(60);
  EXPECT_EQ(fired, std::vector<int>{2});  // disarmed once fired
  EXPECT_EQ(timers.ms_until_next(60), 40);
  timers.run_due(100);
  EXPECT_EQ(fired, (std::vector<int>{2, 1}));
  EXPECT_EQ(timers.ms_until_next(100), -1);
}

TEST(SlirpTimersTest, ActionsMayRearmAndDestroy) {
  SlirpTimers timers;
  int self_rearm = 0, victim = 0, suicide = 0;
  void* rearm = nullptr;
  void* doomed = nullptr;
  void* killer = nullptr;
  rearm = timers.create([&] {
    ++self_rearm;
    timers.arm(rearm, 0);  // in the past: the next round, not a loop
  });
  killer = timers.create([&] { timers.destroy(doomed); });
  doomed = timers.create([&] { ++victim; });
  void* self_destroy = nullptr;
  self_destroy = timers.create([&] {
    ++suicide;
    timers.destroy(self_destroy);
  });
  for (void* t : {rearm, killer, doomed, self_destroy}) timers.arm(t, 10);

  timers.run_due(10);
  EXPECT_EQ(self_rearm, 1);
  EXPECT_EQ(victim, 0);  // destroyed by an earlier action of the same round
  EXPECT_EQ(suicide, 1);
  EXPECT_EQ(timers.size(), 2u);
  timers.run_due(11);
  EXPECT_EQ(self_rearm, 2);
}

}  // namespace
}  // namespace ferry
