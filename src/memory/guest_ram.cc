#include "memory/guest_ram.h"

#include <atomic>

#include <sys/mman.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace ferry {

GuestRam::GuestRam(uint64_t base, uint64_t size)
    : base_(base), size_(size), words_((size / kPageSize + 63) / 64) {
  if (size == 0 || size % kPageSize != 0)
    throw std::invalid_argument("RAM size must be a non-zero multiple of 4 KiB");
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("cannot map " + std::to_string(size >> 20) +
                             " MiB of guest RAM: " + strerror(errno));
  madvise(p, size, MADV_HUGEPAGE);  // a hint; failure is harmless
  host_ = static_cast<uint8_t*>(p);
  dirty_ = std::make_unique<std::atomic<uint64_t>[]>(words_);
  written_ = std::make_unique<std::atomic<uint64_t>[]>(words_);
  for (size_t i = 0; i < words_; ++i) {
    dirty_[i].store(0, std::memory_order_relaxed);
    written_[i].store(0, std::memory_order_relaxed);
  }
  code_ = std::make_unique<std::atomic<uint8_t>[]>(page_count());
  for (uint64_t i = 0; i < page_count(); ++i) code_[i].store(0, std::memory_order_relaxed);
}

GuestRam::~GuestRam() {
  if (host_) munmap(host_, size_);
}

void GuestRam::note_write(uint64_t gpa, uint64_t len) {
  if (len == 0) return;
  uint64_t first = (gpa - base_) >> kPageShift;
  uint64_t last = (gpa - base_ + len - 1) >> kPageShift;
  for (uint64_t p = first; p <= last; ++p) note_write_page(p);
}

void GuestRam::write(uint64_t gpa, const void* src, uint64_t len) {
  note_write(gpa, len);  // first: decoded code of the page is dropped before it changes
  std::memcpy(host_ + (gpa - base_), src, len);
  // Again after the copy: a DMA thread may race the migration's harvest,
  // which could otherwise clear the bit and send the page before the copy lands.
  std::atomic_thread_fence(std::memory_order_release);
  note_write(gpa, len);
}

void GuestRam::read(uint64_t gpa, void* dst, uint64_t len) const {
  std::memcpy(dst, host_at(gpa), len);
}

void GuestRam::fill_zero(uint64_t gpa, uint64_t len) {
  note_write(gpa, len);
  std::memset(host_ + (gpa - base_), 0, len);
  std::atomic_thread_fence(std::memory_order_release);
  note_write(gpa, len);  // as in write()
}

void GuestRam::invalidate_code(uint64_t page_index) {
  code_[page_index].store(0, std::memory_order_relaxed);
  code_generation_.fetch_add(1, std::memory_order_acq_rel);
}

void GuestRam::harvest_dirty(std::vector<uint64_t>& out) {
  out.resize(words_);
  for (size_t i = 0; i < words_; ++i)
    out[i] = dirty_[i].exchange(0, std::memory_order_acq_rel);
}

bool GuestRam::page_is_zero(uint64_t page_index) const {
  if (!ever_written(page_index)) return true;
  const auto* p = reinterpret_cast<const uint64_t*>(host_ + (page_index << kPageShift));
  uint64_t acc = 0;
  for (size_t i = 0; i < kPageSize / 8; ++i) acc |= p[i];
  return acc == 0;
}

}  // namespace ferry
