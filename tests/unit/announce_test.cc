// The announce after a migration: the RARP frame, the parameters (QEMU's
// names and bounds) and the schedule of rounds.
#include "net/announce.h"

#include <gtest/gtest.h>

#include <vector>

namespace ferry {
namespace {

constexpr MacAddress kMac = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

uint16_t be16(const std::vector<uint8_t>& f, size_t off) {
  return static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
}

TEST(AnnounceFrameTest, IsABroadcastRarpRequestFromTheCard) {
  const std::vector<uint8_t> f = make_announce_frame(kMac);
  ASSERT_EQ(f.size(), 60u);  // the minimum Ethernet frame
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f[i], 0xff) << "destination byte " << i;
  EXPECT_TRUE(std::equal(kMac.begin(), kMac.end(), f.begin() + 6));   // source
  EXPECT_EQ(be16(f, 12), 0x8035);                                      // RARP
  EXPECT_EQ(be16(f, 14), 1);                                           // Ethernet
  EXPECT_EQ(be16(f, 16), 0x0800);                                      // IPv4
  EXPECT_EQ(f[18], 6);
  EXPECT_EQ(f[19], 4);
  EXPECT_EQ(be16(f, 20), 3);                                           // reverse request
  EXPECT_TRUE(std::equal(kMac.begin(), kMac.end(), f.begin() + 22));  // sender
  EXPECT_TRUE(std::equal(kMac.begin(), kMac.end(), f.begin() + 32));  // target
  for (size_t i : {28, 29, 30, 31, 38, 39, 40, 41}) EXPECT_EQ(f[i], 0) << "IP byte " << i;
  for (size_t i = 42; i < 60; ++i) EXPECT_EQ(f[i], 0) << "padding byte " << i;
  // Another card, another frame.
  MacAddress other = kMac;
  other[5] = 0x01;
  EXPECT_NE(make_announce_frame(other), f);
}

TEST(AnnounceParamsTest, DefaultsAreQemus) {
  const AnnounceParams p;
  EXPECT_EQ(p.initial_ms, 50u);
  EXPECT_EQ(p.max_ms, 550u);
  EXPECT_EQ(p.rounds, 5u);
  EXPECT_EQ(p.step_ms, 100u);
}

TEST(AnnounceParamsTest, AcceptsQemusNamesWithAndWithoutPrefix) {
  AnnounceParams p;
  std::string error;
  ASSERT_TRUE(parse_announce_params({{"initial", 10}, {"max", 20}, {"rounds", 3}, {"step", 5}}, "",
                                    &p, &error))
      << error;
  EXPECT_EQ(p.initial_ms, 10u);
  EXPECT_EQ(p.max_ms, 20u);
  EXPECT_EQ(p.rounds, 3u);
  EXPECT_EQ(p.step_ms, 5u);

  // The migration's parameters: announce-*; the bare names are someone else's.
  AnnounceParams m;
  ASSERT_TRUE(parse_announce_params(
      {{"announce-initial", 70}, {"announce-rounds", 9}, {"initial", 1}, {"downtime-limit", 5}},
      "announce-", &m, &error));
  EXPECT_EQ(m.initial_ms, 70u);
  EXPECT_EQ(m.rounds, 9u);
  EXPECT_EQ(m.max_ms, 550u);  // not given: unchanged
  EXPECT_EQ(m.step_ms, 100u);

  // Nothing given: nothing changes.
  AnnounceParams d;
  ASSERT_TRUE(parse_announce_params(nlohmann::json::object(), "", &d, &error));
  EXPECT_EQ(d.rounds, 5u);
}

TEST(AnnounceParamsTest, BoundsAreQemus) {
  // QEMU's migrate_params_check: initial and max 0..100000, rounds 0..1000
  // (0: no announce at all), step 1..10000.
  std::string error;
  AnnounceParams p;
  ASSERT_TRUE(parse_announce_params(
      {{"initial", 100000}, {"max", 100000}, {"rounds", 1000}, {"step", 10000}}, "", &p, &error))
      << error;
  EXPECT_EQ(p.rounds, 1000u);
  ASSERT_TRUE(parse_announce_params({{"initial", 0}, {"max", 0}, {"rounds", 0}, {"step", 1}}, "",
                                    &p, &error))
      << error;
  EXPECT_EQ(p.initial_ms, 0u);
  EXPECT_EQ(p.max_ms, 0u);
  EXPECT_EQ(p.rounds, 0u);
  EXPECT_EQ(p.step_ms, 1u);
}

TEST(AnnounceParamsTest, RejectsValuesOutOfBoundsAndAppliesNothing) {
  struct Bad {
    nlohmann::json args;
    std::string prefix;
    std::string message;
  };
  const Bad bad[] = {
      {{{"initial", 100001}}, "", "Parameter 'initial' expects a number between 0 and 100000"},
      {{{"max", 100001}}, "", "Parameter 'max' expects a number between 0 and 100000"},
      {{{"rounds", 1001}}, "", "Parameter 'rounds' expects a number between 0 and 1000"},
      {{{"step", 0}}, "", "Parameter 'step' expects a number between 1 and 10000"},
      {{{"step", 10001}}, "", "Parameter 'step' expects a number between 1 and 10000"},
      {{{"rounds", -1}}, "", "Parameter 'rounds' expects a number between 0 and 1000"},
      {{{"initial", "50"}}, "", "Parameter 'initial' expects a number between 0 and 100000"},
      {{{"max", 1.5}}, "", "Parameter 'max' expects a number between 0 and 100000"},
      {{{"announce-step", 0}}, "announce-",
       "Parameter 'announce-step' expects a number between 1 and 10000"},
  };
  for (const Bad& b : bad) {
    AnnounceParams p;
    p.initial_ms = 7;
    std::string error;
    // A good value next to the bad one is not applied either.
    nlohmann::json args = b.args;
    if (!args.contains(b.prefix + "initial")) args[b.prefix + "initial"] = 8;
    EXPECT_FALSE(parse_announce_params(args, b.prefix, &p, &error)) << args.dump();
    EXPECT_EQ(error, b.message) << args.dump();
    EXPECT_EQ(p.initial_ms, 7u) << args.dump();
  }
}

TEST(AnnounceParamsTest, JsonRoundTrips) {
  const AnnounceParams p{1, 2, 3, 4};
  const nlohmann::json j = announce_params_json(p, "announce-");
  EXPECT_EQ(j, (nlohmann::json{{"announce-initial", 1},
                               {"announce-max", 2},
                               {"announce-rounds", 3},
                               {"announce-step", 4}}));
  AnnounceParams q;
  std::string error;
  ASSERT_TRUE(parse_announce_params(j, "announce-", &q, &error)) << error;
  EXPECT_EQ(announce_params_json(q, ""), announce_params_json(p, ""));
}

// The times the rounds fall on when each is sent when due.
std::vector<int64_t> round_times(const AnnounceParams& params, int64_t start) {
  AnnounceSchedule s;
  s.start(params, start);
  std::vector<int64_t> times;
  while (s.active() && times.size() < 2000) {
    times.push_back(s.due_ms());
    s.round_sent(s.due_ms());
  }
  return times;
}

TEST(AnnounceScheduleTest, QemusDefaultSchedule) {
  // At once, then 50, 150, 250, 350 ms apart: 5 rounds.
  EXPECT_EQ(round_times(AnnounceParams{}, 1000),
            (std::vector<int64_t>{1000, 1050, 1200, 1450, 1800}));
}

TEST(AnnounceScheduleTest, GapsGrowByStepUpToMax) {
  // Gaps initial, initial+step, initial+2*step... capped at max.
  EXPECT_EQ(round_times(AnnounceParams{100, 250, 6, 100}, 0),
            (std::vector<int64_t>{0, 100, 300, 550, 800, 1050}));
  // A max below initial caps every gap.
  EXPECT_EQ(round_times(AnnounceParams{100, 30, 4, 10}, 5), (std::vector<int64_t>{5, 35, 65, 95}));
}

TEST(AnnounceScheduleTest, RoundCounts) {
  EXPECT_EQ(round_times(AnnounceParams{50, 550, 1, 100}, 0).size(), 1u);
  EXPECT_EQ(round_times(AnnounceParams{50, 550, 1000, 100}, 0).size(), 1000u);
  // rounds=0: never active.
  AnnounceSchedule s;
  s.start(AnnounceParams{50, 550, 0, 100}, 0);
  EXPECT_FALSE(s.active());
}

TEST(AnnounceScheduleTest, TheNextRoundCountsFromWhenTheLastWasSent) {
  AnnounceSchedule s;
  s.start(AnnounceParams{50, 550, 3, 100}, 0);
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.due_ms(), 0);
  s.round_sent(20);  // sent late: the gap runs from here
  EXPECT_EQ(s.due_ms(), 70);
  s.round_sent(75);
  EXPECT_EQ(s.due_ms(), 225);
  s.round_sent(225);
  EXPECT_FALSE(s.active());
  s.round_sent(300);  // nothing left: stays inactive
  EXPECT_FALSE(s.active());
}

TEST(AnnounceScheduleTest, StopAndRestart) {
  AnnounceSchedule s;
  s.start(AnnounceParams{50, 550, 5, 100}, 0);
  s.round_sent(0);
  s.stop();
  EXPECT_FALSE(s.active());
  // A new start replaces the old schedule: all its rounds, the first at once.
  s.start(AnnounceParams{10, 550, 2, 100}, 500);
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.due_ms(), 500);
  s.round_sent(500);
  EXPECT_EQ(s.due_ms(), 510);
  s.round_sent(510);
  EXPECT_FALSE(s.active());
}

}  // namespace
}  // namespace ferry
