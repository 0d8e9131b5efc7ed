// ChainView: a descriptor chain seen as two byte strings, the part the
// device reads and the part it writes (the spec lets a driver split a
// request's header, data and status across buffers anywhere). Writes go
// through the RAM write path.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "devices/virtio/virtqueue.h"
#include "memory/guest_ram.h"

namespace ferry {

class ChainView {
 public:
  ChainView(const GuestRam& ram, const VirtqueueChain& chain) : ram_(ram) {
    for (const VirtqueueBuffer& b : chain.buffers) {
      (b.device_writes ? out_ : in_).push_back(b);
      (b.device_writes ? out_len_ : in_len_) += b.len;
    }
  }
  uint64_t in_len() const { return in_len_; }
  uint64_t out_len() const { return out_len_; }
  void read(uint64_t offset, uint8_t* dst, uint64_t len) const {
    walk(in_, offset, len, [&](uint64_t gpa, uint64_t n) {
      ram_.read(gpa, dst, n);
      dst += n;
    });
  }
  void write(GuestRam& ram, uint64_t offset, const uint8_t* src, uint64_t len) const {
    walk(out_, offset, len, [&](uint64_t gpa, uint64_t n) {
      ram.write(gpa, src, n);
      src += n;
    });
  }

 private:
  // Calls fn(gpa, n) for the pieces of bytes [offset, offset + len) of `bufs`.
  template <typename Fn>
  static void walk(const std::vector<VirtqueueBuffer>& bufs, uint64_t offset, uint64_t len, Fn fn) {
    for (const VirtqueueBuffer& b : bufs) {
      if (!len) return;
      if (offset >= b.len) {
        offset -= b.len;
        continue;
      }
      const uint64_t n = std::min<uint64_t>(len, b.len - offset);
      fn(b.gpa + offset, n);
      len -= n, offset = 0;
    }
  }

  const GuestRam& ram_;
  std::vector<VirtqueueBuffer> in_, out_;
  uint64_t in_len_ = 0, out_len_ = 0;
};

}  // namespace ferry
