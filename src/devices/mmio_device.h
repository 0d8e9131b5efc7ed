// MmioDevice: a device register window on the physical bus.
//
// Accesses arrive on the vCPU thread (or while the VM is paused) with an
// offset relative to the window's base and a size of 1, 2, 4 or 8 bytes.
// A device never sees a guest address outside its window.
#pragma once

#include <cstdint>

#include "state/state_visitor.h"

namespace ferry {

class MmioDevice : public StateOwner {
 public:
  virtual uint64_t mmio_read(uint64_t offset, unsigned size) = 0;
  virtual void mmio_write(uint64_t offset, unsigned size, uint64_t value) = 0;
  // Back to the state after power-on.
  virtual void reset() = 0;
};

// An interrupt wire from a device to an interrupt controller (level-triggered).
class IrqLine {
 public:
  virtual ~IrqLine() = default;
  virtual void set_level(bool high) = 0;
};

}  // namespace ferry
