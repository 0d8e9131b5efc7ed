#include "net/slirp_timers.h"

#include <algorithm>

namespace ferry {

void* SlirpTimers::create(Action fire) {
  timers_.push_back(std::make_unique<Timer>(Timer{next_serial_++, false, 0, std::move(fire)}));
  return timers_.back().get();
}

void SlirpTimers::destroy(void* timer) {
  std::erase_if(timers_, [timer](const std::unique_ptr<Timer>& t) { return t.get() == timer; });
}

void SlirpTimers::arm(void* timer, int64_t expire_ms) {
  auto* t = static_cast<Timer*>(timer);
  t->armed = true;
  t->expire_ms = expire_ms;
}

int64_t SlirpTimers::ms_until_next(int64_t now_ms) const {
  int64_t next = -1;
  for (const auto& t : timers_) {
    if (!t->armed) continue;
    const int64_t wait = std::max<int64_t>(0, t->expire_ms - now_ms);
    if (next < 0 || wait < next) next = wait;
  }
  return next;
}

void SlirpTimers::run_due(int64_t now_ms) {
  // Collect first: an action changes the list, and one that re-arms its
  // timer in the past must wait for the next round rather than loop here.
  // Serials, not pointers, name them: a destroyed timer's memory may be reused.
  std::vector<uint64_t> due;
  for (const auto& t : timers_) {
    if (t->armed && t->expire_ms <= now_ms) {
      t->armed = false;
      due.push_back(t->serial);
    }
  }
  for (uint64_t serial : due) {
    auto it =
        std::find_if(timers_.begin(), timers_.end(),
                     [serial](const std::unique_ptr<Timer>& t) { return t->serial == serial; });
    if (it == timers_.end()) continue;  // destroyed by an earlier action
    const Action fire = (*it)->fire;    // a copy: the action may destroy its timer
    fire();
  }
}

}  // namespace ferry
