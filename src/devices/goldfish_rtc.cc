#include "devices/goldfish_rtc.h"

#include <time.h>

#include <utility>

namespace ferry {
namespace {

uint64_t realtime_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t deposit(uint64_t reg, unsigned shift, uint32_t value) {
  return (reg & ~(0xffffffffull << shift)) | static_cast<uint64_t>(value) << shift;
}

}  // namespace

GoldfishRtc::GoldfishRtc(IrqLine* irq, HostClock host_clock)
    : irq_(irq),
      host_clock_(host_clock ? std::move(host_clock) : HostClock(realtime_ns)) {}

uint64_t GoldfishRtc::now_ns() const { return host_clock_() + offset_; }

std::optional<uint64_t> GoldfishRtc::ns_until_alarm() const {
  if (!alarm_running_) return std::nullopt;
  uint64_t now = now_ns();
  return alarm_next_ <= now ? 0 : alarm_next_ - now;
}

void GoldfishRtc::drive_irq() {
  if (irq_) irq_->set_level(irq_pending_ && irq_enabled_);
}

void GoldfishRtc::raise_alarm() {
  alarm_running_ = false;
  irq_pending_ = true;
  drive_irq();
}

void GoldfishRtc::arm_alarm() {
  if (alarm_next_ <= now_ns()) {
    raise_alarm();
  } else {
    alarm_running_ = true;
  }
}

void GoldfishRtc::update() {
  if (alarm_running_ && alarm_next_ <= now_ns()) raise_alarm();
}

uint64_t GoldfishRtc::mmio_read(uint64_t offset, unsigned size) {
  if (size != 4) return 0;
  switch (offset) {
    case kTimeLow: {
      uint64_t now = now_ns();
      time_high_ = static_cast<uint32_t>(now >> 32);
      return now & 0xffffffff;
    }
    case kTimeHigh:
      return time_high_;
    case kAlarmLow:
      return alarm_next_ & 0xffffffff;
    case kAlarmHigh:
      return alarm_next_ >> 32;
    case kIrqEnabled:
      return irq_enabled_;
    case kAlarmStatus:
      return alarm_running_;
    default:
      return 0;
  }
}

void GoldfishRtc::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4) return;
  uint32_t v = static_cast<uint32_t>(value);
  switch (offset) {
    case kTimeLow:
    case kTimeHigh: {
      uint64_t now = now_ns();
      uint64_t wanted = deposit(now, offset == kTimeLow ? 0 : 32, v);
      offset_ += wanted - now;
      break;
    }
    case kAlarmLow:
      alarm_next_ = deposit(alarm_next_, 0, v);
      arm_alarm();
      break;
    case kAlarmHigh:
      alarm_next_ = deposit(alarm_next_, 32, v);
      break;
    case kIrqEnabled:
      irq_enabled_ = v & 1;
      drive_irq();
      break;
    case kClearAlarm:
      alarm_running_ = false;
      break;
    case kClearInterrupt:
      irq_pending_ = false;
      drive_irq();
      break;
    default:
      break;
  }
}

void GoldfishRtc::reset() {
  alarm_next_ = 0;
  time_high_ = 0;
  alarm_running_ = false;
  irq_pending_ = false;
  irq_enabled_ = false;
  drive_irq();
}

void GoldfishRtc::visit_state(StateVisitor& v) {
  v.field("offset", offset_);
  v.field("alarm_next", alarm_next_);
  v.field("time_high", time_high_);
  v.field("alarm_running", alarm_running_);
  v.field("irq_pending", irq_pending_);
  v.field("irq_enabled", irq_enabled_);
}

void GoldfishRtc::post_load() { drive_irq(); }

}  // namespace ferry
