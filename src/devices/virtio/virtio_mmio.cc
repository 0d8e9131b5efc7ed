#include "devices/virtio/virtio_mmio.h"

namespace ferry {
namespace {

// Register offsets (virtio 1.x, 4.2.2).
constexpr uint64_t kMagic = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c,
                   kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014,
                   kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024, kQueueSel = 0x030,
                   kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044,
                   kQueueNotify = 0x050, kInterruptStatus = 0x060, kInterruptAck = 0x064,
                   kStatus = 0x070, kQueueDescLow = 0x080, kQueueDescHigh = 0x084,
                   kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0a0,
                   kQueueDeviceHigh = 0x0a4, kConfigGeneration = 0x0fc, kConfig = 0x100;
constexpr uint32_t kMagicValue = 0x74726976;  // "virt"
constexpr uint32_t kVendorQemu = 0x554d4551;  // "QEMU", as QEMU's devices say

void set_low(uint64_t& v, uint32_t low) { v = (v & ~0xffffffffull) | low; }
void set_high(uint64_t& v, uint32_t high) { v = (v & 0xffffffffull) | uint64_t{high} << 32; }

}  // namespace

VirtioMmio::VirtioMmio(GuestRam& ram, IrqLine* irq, unsigned queue_count)
    : ram_(ram), irq_(irq), queues_(queue_count) {}

uint64_t VirtioMmio::offered_features() const {
  return device_features() | virtio::kFeatureVersion1 | virtio::kFeatureIndirectDesc |
         virtio::kFeatureEventIdx;
}

uint64_t VirtioMmio::mmio_read(uint64_t offset, unsigned size) {
  if (offset >= kConfig) return config_read(offset - kConfig, size);
  if (size != 4) return 0;
  Virtqueue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  switch (offset) {
    case kMagic: return kMagicValue;
    case kVersion: return 2;
    case kDeviceId: return device_id();
    case kVendorId: return kVendorQemu;
    case kDeviceFeatures:
      return device_features_sel_ == 0 ? offered_features() & 0xffffffff
             : device_features_sel_ == 1 ? offered_features() >> 32 : 0;
    case kQueueNumMax: return q ? Virtqueue::kMaxSize : 0;
    case kQueueNum: return q ? q->size : 0;
    case kQueueReady: return q ? q->ready : 0;
    case kInterruptStatus: return interrupt_status_;
    case kStatus: return status_;
    case kQueueDescLow: return q ? q->desc_addr & 0xffffffff : 0;
    case kQueueDescHigh: return q ? q->desc_addr >> 32 : 0;
    case kQueueDriverLow: return q ? q->avail_addr & 0xffffffff : 0;
    case kQueueDriverHigh: return q ? q->avail_addr >> 32 : 0;
    case kQueueDeviceLow: return q ? q->used_addr & 0xffffffff : 0;
    case kQueueDeviceHigh: return q ? q->used_addr >> 32 : 0;
    case kConfigGeneration: return config_generation_;
    default: return 0;
  }
}

void VirtioMmio::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset >= kConfig) {
    config_write(offset - kConfig, size, value);
    return;
  }
  if (size != 4) return;
  const uint32_t v = static_cast<uint32_t>(value);
  Virtqueue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  // The rings' layout may change only while the queue is not live.
  Virtqueue* setup = q && !q->ready ? q : nullptr;
  switch (offset) {
    case kDeviceFeaturesSel: device_features_sel_ = v; break;
    case kDriverFeaturesSel: driver_features_sel_ = v; break;
    case kDriverFeatures:
      if (status_ & virtio::kStatusFeaturesOk) break;  // fixed once accepted
      if (driver_features_sel_ == 0) set_low(driver_features_, v);
      if (driver_features_sel_ == 1) set_high(driver_features_, v);
      driver_features_ &= offered_features();
      break;
    case kQueueSel: queue_sel_ = v; break;
    case kQueueNum:
      if (setup) setup->size = static_cast<uint16_t>(v <= Virtqueue::kMaxSize ? v : 0);
      break;
    case kQueueReady:
      if (q) q->ready = v & 1;
      break;
    case kQueueNotify:
      if (v < queues_.size() && driver_ok()) queue_notify(v);
      break;
    case kInterruptAck:
      interrupt_status_ &= ~v;
      update_irq();
      break;
    case kStatus:
      write_status(v);
      status_written();
      break;
    case kQueueDescLow: if (setup) set_low(setup->desc_addr, v); break;
    case kQueueDescHigh: if (setup) set_high(setup->desc_addr, v); break;
    case kQueueDriverLow: if (setup) set_low(setup->avail_addr, v); break;
    case kQueueDriverHigh: if (setup) set_high(setup->avail_addr, v); break;
    case kQueueDeviceLow: if (setup) set_low(setup->used_addr, v); break;
    case kQueueDeviceHigh: if (setup) set_high(setup->used_addr, v); break;
    default: break;
  }
}

void VirtioMmio::write_status(uint32_t value) {
  if (value == 0) {
    reset();
    return;
  }
  // FEATURES_OK only for a feature set this device accepts: the modern
  // interface (VERSION_1) is required.
  if ((value & virtio::kStatusFeaturesOk) && !(status_ & virtio::kStatusFeaturesOk) &&
      !(driver_features_ & virtio::kFeatureVersion1))
    value &= ~virtio::kStatusFeaturesOk;
  status_ = (status_ & virtio::kStatusNeedsReset) | (value & 0xff & ~virtio::kStatusNeedsReset);
}

void VirtioMmio::reset() {
  device_reset();
  for (Virtqueue& q : queues_) q.reset();
  status_ = 0;
  device_features_sel_ = driver_features_sel_ = 0;
  driver_features_ = 0;
  queue_sel_ = 0;
  interrupt_status_ = 0;
  update_irq();
}

void VirtioMmio::interrupt_used() {
  interrupt_status_ |= 1;
  update_irq();
}

void VirtioMmio::set_needs_reset() {
  status_ |= virtio::kStatusNeedsReset;
  if (driver_ok()) {
    interrupt_status_ |= 2;  // configuration change
    update_irq();
  }
}

void VirtioMmio::notify_config_change() {
  if (!driver_ok()) return;
  ++config_generation_;
  interrupt_status_ |= 2;
  update_irq();
}

void VirtioMmio::update_irq() {
  if (irq_) irq_->set_level(interrupt_status_ != 0);
}

void VirtioMmio::visit_state(StateVisitor& v) {
  v.field("status", status_);
  v.field("device_features_sel", device_features_sel_);
  v.field("driver_features_sel", driver_features_sel_);
  v.field("driver_features", driver_features_);
  v.field("queue_sel", queue_sel_);
  v.field("interrupt_status", interrupt_status_);
  v.field("config_generation", config_generation_);
  v.struct_array("queues", std::span<Virtqueue>(queues_),
                 [](StateVisitor& sv, Virtqueue& q) { q.visit_state(sv); });
  visit_device_state(v);
}

void VirtioMmio::post_load() {
  driver_features_ &= offered_features();
  for (Virtqueue& q : queues_)
    if (q.size > Virtqueue::kMaxSize) q.size = 0;
  update_irq();
}

}  // namespace ferry
