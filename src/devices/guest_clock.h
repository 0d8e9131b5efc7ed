// GuestClock: the guest's 10 MHz timebase (the value of `mtime` and `time`).
//
// While running, ticks advance with the host's CLOCK_MONOTONIC; `pause()` freezes
// them and `resume()` continues from the frozen value, so guest time does not
// advance while the VM is stopped (like QEMU's virtual clock) and never runs
// backwards. `set_ticks()` moves the clock to a given value (a guest write to
// mtime, a reset, or a migration load, so time is continuous across hosts).
//
// A new clock is paused at 0 ticks: the VM calls `resume()` when its vCPU starts
// running and `pause()` whenever it stops (user stop, stop-and-copy, shutdown).
//
// Threads: every method may be called from any thread. `ticks()` is lock-free
// (a sequence lock around one clock_gettime) and cheap enough for rdtime;
// the writers (`pause`, `resume`, `set_ticks`) serialize on a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>

namespace ferry {

class GuestClock {
 public:
  static constexpr uint64_t kTimebaseHz = 10'000'000;
  static constexpr uint64_t kNsPerTick = 1'000'000'000 / kTimebaseHz;

  GuestClock() = default;
  GuestClock(const GuestClock&) = delete;
  GuestClock& operator=(const GuestClock&) = delete;

  // Current guest time in ticks of kTimebaseHz.
  uint64_t ticks() const;

  // Freezes the clock at its current value (no-op when already paused).
  void pause();
  // Continues from the frozen value (no-op when already running).
  void resume();
  bool paused() const;

  // Sets the current value; a running clock keeps running from it.
  void set_ticks(uint64_t ticks);

  // Host nanoseconds that `delta` guest ticks take while running (saturates).
  static constexpr uint64_t ticks_to_host_ns(uint64_t delta) {
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    return delta > kMax / kNsPerTick ? kMax : delta * kNsPerTick;
  }
  // Host nanoseconds until the clock reaches `deadline` (0 when reached).
  // Meaningful only while running; a paused clock never reaches it.
  uint64_t host_ns_until(uint64_t deadline) const {
    uint64_t now = ticks();
    return deadline <= now ? 0 : ticks_to_host_ns(deadline - now);
  }

 private:
  struct Snapshot {
    uint64_t base_ticks;
    uint64_t base_ns;
    bool paused;
  };
  static uint64_t host_ns();
  static uint64_t ticks_at(const Snapshot& s, uint64_t now_ns);
  // A consistent snapshot and, for a running clock, a host time read inside
  // the same sequence-lock window (so no reader can see a value later than
  // one a concurrent pause() freezes).
  Snapshot read(uint64_t* now_ns) const;
  // Writer side (caller holds write_mutex_): `update` gets the current
  // snapshot and a host time read after the sequence turned odd.
  template <typename F>
  void write(F update);

  std::mutex write_mutex_;
  // Sequence lock: odd while a writer updates the fields below. Writers read
  // the host time after making it odd, readers before checking it again.
  std::atomic<uint32_t> seq_{0};
  // Guest ticks at host time base_ns_ (running), or the frozen value (paused).
  std::atomic<uint64_t> base_ticks_{0};
  std::atomic<uint64_t> base_ns_{0};
  std::atomic<bool> paused_{true};
};

}  // namespace ferry
