// SaveVm: the table of everything that travels with a VM, by name.
//
// Devices register as StateOwner (one FULL section each, saved during
// stop-and-copy). Live handlers (RAM; disks later) implement the iterative
// interface below, like QEMU's SaveVMHandlers. The migration core walks this
// table and knows no device by name. Order of registration is the order of
// sections: interrupt controllers before the devices that raise interrupts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "migration/stream.h"
#include "state/state_visitor.h"

namespace ferry {

class LiveHandler {
 public:
  enum class Progress { kMore, kDone, kError };
  virtual ~LiveHandler() = default;
  virtual std::string_view live_name() const = 0;
  virtual int live_version() const = 0;
  // Source, migration thread. setup runs with the VM running.
  virtual bool save_setup(StreamWriter& out) = 0;
  // Sends a part of what is pending, at most `budget_bytes`; kDone when
  // nothing is pending right now.
  virtual Progress save_iterate(StreamWriter& out, uint64_t budget_bytes) = 0;
  // Refreshes what is pending from the dirty log (the vCPU keeps running).
  virtual void sync() = 0;
  // Bytes still to send.
  virtual uint64_t pending_bytes() const = 0;
  // With the VM stopped: sends everything that is left.
  virtual bool save_complete(StreamWriter& out) = 0;
  // Destination: loads one section payload (START, PART or END).
  virtual bool load(StreamReader& in, int version) = 0;
  virtual void cleanup() {}
};

struct SaveVmEntry {
  std::string id;
  uint32_t instance = 0;
  int version = 1;
  StateOwner* device = nullptr;  // exactly one of device / live is set
  LiveHandler* live = nullptr;
};

class SaveVm {
 public:
  void add_device(StateOwner* owner, uint32_t instance = 0);
  void add_live(LiveHandler* handler, uint32_t instance = 0);
  const std::vector<SaveVmEntry>& entries() const { return entries_; }
  const SaveVmEntry* find(const std::string& id, uint32_t instance) const;

 private:
  std::vector<SaveVmEntry> entries_;
};

}  // namespace ferry
