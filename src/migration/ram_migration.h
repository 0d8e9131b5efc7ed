// RamMigration: guest RAM as a live migration handler (pre-copy).
//
// Source: at setup the dirty log is cleared and every page ever written
// since power-on becomes pending: a page never written is zero, and the
// stream's configuration tells the destination to assume exactly that
// (kRamUnsentZero), so it needs neither reading nor sending. Each iteration
// sends pending pages, a zero page as a flag only; each sync adds the pages
// the guest dirtied meanwhile. Destination: load_setup() clears whatever the
// destination's own loader wrote, so its RAM holds only what arrives.
//
// Threads: source methods run on the migration thread; the dirty log is
// taken through the CPU back end (DirtyLogSync). Load methods run on the
// incoming thread while the VM is not running.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "memory/dirty_log_sync.h"
#include "memory/guest_ram.h"
#include "migration/live_handler.h"

namespace ferry {

class RamMigration : public LiveHandler {
 public:
  struct Counters {
    uint64_t zero_pages = 0;    // "duplicate"
    uint64_t normal_pages = 0;  // pages sent with data
    uint64_t bytes = 0;         // RAM bytes put on the stream
    uint64_t last_sync_dirty_pages = 0;
    uint64_t pass_pages = 0;       // pages sent since the last sync
    uint64_t last_pass_pages = 0;  // pages sent between the last two syncs
  };

  RamMigration(GuestRam& ram, DirtyLogSync& dirty_log);

  std::string_view live_name() const override { return "ram"; }
  int live_version() const override { return 1; }
  bool save_setup(StreamWriter& out) override;
  Progress save_iterate(StreamWriter& out, uint64_t budget_bytes) override;
  void sync() override;
  uint64_t pending_bytes() const override { return pending_pages_ * kPageSize; }
  uint64_t last_sync_dirty_bytes() const override {
    return counters_.last_sync_dirty_pages * kPageSize;
  }
  bool save_complete(StreamWriter& out) override;
  nlohmann::json query_stats(const LiveLoopFigures& loop) const override;
  bool load_setup() override;
  bool load(StreamReader& in, int version) override;

  const Counters& counters() const { return counters_; }

 private:
  void send_page(StreamWriter& out, uint64_t index);

  GuestRam& ram_;
  DirtyLogSync& dirty_log_;
  std::vector<uint64_t> pending_;  // bitmap of pages still to send
  uint64_t pending_pages_ = 0;
  size_t cursor_ = 0;  // bitmap word where the current pass continues
  std::vector<uint64_t> scratch_;
  Counters counters_;
  bool load_started_ = false;
};

}  // namespace ferry
