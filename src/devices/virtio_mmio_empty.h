// VirtioMmioEmpty: a virtio-mmio slot with no device behind it.
// Reads the magic, version 2 and device id 0 ("no device"), as QEMU's virt
// board shows for an unused slot; everything else reads 0, writes are ignored.
#pragma once

#include "devices/mmio_device.h"

namespace ferry {

class VirtioMmioEmpty : public MmioDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x1000;

  uint64_t mmio_read(uint64_t offset, unsigned size) override {
    if (size != 4) return 0;
    switch (offset) {
      case 0x000: return 0x74726976;  // "virt"
      case 0x004: return 2;           // version
      case 0x00c: return 0x554d4551;  // vendor "QEMU"
      default: return 0;              // 0x008 device id: 0 = none
    }
  }
  void mmio_write(uint64_t, unsigned, uint64_t) override {}
  void reset() override {}

  std::string_view state_name() const override { return "virtio_mmio_empty"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor&) override {}
};

}  // namespace ferry
