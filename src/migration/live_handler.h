// LiveHandler: state that is sent while the guest runs (RAM; disks next),
// like QEMU's SaveVMHandlers. The outgoing loop treats every live handler
// alike: it asks each how much it still holds, lets each iterate, and
// completes each during stop-and-copy; it names none of them.
//
// Source (migration thread):
//   save_setup -> (save_iterate* sync)* -> save_complete -> save_cleanup
// Destination (incoming thread, the VM not running):
//   load_setup -> load (per START / PART / END section) -> load_cleanup
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "migration/stream.h"

namespace ferry {

// Figures of the whole outgoing migration that handlers may show beside
// their own counters (QEMU shows them in its "ram" member).
struct LiveLoopFigures {
  double mbps = 0;
  uint64_t dirty_sync_count = 0;
  double last_pass_seconds = 0;
  uint64_t transferred = 0;  // bytes on the stream so far
};

class LiveHandler {
 public:
  enum class Progress { kMore, kDone, kError };
  virtual ~LiveHandler() = default;

  // Section name; also its member in query-migrate ("ram", "disk").
  virtual std::string_view live_name() const = 0;
  virtual int live_version() const = 0;
  virtual int live_min_version() const { return 1; }

  // --- source, migration thread ---
  // Starts dirty tracking and makes everything pending; the VM runs.
  virtual bool save_setup(StreamWriter& out) = 0;
  // Sends a part of what is pending, about `budget_bytes`; kDone when
  // nothing is pending right now.
  virtual Progress save_iterate(StreamWriter& out, uint64_t budget_bytes) = 0;
  // Adds what the guest changed since the last sync to what is pending.
  virtual void sync() = 0;
  // Bytes still to send.
  virtual uint64_t pending_bytes() const = 0;
  // Bytes the guest changed between the last two syncs (the dirty rate).
  virtual uint64_t last_sync_dirty_bytes() const = 0;
  // With the VM stopped: sends everything that is left.
  virtual bool save_complete(StreamWriter& out) = 0;
  virtual void save_cleanup() {}
  // Counters under QEMU's names, for query-migrate.
  virtual nlohmann::json query_stats(const LiveLoopFigures& loop) const = 0;

  // --- destination, incoming thread ---
  virtual bool load_setup() { return true; }
  // Loads one section payload (START, PART or END).
  virtual bool load(StreamReader& in, int version) = 0;
  virtual void load_cleanup() {}
};

}  // namespace ferry
