// BlockMigration: the disks as a live migration handler, for storage that
// is not shared (QEMU's `migrate -b` / "blk": true, and `-i` / "inc": true).
//
// Modes, chosen for each migration:
//   shared       nothing is sent: both sides open the same images (the
//                default), and they change owner at the hand-over;
//   full (-b)    every disk's contents: what its image holds, or with a
//                backing file the whole disk read through it;
//   incremental  only what the top image itself holds: the backing file
//     (-i)       exists on both sides.
// Then, as for RAM: bulk copy of the allocated 1 MiB chunks while the guest
// runs, rounds of the chunks the guest wrote since, and the last dirty chunks
// with the VM stopped. A chunk of zeros goes as a flag only.
//
// Read-only disks are never copied (as in QEMU): they stay shared, so one
// migration can copy a disk and share another.
//
// Wire (section "disk", one for all disks): START holds the mode and, per
// disk, its size and whether it is copied; every section then holds records [u8 kind][u32 disk][u64
// offset][u32 length][data for kData], ended by kEndOfRecords (kComplete
// after the last chunks of stop-and-copy: a copy without it is unusable). The
// destination checks each against its own disks (count, sizes, bounds) and
// writes it into its own image, which it takes for itself (image locks).
//
// Threads: source methods on the migration thread, load on the incoming one.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "devices/virtio/virtio_blk.h"
#include "migration/live_handler.h"

namespace ferry {

enum class BlockMigrationMode : uint8_t { kShared = 0, kFull = 1, kIncremental = 2 };

class BlockMigration : public LiveHandler {
 public:
  explicit BlockMigration(std::vector<VirtioBlk*> disks) : disks_(std::move(disks)) {}

  // Before a migration starts (the monitor's thread).
  void set_mode(BlockMigrationMode mode) { mode_.store(mode); }

  std::string_view live_name() const override { return "disk"; }
  int live_version() const override { return 1; }
  bool save_setup(StreamWriter& out) override;
  Progress save_iterate(StreamWriter& out, uint64_t budget_bytes) override;
  void sync() override;
  uint64_t pending_bytes() const override { return pending_chunks_ * VirtioBlk::kChunk; }
  uint64_t last_sync_dirty_bytes() const override { return last_dirty_chunks_ * VirtioBlk::kChunk; }
  bool save_complete(StreamWriter& out) override;
  void save_cleanup() override;
  nlohmann::json query_stats(const LiveLoopFigures& loop) const override;
  bool load_setup() override;
  bool load(StreamReader& in, int version) override;
  void load_cleanup() override;

 private:
  struct Pending {
    std::vector<uint64_t> bits;  // chunk i of the disk still to send
  };
  void send_chunk(StreamWriter& out, unsigned disk, uint64_t chunk);
  uint64_t send_pending(StreamWriter& out, uint64_t budget_bytes);
  void mark_pending(unsigned disk, uint64_t chunk);

  std::vector<VirtioBlk*> disks_;
  std::atomic<BlockMigrationMode> mode_{BlockMigrationMode::kShared};
  BlockMigrationMode active_mode_ = BlockMigrationMode::kShared;  // this migration's
  std::vector<Pending> pending_;
  uint64_t pending_chunks_ = 0;
  uint64_t last_dirty_chunks_ = 0;
  uint64_t total_bytes_ = 0;
  uint64_t sent_bytes_ = 0;
  std::vector<uint8_t> buffer_;
  // Destination.
  bool load_copying_ = false;
  std::vector<bool> copied_;  // per disk: the source copies it
  bool load_started_ = false;   // START seen
  bool load_finished_ = false;  // the stop-and-copy records arrived
};

}  // namespace ferry
