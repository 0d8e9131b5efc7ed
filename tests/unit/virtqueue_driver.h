// A guest driver's side of a virtio-mmio device, for device-level tests:
// the transport's registers (under the device lock, as a vCPU's MMIO),
// feature negotiation, and split virtqueues built by hand in guest RAM
// (descriptors, the avail ring, reading back the used ring).
//
// Usage:
//   MmioDriver drv(device, device_lock);
//   ASSERT_TRUE(drv.negotiate(kFeatureVersion1 | ...));
//   VirtqueueDriver rx(ram, kBase + 0x1000, 8);
//   rx.attach(drv, 0);
//   drv.set_driver_ok();
//   rx.desc(0, buffer, 2048, VirtqueueDriver::kWrite);
//   rx.publish(0);
//   drv.notify(0);
//   ASSERT_TRUE(rx.wait_used(1));
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "devices/mmio_device.h"
#include "memory/guest_ram.h"

namespace ferry::test_util {

// An interrupt line that remembers its level and counts its rising edges
// (the device raises it from its own thread).
class RecordingIrq : public IrqLine {
 public:
  void set_level(bool high) override {
    if (high && !level_.exchange(true)) ++raised_;
    if (!high) level_.store(false);
  }
  bool level() const { return level_.load(); }
  unsigned raised() const { return raised_.load(); }

 private:
  std::atomic<bool> level_{false};
  std::atomic<unsigned> raised_{0};
};

// Polls `done` every millisecond for up to `ms`; true once it holds.
inline bool wait_for(const std::function<bool()>& done, int ms = 2000) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// The transport's registers (virtio 1.x, 4.2.2), as a driver uses them.
class MmioDriver {
 public:
  static constexpr uint64_t kDeviceId = 0x008, kDeviceFeatures = 0x010,
                            kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020,
                            kDriverFeaturesSel = 0x024, kQueueSel = 0x030, kQueueNumMax = 0x034,
                            kQueueNum = 0x038, kQueueReady = 0x044, kQueueNotify = 0x050,
                            kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
                            kQueueDescLow = 0x080, kQueueDriverLow = 0x090,
                            kQueueDeviceLow = 0x0a0, kConfigGeneration = 0x0fc, kConfig = 0x100;
  static constexpr uint32_t kAcknowledge = 1, kDriver = 2, kDriverOk = 4, kFeaturesOk = 8,
                            kNeedsReset = 64;

  MmioDriver(MmioDevice& device, std::mutex& lock) : device_(device), lock_(lock) {}

  uint32_t reg(uint64_t offset) {
    std::lock_guard<std::mutex> l(lock_);
    return static_cast<uint32_t>(device_.mmio_read(offset, 4));
  }
  void set(uint64_t offset, uint32_t value) {
    std::lock_guard<std::mutex> l(lock_);
    device_.mmio_write(offset, 4, value);
  }
  // The device-specific configuration space, `size` bytes at `offset`.
  uint64_t config(uint64_t offset, unsigned size) {
    std::lock_guard<std::mutex> l(lock_);
    return device_.mmio_read(kConfig + offset, size);
  }
  uint64_t device_features() {
    set(kDeviceFeaturesSel, 0);
    const uint64_t low = reg(kDeviceFeatures);
    set(kDeviceFeaturesSel, 1);
    return low | uint64_t{reg(kDeviceFeatures)} << 32;
  }
  // Reset, ACKNOWLEDGE | DRIVER, `features`, FEATURES_OK: true when the
  // device kept FEATURES_OK.
  bool negotiate(uint64_t features) {
    set(kStatus, 0);
    set(kStatus, kAcknowledge | kDriver);
    set(kDriverFeaturesSel, 0);
    set(kDriverFeatures, static_cast<uint32_t>(features));
    set(kDriverFeaturesSel, 1);
    set(kDriverFeatures, static_cast<uint32_t>(features >> 32));
    set(kStatus, kAcknowledge | kDriver | kFeaturesOk);
    return (reg(kStatus) & kFeaturesOk) != 0;
  }
  void set_driver_ok() { set(kStatus, kAcknowledge | kDriver | kFeaturesOk | kDriverOk); }
  void notify(unsigned queue) { set(kQueueNotify, queue); }
  // Reads and acknowledges the interrupt status.
  uint32_t take_interrupts() {
    const uint32_t s = reg(kInterruptStatus);
    set(kInterruptAck, s);
    return s;
  }

