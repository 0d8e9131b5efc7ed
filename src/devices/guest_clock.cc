#include "devices/guest_clock.h"

#include <time.h>

namespace ferry {

uint64_t GuestClock::host_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t GuestClock::ticks_at(const Snapshot& s, uint64_t now_ns) {
  if (s.paused) return s.base_ticks;
  uint64_t elapsed = now_ns > s.base_ns ? now_ns - s.base_ns : 0;
  return s.base_ticks + elapsed / kNsPerTick;
}

GuestClock::Snapshot GuestClock::read(uint64_t* now_ns) const {
  for (;;) {
    uint32_t before = seq_.load(std::memory_order_acquire);
    if (before & 1) continue;  // a writer is in the middle of an update
    Snapshot s{base_ticks_.load(std::memory_order_relaxed),
               base_ns_.load(std::memory_order_relaxed),
               paused_.load(std::memory_order_relaxed)};
    if (now_ns) {
      *now_ns = s.paused ? 0 : host_ns();
#if defined(__x86_64__) || defined(__i386__)
      // Keep the re-check of seq_ from running ahead of the TSC read.
      __builtin_ia32_lfence();
#endif
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == before) return s;
  }
}

template <typename F>
void GuestClock::write(F update) {
  uint32_t seq = seq_.load(std::memory_order_relaxed);
  seq_.store(seq + 1, std::memory_order_relaxed);
  // A full fence: the odd sequence must be visible before the host time is
  // read below, so a reader that misses this update read an earlier time.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  Snapshot s{base_ticks_.load(std::memory_order_relaxed),
             base_ns_.load(std::memory_order_relaxed),
             paused_.load(std::memory_order_relaxed)};
  s = update(s, host_ns());
  base_ticks_.store(s.base_ticks, std::memory_order_relaxed);
  base_ns_.store(s.base_ns, std::memory_order_relaxed);
  paused_.store(s.paused, std::memory_order_relaxed);
  seq_.store(seq + 2, std::memory_order_release);
}

uint64_t GuestClock::ticks() const {
  uint64_t now;
  Snapshot s = read(&now);
  return ticks_at(s, now);
}

bool GuestClock::paused() const { return read(nullptr).paused; }

void GuestClock::pause() {
  std::lock_guard<std::mutex> lock(write_mutex_);
  write([](Snapshot s, uint64_t now) {
    return s.paused ? s : Snapshot{ticks_at(s, now), 0, true};
  });
}

void GuestClock::resume() {
  std::lock_guard<std::mutex> lock(write_mutex_);
  write([](Snapshot s, uint64_t now) {
    return s.paused ? Snapshot{s.base_ticks, now, false} : s;
  });
}

void GuestClock::set_ticks(uint64_t ticks) {
  std::lock_guard<std::mutex> lock(write_mutex_);
  write([ticks](Snapshot s, uint64_t now) {
    return Snapshot{ticks, s.paused ? 0 : now, s.paused};
  });
}

}  // namespace ferry
