#include "migration/block_migration.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

namespace ferry {
namespace {

// kComplete ends the last section (stop-and-copy): the copy is whole.
constexpr uint8_t kEndOfRecords = 0, kData = 1, kZero = 2, kComplete = 3;
constexpr uint64_t kChunk = VirtioBlk::kChunk;

uint64_t chunk_count(uint64_t size) { return (size + kChunk - 1) / kChunk; }

bool all_zero(const uint8_t* p, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (p[i]) return false;
  return true;
}

}  // namespace

void BlockMigration::mark_pending(unsigned disk, uint64_t chunk) {
  uint64_t& w = pending_[disk].bits[chunk / 64];
  const uint64_t bit = 1ull << (chunk % 64);
  if (!(w & bit)) {
    w |= bit;
    ++pending_chunks_;
  }
}

bool BlockMigration::save_setup(StreamWriter& out) {
  active_mode_ = mode_.load();
  pending_.assign(disks_.size(), {});
  pending_chunks_ = last_dirty_chunks_ = sent_bytes_ = total_bytes_ = 0;
  out.u8(static_cast<uint8_t>(active_mode_));
  out.u32(static_cast<uint32_t>(disks_.size()));
  for (unsigned i = 0; i < disks_.size(); ++i) {
    VirtioBlk& d = *disks_[i];
    // As QEMU: a read-only disk is never copied (it stays shared).
    const bool copy = active_mode_ != BlockMigrationMode::kShared && !d.read_only();
    out.u64(d.disk_size());
    out.u8(copy);
    if (!copy) continue;
    pending_[i].bits.assign((chunk_count(d.disk_size()) + 63) / 64, 0);
    d.set_dirty_logging(true);  // from here on, what the guest writes is sent again
    for (const BlockExtent& e : d.migration_extents(active_mode_ == BlockMigrationMode::kFull)) {
      if (!e.length) continue;
      for (uint64_t c = e.offset / kChunk; c <= (e.offset + e.length - 1) / kChunk; ++c)
        mark_pending(i, c);
    }
  }
  total_bytes_ = pending_chunks_ * kChunk;
  out.u8(kEndOfRecords);
  return out.ok();
}

void BlockMigration::send_chunk(StreamWriter& out, unsigned disk, uint64_t chunk) {
  VirtioBlk& d = *disks_[disk];
  const uint64_t offset = chunk * kChunk;
  const uint32_t len = static_cast<uint32_t>(std::min(kChunk, d.disk_size() - offset));
  buffer_.resize(len);
  d.migration_read(offset, buffer_.data(), len);
  const bool zero = all_zero(buffer_.data(), len);
  out.u8(zero ? kZero : kData);
  out.u32(disk);
  out.u64(offset);
  out.u32(len);
  if (!zero) out.bytes(buffer_.data(), len);
  sent_bytes_ += len;
}

uint64_t BlockMigration::send_pending(StreamWriter& out, uint64_t budget_bytes) {
  uint64_t sent = 0;
  for (unsigned i = 0; i < pending_.size() && sent < budget_bytes && out.ok(); ++i) {
    std::vector<uint64_t>& bits = pending_[i].bits;
    for (size_t w = 0; w < bits.size() && sent < budget_bytes && out.ok(); ++w) {
      while (bits[w] && sent < budget_bytes && out.ok()) {
        const unsigned b = static_cast<unsigned>(__builtin_ctzll(bits[w]));
        bits[w] &= bits[w] - 1;
        --pending_chunks_;
        send_chunk(out, i, w * 64 + b);
        sent += kChunk;
      }
    }
  }
  return sent;
}

LiveHandler::Progress BlockMigration::save_iterate(StreamWriter& out, uint64_t budget_bytes) {
  if (active_mode_ != BlockMigrationMode::kShared) send_pending(out, budget_bytes);
  out.u8(kEndOfRecords);
  if (!out.ok()) return Progress::kError;
  return pending_chunks_ ? Progress::kMore : Progress::kDone;
}

void BlockMigration::sync() {
  if (active_mode_ == BlockMigrationMode::kShared) return;
  last_dirty_chunks_ = 0;
  for (unsigned i = 0; i < disks_.size(); ++i) {
    if (pending_[i].bits.empty()) continue;  // not copied
    const std::vector<uint64_t> dirty = disks_[i]->take_dirty_chunks();
    const uint64_t chunks = chunk_count(disks_[i]->disk_size());
    for (size_t w = 0; w < dirty.size(); ++w)
      for (uint64_t bits = dirty[w]; bits; bits &= bits - 1) {
        const uint64_t c = w * 64 + static_cast<unsigned>(__builtin_ctzll(bits));
        if (c >= chunks) continue;
        ++last_dirty_chunks_;
        mark_pending(i, c);
      }
  }
}

bool BlockMigration::save_complete(StreamWriter& out) {
  // The VM is stopped and the disks' I/O threads are idle.
  if (active_mode_ != BlockMigrationMode::kShared) {
    sync();
    send_pending(out, ~0ull);
  }
  out.u8(kComplete);
  return out.ok();
}

void BlockMigration::save_cleanup() {
  for (VirtioBlk* d : disks_) d->set_dirty_logging(false);
  pending_.clear();
}

nlohmann::json BlockMigration::query_stats(const LiveLoopFigures&) const {
  if (active_mode_ == BlockMigrationMode::kShared) return nullptr;  // QEMU shows no "disk"
  return {{"transferred", sent_bytes_}, {"remaining", pending_bytes()}, {"total", total_bytes_}};
}

bool BlockMigration::load_setup() {
  load_copying_ = false;
  load_started_ = false;
  load_finished_ = false;
  return true;
}

bool BlockMigration::load(StreamReader& in, int) {
  if (!load_started_) {  // the START section
    const uint8_t mode = in.u8();
    const uint32_t count = in.u32();
    if (!in.ok()) return false;
    if (mode > static_cast<uint8_t>(BlockMigrationMode::kIncremental)) {
      in.fail("block migration: unknown mode " + std::to_string(mode));
      return false;
    }
    load_copying_ = mode != static_cast<uint8_t>(BlockMigrationMode::kShared);
    if (load_copying_ && count != disks_.size()) {
      in.fail("block migration: the source has " + std::to_string(count) + " disks, this VM " +
              std::to_string(disks_.size()));
      return false;
    }
    copied_.assign(disks_.size(), false);
    for (uint32_t i = 0; i < count && in.ok(); ++i) {
      const uint64_t size = in.u64();
      const bool copy = in.u8() != 0;
      if (!load_copying_ || !in.ok()) continue;
      copied_[i] = copy;
      if (size != disks_[i]->disk_size()) {
        in.fail("block migration: disk " + std::to_string(i) + " has " + std::to_string(size) +
                " bytes on the source, '" + disks_[i]->image_path() + "' here has " +
                std::to_string(disks_[i]->disk_size()));
        return false;
      }
    }
    load_started_ = true;
  }
  for (;;) {
    const uint8_t kind = in.u8();
    if (!in.ok()) return false;
    if (kind == kEndOfRecords) return true;
    if (kind == kComplete) {
      load_finished_ = true;
      return true;
    }
    const uint32_t disk = in.u32();
    const uint64_t offset = in.u64();
    const uint32_t len = in.u32();
    if (!in.ok()) return false;
    if ((kind != kData && kind != kZero) || !load_copying_ || disk >= disks_.size() ||
        !copied_[disk] ||
        len > kChunk || offset > disks_[disk]->disk_size() ||
        len > disks_[disk]->disk_size() - offset) {
      in.fail("block migration: bad record (kind " + std::to_string(kind) + ", disk " +
              std::to_string(disk) + ", offset " + std::to_string(offset) + ", length " +
              std::to_string(len) + ")");
      return false;
    }
    if (kind == kData) {
      buffer_.resize(len);
      in.bytes(buffer_.data(), len);
      if (!in.ok()) return false;
    }
    try {
      disks_[disk]->migration_write(offset, buffer_.data(), len, kind == kZero);
    } catch (const std::exception& e) {
      in.fail(std::string("block migration: ") + e.what());
      return false;
    }
  }
}

void BlockMigration::load_cleanup() {
  if (!load_copying_ || load_finished_) return;
  // The stream broke off mid-copy: say which images hold half a disk.
  for (unsigned i = 0; i < disks_.size(); ++i)
    if (copied_[i])
      std::fprintf(stderr,
                   "ferry: block migration did not finish: '%s' holds an incomplete copy of "
                   "the source's disk and is unusable\n",
                   disks_[i]->image_path().c_str());
}

}  // namespace ferry
