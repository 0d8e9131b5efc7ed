// StateRegistry: one per VM, everything that travels with it.
//
// The board registers each device as it builds it, and the VM registers its
// live handlers (RAM; disks later). Each entry has a section name, an
// instance id (two devices of one type — two disks, four harts — get
// different ones), a version and the oldest version it still loads, and an
// order: sections are saved and loaded by ascending order (interrupt
// controllers before the devices that raise interrupts, the harts last),
// then by registration. The migration core walks this table and knows no
// device by name.
//
// Threads: entries are added while the VM is built; afterwards the table is
// only read. notify_run_state() runs on the vCPU thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "migration/live_handler.h"
#include "state/state_visitor.h"

namespace ferry {

namespace state_order {
constexpr int kLive = 0;                  // RAM, disks
constexpr int kInterruptController = 10;  // PLIC
constexpr int kTimer = 20;                // CLINT, RTC
constexpr int kDevice = 50;               // UART, virtio, …
constexpr int kCpu = 90;                  // harts: last, after what drives their interrupts
}  // namespace state_order

struct StateEntry {
  std::string name;
  uint32_t instance = 0;
  int version = 1;
  int min_version = 1;
  int order = state_order::kDevice;
  StateOwner* device = nullptr;  // exactly one of device / live is set
  LiveHandler* live = nullptr;
};

class StateRegistry {
 public:
  static constexpr uint32_t kNextInstance = ~0u;

  // Registers `owner`; the instance defaults to the next free one of its
  // name. Returns the instance. Throws std::logic_error when the (name,
  // instance) pair is taken.
  uint32_t add_device(StateOwner& owner, int order, uint32_t instance = kNextInstance);
  uint32_t add_live(LiveHandler& handler, uint32_t instance = kNextInstance);

  // In save / load order.
  const std::vector<StateEntry>& entries() const { return entries_; }
  const StateEntry* find(const std::string& name, uint32_t instance) const;

  // Tells every device the VM stopped (false) or started running (true).
  void notify_run_state(bool running) const;
  // The storage hooks of every device (StateOwner), in order; the first
  // error propagates.
  void release_storage() const;
  void reclaim_storage() const;
  void take_storage() const;

 private:
  uint32_t add(StateEntry entry, uint32_t instance);

  std::vector<StateEntry> entries_;
};

}  // namespace ferry
