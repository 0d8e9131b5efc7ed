#include "devices/virtio/virtqueue.h"

#include <atomic>
#include <cstring>
#include <string>

namespace ferry {
namespace {

constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
constexpr uint16_t kAvailNoInterrupt = 1;
constexpr uint64_t kDescSize = 16;

struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

Desc read_desc(const GuestRam& ram, uint64_t table, uint32_t index) {
  uint8_t raw[kDescSize];
  ram.read(table + index * kDescSize, raw, sizeof raw);
  Desc d;
  std::memcpy(&d.addr, raw, 8);
  std::memcpy(&d.len, raw + 8, 4);
  std::memcpy(&d.flags, raw + 12, 2);
  std::memcpy(&d.next, raw + 14, 2);
  return d;
}

}  // namespace

void Virtqueue::reset() {
  size = 0;
  ready = false;
  desc_addr = avail_addr = used_addr = 0;
  last_avail_ = used_idx_ = signalled_used_ = 0;
  signalled_valid_ = false;
}

uint16_t Virtqueue::read16(const GuestRam& ram, uint64_t gpa) const {
  if (!ram.contains(gpa, 2)) throw VirtqueueError("ring outside RAM");
  uint16_t v;
  std::memcpy(&v, ram.host_at(gpa), 2);
  return v;
}

void Virtqueue::check_layout(const GuestRam& ram) const {
  if (size == 0 || size > kMaxSize || (size & (size - 1)))
    throw VirtqueueError("queue size " + std::to_string(size) + " is not a power of 2 up to " +
                         std::to_string(kMaxSize));
  if (!ram.contains(desc_addr, size * kDescSize) || !ram.contains(avail_addr, 6 + 2u * size) ||
      !ram.contains(used_addr, 6 + 8u * size))
    throw VirtqueueError("rings outside RAM");
}

std::optional<VirtqueueChain> Virtqueue::pop(const GuestRam& ram, bool /*event_idx*/) {
  if (!ready) return std::nullopt;
  check_layout(ram);
  const uint16_t avail_idx = read16(ram, avail_addr + 2);
  if (avail_idx == last_avail_) return std::nullopt;
  if (static_cast<uint16_t>(avail_idx - last_avail_) > size)
    throw VirtqueueError("avail index moved by more than the queue size");
  // The ring entries were written before the index (the driver's barrier).
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint16_t head = read16(ram, avail_addr + 4 + 2u * (last_avail_ % size));
  if (head >= size) throw VirtqueueError("descriptor head " + std::to_string(head) + " out of range");
  ++last_avail_;

  VirtqueueChain chain;
  chain.head = head;
  uint64_t table = desc_addr;
  uint32_t table_size = size;
  uint32_t index = head;
  unsigned seen = 0;
  bool indirect = false;
  for (;;) {
    if (++seen > table_size + 1u) throw VirtqueueError("descriptor chain loops");
    Desc d = read_desc(ram, table, index);
    if (d.flags & kDescIndirect) {
      if (indirect) throw VirtqueueError("nested indirect descriptor table");
      if (d.len == 0 || d.len % kDescSize || d.len / kDescSize > 1024 || !ram.contains(d.addr, d.len))
        throw VirtqueueError("bad indirect descriptor table");
      indirect = true;
      table = d.addr;
      table_size = d.len / kDescSize;
      index = 0;
      seen = 0;
      continue;
    }
    if (d.len && !ram.contains(d.addr, d.len)) throw VirtqueueError("buffer outside RAM");
    chain.buffers.push_back({d.addr, d.len, (d.flags & kDescWrite) != 0});
    if (!(d.flags & kDescNext)) break;
    if (d.next >= table_size) throw VirtqueueError("descriptor next out of range");
    index = d.next;
  }
  return chain;
}

void Virtqueue::push(GuestRam& ram, uint16_t head, uint32_t written) {
  push_all(ram, {{head, written}});
}

void Virtqueue::push_all(GuestRam& ram, const std::vector<Used>& used) {
  for (const Used& u : used) {
    uint8_t elem[8];
    const uint32_t id = u.head;
    std::memcpy(elem, &id, 4);
    std::memcpy(elem + 4, &u.written, 4);
    ram.write(used_addr + 4 + 8ull * (used_idx_ % size), elem, sizeof elem);
    ++used_idx_;
  }
  // The elements before the index the driver reads.
  std::atomic_thread_fence(std::memory_order_release);
  ram.write(used_addr + 2, &used_idx_, 2);
}

bool Virtqueue::should_interrupt(const GuestRam& ram, bool event_idx) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!event_idx) return !(read16(ram, avail_addr) & kAvailNoInterrupt);
  const uint16_t old = signalled_used_;
  const bool valid = signalled_valid_;
  signalled_used_ = used_idx_;
  signalled_valid_ = true;
  if (!valid) return true;
  // vring_need_event: the driver's used_event lies in (old, new].
  const uint16_t used_event = read16(ram, avail_addr + 4 + 2u * size);
  return static_cast<uint16_t>(used_idx_ - used_event - 1) < static_cast<uint16_t>(used_idx_ - old);
}

bool Virtqueue::enable_notification(GuestRam& ram, bool event_idx) {
  if (!ready) return false;
  if (event_idx) ram.write(used_addr + 4 + 8ull * size, &last_avail_, 2);  // avail_event
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return read16(ram, avail_addr + 2) != last_avail_;
}

void Virtqueue::visit_state(StateVisitor& v) {
  uint32_t num = size;
  v.field("num", num);
  size = static_cast<uint16_t>(num);
  v.field("ready", ready);
  v.field("desc", desc_addr);
  v.field("avail", avail_addr);
  v.field("used", used_addr);
  uint32_t last_avail = last_avail_, used_idx = used_idx_, signalled = signalled_used_;
  v.field("last_avail_idx", last_avail);
  v.field("used_idx", used_idx);
  v.field("signalled_used", signalled);
  v.field("signalled_used_valid", signalled_valid_);
  last_avail_ = static_cast<uint16_t>(last_avail);
  used_idx_ = static_cast<uint16_t>(used_idx);
  signalled_used_ = static_cast<uint16_t>(signalled);
}

}  // namespace ferry
