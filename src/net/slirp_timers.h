// SlirpTimers: the timers libslirp asks its host for (SlirpCb's timer_new,
// timer_new_opaque, timer_mod, timer_free), owned by the back end that owns
// the Slirp instance and fired from its poll loop. Times are milliseconds on
// the back end's clock, as timer_mod gives them.
//
// Threads: the back end's I/O thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace ferry {

class SlirpTimers {
 public:
  using Action = std::function<void()>;

  // A new, disarmed timer; the handle is what libslirp keeps.
  void* create(Action fire);
  void destroy(void* timer);
  void arm(void* timer, int64_t expire_ms);

  // Milliseconds from `now_ms` to the nearest armed timer (0 when overdue),
  // -1 when none is armed.
  int64_t ms_until_next(int64_t now_ms) const;
  // Fires, once each, the timers due at `now_ms`. An action may arm, create
  // or destroy timers, itself included.
  void run_due(int64_t now_ms);

  size_t size() const { return timers_.size(); }

 private:
  struct Timer {
    uint64_t serial;
    bool armed = false;
    int64_t expire_ms = 0;
    Action fire;
  };

  std::vector<std::unique_ptr<Timer>> timers_;
  uint64_t next_serial_ = 0;
};

}  // namespace ferry
