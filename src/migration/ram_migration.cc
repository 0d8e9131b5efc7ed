#include "migration/ram_migration.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "migration/format.h"

namespace ferry {

namespace fmt = migration_format;

RamMigration::RamMigration(GuestRam& ram, DirtyLogSync& dirty_log)
    : ram_(ram), dirty_log_(dirty_log) {}

bool RamMigration::save_setup(StreamWriter& out) {
  counters_ = Counters{};
  dirty_log_.sync_dirty_log(scratch_);  // from here on the log catches every write
  pending_.assign(ram_.bitmap_words(), 0);
  pending_pages_ = 0;
  for (uint64_t page = 0; page < ram_.page_count(); ++page) {
    if (ram_.ever_written(page)) {
      pending_[page >> 6] |= 1ull << (page & 63);
      ++pending_pages_;
    }
  }
  cursor_ = 0;
  out.u64(ram_.base());
  out.u64(ram_.size());
  out.u64(fmt::kRamEos);
  return out.ok();
}

void RamMigration::send_page(StreamWriter& out, uint64_t index) {
  const uint64_t addr = ram_.base() + (index << kPageShift);
  ++counters_.pass_pages;
  if (ram_.page_is_zero(index)) {
    out.u64(addr | fmt::kRamZero);
    ++counters_.zero_pages;
    counters_.bytes += 8;
  } else {
    out.u64(addr | fmt::kRamPage);
    out.bytes(ram_.host() + (index << kPageShift), kPageSize);
    ++counters_.normal_pages;
    counters_.bytes += 8 + kPageSize;
  }
}

LiveHandler::Progress RamMigration::save_iterate(StreamWriter& out, uint64_t budget_bytes) {
  const uint64_t start = counters_.bytes;
  while (cursor_ < pending_.size()) {
    uint64_t& word = pending_[cursor_];
    while (word) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctzll(word));
      word &= word - 1;
      --pending_pages_;
      send_page(out, (static_cast<uint64_t>(cursor_) << 6) | bit);
      if (counters_.bytes - start >= budget_bytes) {
        out.u64(fmt::kRamEos);
        return out.ok() ? Progress::kMore : Progress::kError;
      }
    }
    ++cursor_;
  }
  out.u64(fmt::kRamEos);
  return out.ok() ? Progress::kDone : Progress::kError;
}

void RamMigration::sync() {
  dirty_log_.sync_dirty_log(scratch_);
  uint64_t dirtied = 0;
  for (size_t i = 0; i < scratch_.size() && i < pending_.size(); ++i) {
    dirtied += static_cast<uint64_t>(__builtin_popcountll(scratch_[i]));
    const uint64_t fresh = scratch_[i] & ~pending_[i];
    pending_pages_ += static_cast<uint64_t>(__builtin_popcountll(fresh));
    pending_[i] |= scratch_[i];
  }
  counters_.last_sync_dirty_pages = dirtied;
  counters_.last_pass_pages = counters_.pass_pages;
  counters_.pass_pages = 0;
  cursor_ = 0;
}

bool RamMigration::save_complete(StreamWriter& out) {
  sync();
  while (save_iterate(out, ~0ull) == Progress::kMore) {
  }
  return out.ok();
}

nlohmann::json RamMigration::query_stats(const LiveLoopFigures& loop) const {
  const double seconds = loop.last_pass_seconds > 1e-4 ? loop.last_pass_seconds : 1e-4;
  return {
      {"transferred", loop.transferred},
      {"remaining", pending_bytes()},
      {"total", ram_.size()},
      {"duplicate", counters_.zero_pages},
      {"skipped", 0},
      {"normal", counters_.normal_pages},
      {"normal-bytes", counters_.normal_pages * kPageSize},
      {"dirty-pages-rate", static_cast<uint64_t>(counters_.last_sync_dirty_pages / seconds)},
      {"mbps", loop.mbps},
      {"dirty-sync-count", loop.dirty_sync_count},
      {"page-size", kPageSize},
      {"pages-per-second", static_cast<uint64_t>(counters_.last_pass_pages / seconds)},
      {"postcopy-requests", 0},
      {"multifd-bytes", 0},
  };
}

bool RamMigration::load_setup() {
  load_started_ = false;
  // Pages the stream does not send are zero (kRamUnsentZero): drop what this
  // side's own loader put into RAM.
  for (uint64_t page = 0; page < ram_.page_count(); ++page)
    if (ram_.ever_written(page)) ram_.fill_zero(ram_.base() + (page << kPageShift), kPageSize);
  return true;
}

bool RamMigration::load(StreamReader& in, int /*version*/) {
  char msg[160];
  if (!load_started_) {
    const uint64_t base = in.u64(), size = in.u64();
    if (!in.ok()) return false;
    if (base != ram_.base() || size != ram_.size()) {
      std::snprintf(msg, sizeof msg,
                    "RAM layout mismatch: the stream has %" PRIu64 " MiB at 0x%" PRIx64
                    ", this VM has %" PRIu64 " MiB at 0x%" PRIx64 " (check -m)",
                    size >> 20, base, ram_.size() >> 20, ram_.base());
      in.fail(msg);
      return false;
    }
    load_started_ = true;
  }
  for (;;) {
    const uint64_t record = in.u64();
    if (!in.ok()) return false;
    const uint64_t flags = record & fmt::kRamFlagMask;
    const uint64_t addr = record & ~fmt::kRamFlagMask;
    if (flags == fmt::kRamEos) return true;
    if (!ram_.contains(addr, kPageSize)) {
      std::snprintf(msg, sizeof msg, "RAM page 0x%" PRIx64 " lies outside guest RAM", addr);
      in.fail(msg);
      return false;
    }
    const uint64_t index = (addr - ram_.base()) >> kPageShift;
    if (flags == fmt::kRamZero) {
      // A fresh destination's RAM is zero: only a page this stream already
      // filled needs clearing.
      if (ram_.ever_written(index)) ram_.fill_zero(addr, kPageSize);
    } else if (flags == fmt::kRamPage) {
      in.bytes(ram_.host_for_write(addr, kPageSize), kPageSize);
    } else {
      std::snprintf(msg, sizeof msg, "RAM record for 0x%" PRIx64 " has unknown flags 0x%" PRIx64,
                    addr, flags);
      in.fail(msg);
      return false;
    }
  }
}

}  // namespace ferry
