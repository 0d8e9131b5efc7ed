// AddressSpace: the guest-physical bus. RAM plus MMIO device windows.
//
// The CPU asks `is_ram`/`find_mmio`/`rom_host` on TLB misses; devices doing
// DMA write through GuestRam (ram()), so the dirty log sees them.
//
// Device access goes through mmio_read/mmio_write, which hold the device lock
// (one for all devices, like QEMU's big lock) when one is set: with several
// harts, each on its own thread, device models see one access at a time.
#pragma once

#include <cstdint>
#include <mutex>
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

  // A device access under the device lock (if set).
  uint64_t mmio_read(const MmioRegion& r, uint64_t gpa, unsigned size) {
    if (!device_lock_) return r.device->mmio_read(gpa - r.base, size);
    std::lock_guard<std::mutex> lock(*device_lock_);
    return r.device->mmio_read(gpa - r.base, size);
  }
  void mmio_write(const MmioRegion& r, uint64_t gpa, unsigned size, uint64_t value) {
    if (!device_lock_) return r.device->mmio_write(gpa - r.base, size, value);
    std::lock_guard<std::mutex> lock(*device_lock_);
    r.device->mmio_write(gpa - r.base, size, value);
  }
  void set_device_lock(std::mutex* lock) { device_lock_ = lock; }
  // The device lock (null before the VM set it): device threads (disk I/O)
  // take it to touch device state and raise interrupts.
  std::mutex* device_lock() const { return device_lock_; }

  const std::vector<MmioRegion>& regions() const { return mmio_; }

 private:
  struct RomRegion {
    uint64_t base;
    std::vector<uint8_t> bytes;  // size is a multiple of the page size
    std::string name;
  };
  GuestRam& ram_;
  std::mutex* device_lock_ = nullptr;
  std::vector<MmioRegion> mmio_;
  std::vector<RomRegion> rom_;
};

}  // namespace ferry
