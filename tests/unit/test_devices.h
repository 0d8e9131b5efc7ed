// State owners for the migration tests: a device with a table and an
// optional part (two versions of one device, as an older and a newer build
// would have), and a device that writes guest RAM from its own thread (DMA).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "memory/guest_ram.h"
#include "state/state_visitor.h"

namespace ferry::test_util {

// "test-counter": a value, a table of entries, and — in the newer build — an
// optional subsection "extra" sent only when extra != 0.
class CounterDevice : public StateOwner {
 public:
  struct Entry {
    uint64_t addr = 0;
    uint32_t len = 0;
    bool operator==(const Entry&) const = default;
  };
  explicit CounterDevice(bool newer = true) : newer_(newer) {}

  std::string_view state_name() const override { return "test-counter"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor& v) override {
    v.field("value", value);
    v.struct_array("entries", entries, kMaxEntries, [](StateVisitor& v, Entry& e) {
      v.field("addr", e.addr);
      v.field("len", e.len);
    });
    if (newer_) v.subsection("extra", extra != 0, [this](StateVisitor& v) { v.field("extra", extra); });
  }
  void vm_state_changed(bool running) override { (running ? starts : stops)++; }
  void pre_save() override { ++pre_saves; }
  void post_load() override { ++post_loads; }

  static constexpr size_t kMaxEntries = 8;
  uint64_t value = 0;
  uint64_t extra = 0;
  std::vector<Entry> entries;
  int starts = 0, stops = 0, pre_saves = 0, post_loads = 0;

 private:
  bool newer_;
};

// "test-dma": while the VM runs, a thread of its own writes a counter into
// random pages of [base, base + pages * 4096) through GuestRam's write path;
// when the VM stops it drains (joins the thread), as a real device finishes
// its in-flight I/O before its state is saved.
class DmaDevice : public StateOwner {
 public:
  DmaDevice(GuestRam& ram, uint64_t base, uint64_t pages)
      : ram_(ram), base_(base), pages_(pages) {}
  ~DmaDevice() override { stop_thread(); }

  std::string_view state_name() const override { return "test-dma"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor& v) override { v.field("writes", writes_saved); }
  void vm_state_changed(bool running) override {
    if (running) start_thread();
    else stop_thread();
  }
  void pre_save() override { writes_saved = writes.load(); }

  std::atomic<uint64_t> writes{0};
  uint64_t writes_saved = 0;

 private:
  void start_thread() {
    if (thread_.joinable()) return;
    stop_.store(false);
    thread_ = std::thread([this] {
      std::mt19937_64 rng(writes.load() + 1);
      while (!stop_.load()) {
        const uint64_t n = writes.fetch_add(1) + 1;
        const uint64_t page = rng() % pages_;
        const uint64_t offset = (rng() % (4096 / 8)) * 8;
        ram_.write(base_ + page * 4096 + offset, &n, sizeof n);
        if (n % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  void stop_thread() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  GuestRam& ram_;
  uint64_t base_, pages_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// "test-gate": its pre_save (on the vCPU thread, during stop-and-copy)
// waits until the test opens the gate, so a test can act while a migration
// sits in stop-and-copy.
class GateDevice : public StateOwner {
 public:
  std::string_view state_name() const override { return "test-gate"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor&) override {}
  void pre_save() override {
    std::unique_lock<std::mutex> lock(mutex_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  bool wait_entered(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return entered_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool entered_ = false, open_ = false;
};

}  // namespace ferry::test_util
