// GoldfishRtc: the google,goldfish-rtc real-time clock (window kWindowSize,
// PLIC irq 11 on virt), modelled on QEMU's hw/rtc/goldfish_rtc.c.
//
// Time is nanoseconds since the Unix epoch: the host's CLOCK_REALTIME plus an
// offset the guest sets by writing TIME_LOW/TIME_HIGH. 32-bit registers (other
// sizes or misaligned accesses read 0 / are ignored):
//   0x00 TIME_LOW      read: low half of the time, latches the high half
//   0x04 TIME_HIGH     read: the latched high half
//   0x08 ALARM_LOW     write: arms the alarm at (ALARM_HIGH << 32 | value)
//   0x0c ALARM_HIGH
//   0x10 IRQ_ENABLED   bit 0
//   0x14 CLEAR_ALARM   write: disarms the alarm
//   0x18 ALARM_STATUS  1 while armed
//   0x1c CLEAR_INTERRUPT
// The interrupt line is high while an alarm has fired, is not cleared, and
// IRQ_ENABLED is set. An alarm armed in the past fires at once; a future one
// fires in `update()`, which the VM calls at every run-slice boundary.
//
// State ("goldfish_rtc" v1): the offset (so the guest's clock stays what it
// set, relative to the host's wall clock), the alarm, its flags and the latch.
//
// Threads: vCPU thread, or any thread while the VM is paused.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "devices/mmio_device.h"

namespace ferry {

class GoldfishRtc : public MmioDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x1000;
  static constexpr uint64_t kTimeLow = 0x00;
  static constexpr uint64_t kTimeHigh = 0x04;
  static constexpr uint64_t kAlarmLow = 0x08;
  static constexpr uint64_t kAlarmHigh = 0x0c;
  static constexpr uint64_t kIrqEnabled = 0x10;
  static constexpr uint64_t kClearAlarm = 0x14;
  static constexpr uint64_t kAlarmStatus = 0x18;
  static constexpr uint64_t kClearInterrupt = 0x1c;

  // Host wall-clock time in ns since the epoch; defaults to CLOCK_REALTIME
  // (tests pass a fake).
  using HostClock = std::function<uint64_t()>;

  // `irq` may be null; it must outlive the device.
  explicit GoldfishRtc(IrqLine* irq, HostClock host_clock = {});

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  // Disarms the alarm and clears the interrupt state; the time the guest set
  // is kept (the RTC is battery-backed).
  void reset() override;

  // Fires a due alarm; call at every run-slice boundary.
  void update();
  // Guest RTC time in ns since the epoch.
  uint64_t now_ns() const;
  // Host ns until an armed alarm is due (0 when due), nullopt when disarmed.
  std::optional<uint64_t> ns_until_alarm() const;

  std::string_view state_name() const override { return "goldfish_rtc"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor& v) override;
  void post_load() override;

 private:
  void arm_alarm();
  void raise_alarm();
  void drive_irq();

  IrqLine* irq_;
  HostClock host_clock_;
  uint64_t offset_ = 0;       // added (mod 2^64) to the host time
  uint64_t alarm_next_ = 0;
  uint32_t time_high_ = 0;    // latched by a TIME_LOW read
  bool alarm_running_ = false;
  bool irq_pending_ = false;
  bool irq_enabled_ = false;
};

}  // namespace ferry
