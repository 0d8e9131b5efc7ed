// Announcing where a guest's MAC address now lives, after a migration (or
// on the QMP command announce-self): frames with the card's MAC as source,
// so every switch (and the bridge in front of a tap) learns the new port.
//
// As QEMU: a RARP request (ethertype 0x8035) from the card's MAC to the
// broadcast address, sent on a schedule of `rounds` rounds: the first at
// once, the next after `initial` ms, each later one `step` ms further
// apart than the one before, never more than `max` ms apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/netdev_config.h"

namespace ferry {

struct AnnounceParams {
  uint64_t initial_ms = 50;  // QEMU's defaults (announce-initial, -max, -rounds, -step)
  uint64_t max_ms = 550;
  uint64_t rounds = 5;
  uint64_t step_ms = 100;
};

// The 60-byte RARP request announcing `mac`.
std::vector<uint8_t> make_announce_frame(const MacAddress& mac);

// Applies the members of `args` named with `prefix` ("announce-" for the
// migration parameters, "" for announce-self) within QEMU's bounds; false
// with *error naming a bad value (nothing applied). Other members are
// left to the caller.
bool parse_announce_params(const nlohmann::json& args, const std::string& prefix,
                           AnnounceParams* params, std::string* error);
nlohmann::json announce_params_json(const AnnounceParams& params, const std::string& prefix);

// One card's rounds; times in ms on any monotonic clock.
class AnnounceSchedule {
 public:
  void start(const AnnounceParams& params, int64_t now_ms);
  void stop() { rounds_left_ = 0; }
  bool active() const { return rounds_left_ > 0; }
  // When the next round is due (only while active()).
  int64_t due_ms() const { return due_ms_; }
  // Counts the round that was due and schedules the next one.
  void round_sent(int64_t now_ms);

 private:
  AnnounceParams params_;
  uint64_t rounds_left_ = 0;
  int64_t due_ms_ = 0;
};

}  // namespace ferry
