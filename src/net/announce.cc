#include "net/announce.h"

#include <algorithm>

namespace ferry {

std::vector<uint8_t> make_announce_frame(const MacAddress& mac) {
  std::vector<uint8_t> f(60, 0);  // the minimum Ethernet frame, zero-padded
  std::fill(f.begin(), f.begin() + 6, 0xff);
  std::copy(mac.begin(), mac.end(), f.begin() + 6);
  f[12] = 0x80, f[13] = 0x35;  // RARP
  f[14] = 0x00, f[15] = 0x01;  // hardware type: Ethernet
  f[16] = 0x08, f[17] = 0x00;  // protocol type: IPv4
  f[18] = 6, f[19] = 4;        // address lengths
  f[20] = 0x00, f[21] = 0x03;  // opcode: reverse request
  std::copy(mac.begin(), mac.end(), f.begin() + 22);  // sender hardware address
  std::copy(mac.begin(), mac.end(), f.begin() + 32);  // target hardware address
  return f;                                           // (both IP addresses 0)
}

bool parse_announce_params(const nlohmann::json& args, const std::string& prefix,
                           AnnounceParams* params, std::string* error) {
  struct Field {
    const char* name;
    uint64_t AnnounceParams::*member;
    uint64_t min, max;  // QEMU's bounds (migrate_params_check): 0 rounds = no announce
  };
  static const Field kFields[] = {{"initial", &AnnounceParams::initial_ms, 0, 100000},
                                  {"max", &AnnounceParams::max_ms, 0, 100000},
                                  {"rounds", &AnnounceParams::rounds, 0, 1000},
                                  {"step", &AnnounceParams::step_ms, 1, 10000}};
  AnnounceParams next = *params;
  for (const Field& f : kFields) {
    const std::string key = prefix + f.name;
    if (!args.contains(key)) continue;
    const nlohmann::json& v = args[key];
    if (!v.is_number_integer() || v.get<int64_t>() < static_cast<int64_t>(f.min) ||
        v.get<int64_t>() > static_cast<int64_t>(f.max)) {
      *error = "Parameter '" + key + "' expects a number between " + std::to_string(f.min) +
               " and " + std::to_string(f.max);
      return false;
    }
    next.*f.member = v.get<uint64_t>();
  }
  *params = next;
  return true;
}

nlohmann::json announce_params_json(const AnnounceParams& p, const std::string& prefix) {
  return {{prefix + "initial", p.initial_ms},
          {prefix + "max", p.max_ms},
          {prefix + "rounds", p.rounds},
          {prefix + "step", p.step_ms}};
}

void AnnounceSchedule::start(const AnnounceParams& params, int64_t now_ms) {
  params_ = params;
  rounds_left_ = params.rounds;
  due_ms_ = now_ms;  // the first round at once
}

void AnnounceSchedule::round_sent(int64_t now_ms) {
  if (!rounds_left_) return;
  if (--rounds_left_ == 0) return;
  // Rounds sent so far, minus one: 0 before the second round.
  const uint64_t gaps = params_.rounds - rounds_left_ - 1;
  const uint64_t delay = std::min(params_.initial_ms + gaps * params_.step_ms, params_.max_ms);
  due_ms_ = now_ms + static_cast<int64_t>(delay);
}

}  // namespace ferry
