// AddressSpace: the guest-physical bus. RAM plus MMIO device windows.
//
// The CPU asks `is_ram`/`find_mmio`/`rom_host` on TLB misses; devices doing
// DMA write through GuestRam (ram()), so the dirty log sees them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "devices/mmio_device.h"
#include "memory/guest_ram.h"

namespace ferry {

class AddressSpace {
 public:
  struct MmioRegion {
    uint64_t base;
    uint64_t size;
    MmioDevice* device;
    std::string name;
  };

  explicit AddressSpace(GuestRam& ram) : ram_(ram) {}

  void add_mmio(uint64_t base, uint64_t size, MmioDevice* device,
                std::string name);
  // Read-only memory (boot ROM): readable and executable, writes ignored.
  void add_rom(uint64_t base, std::vector<uint8_t> contents, std::string name);
  // Host pointer to the ROM byte at gpa, or nullptr when gpa is not ROM.
  const uint8_t* rom_host(uint64_t gpa) const;

  GuestRam& ram() { return ram_; }
  bool is_ram(uint64_t gpa, uint64_t len = 1) const {
    return ram_.contains(gpa, len);
  }
  // The region holding gpa, or nullptr.
  const MmioRegion* find_mmio(uint64_t gpa) const;

  const std::vector<MmioRegion>& regions() const { return mmio_; }

 private:
  struct RomRegion {
    uint64_t base;
    std::vector<uint8_t> bytes;  // size is a multiple of the page size
    std::string name;
  };
  GuestRam& ram_;
  std::vector<MmioRegion> mmio_;
  std::vector<RomRegion> rom_;
};

}  // namespace ferry
