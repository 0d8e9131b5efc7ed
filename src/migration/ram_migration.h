// RamMigration: guest RAM as a live migration handler (pre-copy).
//
// Source: at setup the dirty log is cleared and every page ever written
// since power-on becomes pending (a page never written is zero, and so is a
// fresh destination's RAM: it needs neither reading nor sending). Each
// iteration sends pending pages, a zero page as a flag only; each sync adds
// the pages the guest dirtied meanwhile. Destination: pages that arrive as
// zero are not touched unless they hold data from earlier in this stream.
//
// Threads: source methods run on the migration thread; `harvest` must make
// the vCPU drop its write TLB (Vm::sync_dirty_log). load() runs on the
// incoming thread while the VM is not running.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "memory/guest_ram.h"
#include "migration/savevm.h"

namespace ferry {

class RamMigration : public LiveHandler {
 public:
  using Harvest = std::function<void(std::vector<uint64_t>& bits)>;

  struct Counters {
    uint64_t zero_pages = 0;    // "duplicate"
    uint64_t normal_pages = 0;  // pages sent with data
    uint64_t bytes = 0;         // RAM bytes put on the stream
    uint64_t last_sync_dirty_pages = 0;
  };

  RamMigration(GuestRam& ram, Harvest harvest);

  std::string_view live_name() const override { return "ram"; }
  int live_version() const override { return 1; }
  bool save_setup(StreamWriter& out) override;
  Progress save_iterate(StreamWriter& out, uint64_t budget_bytes) override;
  void sync() override;
  uint64_t pending_bytes() const override { return pending_pages_ * kPageSize; }
  bool save_complete(StreamWriter& out) override;
  bool load(StreamReader& in, int version) override;

  const Counters& counters() const { return counters_; }

 private:
  void send_page(StreamWriter& out, uint64_t index);

  GuestRam& ram_;
  Harvest harvest_;
  std::vector<uint64_t> pending_;  // bitmap of pages still to send
  uint64_t pending_pages_ = 0;
  size_t cursor_ = 0;  // bitmap word where the current pass continues
  std::vector<uint64_t> scratch_;
  Counters counters_;
  bool load_started_ = false;
};

}  // namespace ferry
