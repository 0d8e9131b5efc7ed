// Virtqueue: one split virtqueue (virtio 1.x, "Split Virtqueues") in guest
// RAM, seen from the device side: take the next descriptor chain the driver
// made available, hand it back as used, and decide whether the driver wants
// an interrupt (VIRTIO_F_EVENT_IDX or the avail ring's NO_INTERRUPT flag).
//
// Guest RAM is read with GuestRam::read and written only through the RAM
// write path, so the dirty log sees every byte a device puts there. Every
// index and address from the guest is checked; a bad chain throws
// VirtqueueError (the device then asks the driver for a reset).
//
// Threads: under the device lock (the vCPU's MMIO writes configure it, the
// device's I/O thread takes and returns chains).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include "memory/guest_ram.h"
#include "state/state_visitor.h"

namespace ferry {

class VirtqueueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One buffer of a chain: guest-physical address, length, and whether the
// device writes it (else reads).
struct VirtqueueBuffer {
  uint64_t gpa = 0;
  uint32_t len = 0;
  bool device_writes = false;
};

struct VirtqueueChain {
  uint16_t head = 0;  // what goes back into the used ring
  std::vector<VirtqueueBuffer> buffers;
};

class Virtqueue {
 public:
  static constexpr uint16_t kMaxSize = 256;

  // --- the driver's configuration (transport registers) ---
  uint16_t size = 0;  // QueueNum
  bool ready = false;
  uint64_t desc_addr = 0, avail_addr = 0, used_addr = 0;

  void reset();
  // The next available chain, or nullopt when the driver has made none.
  std::optional<VirtqueueChain> pop(const GuestRam& ram, bool event_idx);
  // Gives back the last `count` chains pop() returned, untouched (a device
  // that found too little room): the next pop() returns them again.
  void unpop(uint16_t count) { last_avail_ = static_cast<uint16_t>(last_avail_ - count); }
  // Returns a chain with `written` bytes written into it.
  void push(GuestRam& ram, uint16_t head, uint32_t written);
  // Returns several chains at once: the driver sees them together (one
  // received frame spread over mergeable buffers must arrive whole).
  struct Used {
    uint16_t head;
    uint32_t written;
  };
  void push_all(GuestRam& ram, const std::vector<Used>& used);
  // After push()es: does the driver want to hear of them?
  bool should_interrupt(const GuestRam& ram, bool event_idx);
  // With EVENT_IDX: ask to be notified for the next chain; true when one
  // arrived meanwhile (look again before sleeping).
  bool enable_notification(GuestRam& ram, bool event_idx);

  void visit_state(StateVisitor& v);

 private:
  uint16_t read16(const GuestRam& ram, uint64_t gpa) const;
  void check_layout(const GuestRam& ram) const;

  uint16_t last_avail_ = 0;     // next avail ring slot to take
  uint16_t used_idx_ = 0;       // next used ring slot to fill
  uint16_t signalled_used_ = 0; // used index at the last interrupt (EVENT_IDX)
  bool signalled_valid_ = false;
};

}  // namespace ferry
