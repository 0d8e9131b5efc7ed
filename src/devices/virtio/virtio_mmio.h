// VirtioMmio: the virtio-mmio transport, version 2 (the modern interface,
// virtio 1.x "Virtio Over MMIO"), as a base for the devices in the virt
// board's slots. It owns the registers, feature negotiation, the device
// status, the virtqueues' configuration and the interrupt; a device (virtio-
// blk) adds its ID, features, configuration space and what a notify does.
//
// The transport offers VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC and
// VIRTIO_RING_F_EVENT_IDX besides the device's own features.
//
// Threads: registers under the device lock (vCPU threads). A device's I/O
// thread takes the same lock to use the queues and raise the interrupt.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "devices/mmio_device.h"
#include "devices/virtio/virtqueue.h"
#include "memory/guest_ram.h"

namespace ferry {

namespace virtio {
constexpr uint64_t kFeatureIndirectDesc = 1ull << 28;
constexpr uint64_t kFeatureEventIdx = 1ull << 29;
constexpr uint64_t kFeatureVersion1 = 1ull << 32;
constexpr uint32_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4,
                   kStatusFeaturesOk = 8, kStatusNeedsReset = 64, kStatusFailed = 128;
}  // namespace virtio

class VirtioMmio : public MmioDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x1000;

  VirtioMmio(GuestRam& ram, IrqLine* irq, unsigned queue_count);

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  void reset() override;
  void visit_state(StateVisitor& v) override;
  void post_load() override;

 protected:
  virtual uint32_t device_id() const = 0;
  virtual uint64_t device_features() const = 0;
  // Configuration space (offset from 0x100), little-endian, any size <= 8.
  virtual uint64_t config_read(uint64_t offset, unsigned size) = 0;
  virtual void config_write(uint64_t /*offset*/, unsigned /*size*/, uint64_t /*value*/) {}
  // The driver notified queue `index` (device lock held).
  virtual void queue_notify(unsigned index) = 0;
  // The driver reset the device (device lock held): forget requests in flight.
  virtual void device_reset() = 0;
  // The device's own fields, in a subsection of the transport's section.
  virtual void visit_device_state(StateVisitor& /*v*/) {}
  // The driver wrote the status register (device lock held).
  virtual void status_written() {}

  // For the device (device lock held).
  Virtqueue& queue(unsigned index) { return queues_[index]; }
  unsigned queue_count() const { return static_cast<unsigned>(queues_.size()); }
  bool event_idx() const { return (driver_features_ & virtio::kFeatureEventIdx) != 0; }
  uint64_t driver_features() const { return driver_features_; }
  bool driver_ok() const { return (status_ & virtio::kStatusDriverOk) != 0; }
  // A used buffer notification (InterruptStatus bit 0), raising the line.
  void interrupt_used();
  // A broken queue: DEVICE_NEEDS_RESET and a configuration-change interrupt.
  void set_needs_reset();
  // The configuration space changed: a configuration-change interrupt.
  void notify_config_change();

  GuestRam& ram_;

 private:
  uint64_t offered_features() const;
  void update_irq();
  void write_status(uint32_t value);

  IrqLine* irq_;
  std::vector<Virtqueue> queues_;
  uint32_t status_ = 0;
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t interrupt_status_ = 0;
  uint32_t config_generation_ = 0;
};

}  // namespace ferry