 private:
  MmioDevice& device_;
  std::mutex& lock_;
};

// One split virtqueue of `size` entries in guest RAM at `base`: the
// descriptor table there, the avail ring one page on, the used ring two
// pages on (three pages in all, for any size up to 256).
class VirtqueueDriver {
 public:
  static constexpr uint16_t kNext = 1, kWrite = 2, kIndirect = 4;

  VirtqueueDriver(GuestRam& ram, uint64_t base, uint16_t size)
      : ram_(ram), desc_(base), avail_(base + 0x1000), used_(base + 0x2000), size_(size) {
    ram_.fill_zero(base, 0x3000);
  }

  uint64_t desc_addr() const { return desc_; }
  uint64_t avail_addr() const { return avail_; }
  uint64_t used_addr() const { return used_; }
  uint16_t size() const { return size_; }

  // The transport's queue registers: size, rings, QueueReady.
  void attach(MmioDriver& driver, unsigned index) {
    driver.set(MmioDriver::kQueueSel, index);
    driver.set(MmioDriver::kQueueNum, size_);
    driver.set(MmioDriver::kQueueDescLow, static_cast<uint32_t>(desc_));
    driver.set(MmioDriver::kQueueDescLow + 4, static_cast<uint32_t>(desc_ >> 32));
    driver.set(MmioDriver::kQueueDriverLow, static_cast<uint32_t>(avail_));
    driver.set(MmioDriver::kQueueDriverLow + 4, static_cast<uint32_t>(avail_ >> 32));
    driver.set(MmioDriver::kQueueDeviceLow, static_cast<uint32_t>(used_));
    driver.set(MmioDriver::kQueueDeviceLow + 4, static_cast<uint32_t>(used_ >> 32));
    driver.set(MmioDriver::kQueueReady, 1);
  }

  void desc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    uint8_t d[16];
    std::memcpy(d, &addr, 8);
    std::memcpy(d + 8, &len, 4);
    std::memcpy(d + 12, &flags, 2);
    std::memcpy(d + 14, &next, 2);
    ram_.write(desc_ + 16ull * index, d, 16);
  }
  // Makes the chain at `head` available (no notify).
  void publish(uint16_t head) {
    uint16_t idx = avail_idx();
    ram_.write(avail_ + 4 + 2u * (idx % size_), &head, 2);
    ++idx;
    ram_.write(avail_ + 2, &idx, 2);
  }
  uint16_t avail_idx() const { return read16(avail_ + 2); }
  void set_avail_flags(uint16_t flags) { ram_.write(avail_, &flags, 2); }
  // With VIRTIO_F_EVENT_IDX: the driver's used_event, and the device's avail_event.
  void set_used_event(uint16_t v) { ram_.write(avail_ + 4 + 2u * size_, &v, 2); }
  uint16_t avail_event() const { return read16(used_ + 4 + 8u * size_); }

  uint16_t used_idx() const { return read16(used_ + 2); }
  struct UsedElem {
    uint32_t id, len;
  };
  // The used ring's entry for the `n`th chain returned (counting from 0).
  UsedElem used(uint16_t n) const {
    UsedElem e;
    ram_.read(used_ + 4 + 8ull * (n % size_), &e.id, 4);
    ram_.read(used_ + 8 + 8ull * (n % size_), &e.len, 4);
    return e;
  }
  // Waits until the device has returned `count` chains in all.
  bool wait_used(uint16_t count, int ms = 2000) const {
    return wait_for([&] { return used_idx() == count; }, ms);
  }

 private:
  uint16_t read16(uint64_t gpa) const {
    uint16_t v;
    ram_.read(gpa, &v, 2);
    return v;
  }

  GuestRam& ram_;
  uint64_t desc_, avail_, used_;
  uint16_t size_;
};

}  // namespace ferry::test_util
