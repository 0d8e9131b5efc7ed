// Timeline: when each step of a migration's pause happened, on either side,
// in milliseconds since the first step ("ms"), and on the host's monotonic
// clock ("at", ms; the same clock in every process of the host, so a
// source's and a destination's steps can be lined up). Shown by `info migrate` and as the
// "ferry-downtime-steps" member of query-migrate, so the pause can be
// measured and the step that dominates it found.
//
// Threads: written by one migration thread; read under the manager's mutex
// (copies).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry {

class Timeline {
 public:
  void mark(const char* step) {
    const auto now = std::chrono::steady_clock::now();
    if (steps_.empty()) start_ = now;
    steps_.push_back({step, std::chrono::duration<double, std::milli>(now - start_).count(),
                      std::chrono::duration<double, std::milli>(now.time_since_epoch()).count()});
  }
  bool empty() const { return steps_.empty(); }
  void clear() { steps_.clear(); }
  nlohmann::json to_json() const {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& s : steps_) a.push_back({{"step", s.name}, {"ms", s.ms}, {"at", s.at}});
    return a;
  }

 private:
  struct Step {
    std::string name;
    double ms;
    double at;
  };
  std::chrono::steady_clock::time_point start_;
  std::vector<Step> steps_;
};

}  // namespace ferry
