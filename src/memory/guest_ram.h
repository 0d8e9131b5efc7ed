// GuestRam: the guest's physical RAM and the logs that track writes to it.
//
// RAM is one anonymous mapping (transparent huge pages requested). This class
// is the one write path into it: every writer — a hart's store (through a
// write-TLB entry filled by `page_for_write`), a loader, the incoming
// migration stream, a device's DMA on any thread — gets its pointer or does
// its copy here, and each such call logs the pages it covers:
//   - the dirty log, harvested by migration (`harvest_dirty`);
//   - the ever-written log: a page never written since power-on is known to be
//     zero without reading it (reading untouched memory allocates it);
//   - decoded code: a write to a page holding decoded instructions drops them.
// Everywhere else RAM is reachable read-only (`host_at` is const).
//
// Threads: any thread may write through this API and the migration thread
// may read and harvest at any time; all three logs are atomic. A pointer from
// page_for_write / host_for_write is valid for writing only until the next
// harvest: a hart drops its write TLB at every harvest (DirtyLogSync).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ferry {

constexpr uint64_t kPageShift = 12;
constexpr uint64_t kPageSize = 1ull << kPageShift;

class GuestRam {
 public:
  GuestRam(uint64_t base, uint64_t size);
  ~GuestRam();
  GuestRam(const GuestRam&) = delete;
  GuestRam& operator=(const GuestRam&) = delete;

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  uint64_t page_count() const { return size_ >> kPageShift; }
  bool contains(uint64_t gpa, uint64_t len) const {
    return gpa >= base_ && len <= size_ && gpa - base_ <= size_ - len;
  }

  // Read-only access (the CPU's read TLB and fetch, migration, tests).
  const uint8_t* host() const { return host_; }
  const uint8_t* host_at(uint64_t gpa) const { return host_ + (gpa - base_); }

  // --- the write path ---
  // Copies into RAM / clears it, logging the pages touched.
  void write(uint64_t gpa, const void* src, uint64_t len);
  void fill_zero(uint64_t gpa, uint64_t len);
  // Logs a write to [gpa, gpa + len) and returns where to write it (DMA
  // straight into RAM, the incoming stream). Write only inside the range.
  uint8_t* host_for_write(uint64_t gpa, uint64_t len) {
    note_write(gpa, len);
    return host_ + (gpa - base_);
  }
  // Logs a write to the whole page and returns its host address: a hart
  // fills a write-TLB entry with it and stores through it until the next
  // harvest of the dirty log.
  uint8_t* page_for_write(uint64_t page_index) {
    note_write_page(page_index);
    return host_ + (page_index << kPageShift);
  }

  void read(uint64_t gpa, void* dst, uint64_t len) const;

  // --- decoded-code tracking ---
  bool is_code_page(uint64_t page_index) const {
    return code_[page_index].load(std::memory_order_acquire) != 0;
  }
  void set_code_page(uint64_t page_index) { code_[page_index].store(1, std::memory_order_release); }
  // Bumped whenever a code page is written, so a hart can tell its decoded
  // pages may be stale.
  uint64_t code_generation() const { return code_generation_.load(std::memory_order_acquire); }

  // --- dirty log (migration) ---
  // Atomically takes every dirty bit into `out` and clears it. The vCPU
  // must drop its write TLB at the same time (Hart::drop_write_tlb), or
  // stores through existing entries would go unlogged.
  void harvest_dirty(std::vector<uint64_t>& out);
  bool ever_written(uint64_t page_index) const {
    return written_[page_index >> 6].load(std::memory_order_relaxed) &
           (1ull << (page_index & 63));
  }
  bool page_is_zero(uint64_t page_index) const;
  size_t bitmap_words() const { return words_; }

 private:
  void note_write_page(uint64_t page_index) {
    uint64_t word = page_index >> 6, bit = 1ull << (page_index & 63);
    if (!(dirty_[word].load(std::memory_order_relaxed) & bit))
      dirty_[word].fetch_or(bit, std::memory_order_relaxed);
    if (!(written_[word].load(std::memory_order_relaxed) & bit))
      written_[word].fetch_or(bit, std::memory_order_relaxed);
    if (code_[page_index].load(std::memory_order_relaxed)) invalidate_code(page_index);
  }
  void note_write(uint64_t gpa, uint64_t len);
  void invalidate_code(uint64_t page_index);

  uint64_t base_;
  uint64_t size_;
  uint8_t* host_ = nullptr;
  size_t words_;
  std::unique_ptr<std::atomic<uint64_t>[]> dirty_;
  std::unique_ptr<std::atomic<uint64_t>[]> written_;
  std::unique_ptr<std::atomic<uint8_t>[]> code_;
  std::atomic<uint64_t> code_generation_{0};
};

}  // namespace ferry
