// GuestRam: the guest's physical RAM and the logs that track writes to it.
//
// RAM is one anonymous mapping (transparent huge pages requested). Every write
// into it goes through this class or through a write-TLB entry whose fill called
// `note_write_page`, so two logs stay exact:
//   - the dirty log, harvested by migration (`harvest_dirty`), and
//   - the ever-written log: a page never written since power-on is known to be
//     zero without reading it (reading untouched memory allocates it).
// It also remembers which pages hold decoded code, so that a write to such a
// page (CPU store or DMA) invalidates the decoded copy.
//
// Threads: the vCPU thread and device models write; the migration thread may
// read RAM and harvest the dirty log at any time. The dirty bitmap is atomic.
// Code-page bits are touched only on the vCPU thread (or while paused).
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

  // Direct host access for the CPU's TLB and for reading (migration, loaders
  // that only read). Writers must call note_write_page/note_write first.
  uint8_t* host() const { return host_; }
  uint8_t* host_at(uint64_t gpa) const { return host_ + (gpa - base_); }

  // Copies into / out of RAM; `write` logs the pages it touches.
  void write(uint64_t gpa, const void* src, uint64_t len);
  void read(uint64_t gpa, void* dst, uint64_t len) const;
  void fill_zero(uint64_t gpa, uint64_t len);

  // Logs a write to the page holding `gpa` (dirty + ever-written) and drops any
  // decoded code of that page. Called on write-TLB fill and by DMA.
  void note_write_page(uint64_t page_index) {
    uint64_t word = page_index >> 6, bit = 1ull << (page_index & 63);
    if (!(dirty_[word].load(std::memory_order_relaxed) & bit))
      dirty_[word].fetch_or(bit, std::memory_order_relaxed);
    if (!(written_[word].load(std::memory_order_relaxed) & bit))
      written_[word].fetch_or(bit, std::memory_order_relaxed);
    if (code_[page_index]) invalidate_code(page_index);
  }
  void note_write(uint64_t gpa, uint64_t len);

  // --- decoded-code tracking (vCPU thread) ---
  bool is_code_page(uint64_t page_index) const { return code_[page_index] != 0; }
  void set_code_page(uint64_t page_index) { code_[page_index] = 1; }
  // Bumped whenever a code page is written, so the CPU can tell its decoded
  // pages may be stale.
  uint64_t code_generation() const { return code_generation_; }

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
  void invalidate_code(uint64_t page_index);

  uint64_t base_;
  uint64_t size_;
  uint8_t* host_ = nullptr;
  size_t words_;
  std::unique_ptr<std::atomic<uint64_t>[]> dirty_;
  std::unique_ptr<std::atomic<uint64_t>[]> written_;
  std::vector<uint8_t> code_;
  uint64_t code_generation_ = 0;
};

}  // namespace ferry
