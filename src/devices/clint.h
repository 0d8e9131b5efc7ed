// Clint: the SiFive core-local interruptor (sifive,clint0) for one hart.
//
// Window of kWindowSize bytes:
//   +0x0000  msip      32-bit; bit 0 drives MSIP (mip bit 3), other bits read 0
//   +0x4000  mtimecmp  64-bit (also as two 32-bit halves)
//   +0xbff8  mtime     64-bit (also as two 32-bit halves); reads the GuestClock,
//                      writes set it
// Any access of 1, 2, 4 or 8 bytes that lies inside one register reads or
// replaces those bytes of it; anything else reads 0 and is ignored.
//
// MTIP (mip bit 7) is level: mtime >= mtimecmp. It is recomputed on every
// mtimecmp/mtime write and in `update()`, which the VM calls at every run-slice
// boundary (time moves on by itself). `next_deadline_ticks()` tells a hart in
// WFI until when it may sleep. At reset mtime and mtimecmp are 0, so MTIP is
// set (as on QEMU).
//
// State ("clint" v1): msip, mtimecmp and mtime; mtime is read from the clock on
// save and written into it on load, so guest time is continuous.
//
// Threads: vCPU thread, or any thread while the VM is paused.
#pragma once

#include <cstdint>
#include <string_view>

#include "devices/guest_clock.h"
#include "devices/interrupt_target.h"
#include "devices/mmio_device.h"

namespace ferry {

class Clint : public MmioDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x10000;
  static constexpr uint64_t kMsipOffset = 0x0;
  static constexpr uint64_t kMtimecmpOffset = 0x4000;
  static constexpr uint64_t kMtimeOffset = 0xbff8;

  // `clock` and `hart` must outlive the Clint.
  Clint(GuestClock& clock, InterruptTarget& hart);

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  void reset() override;

  // Recomputes MTIP from the clock; call at every run-slice boundary.
  void update();
  // The tick count at which MTIP will rise (mtimecmp).
  uint64_t next_deadline_ticks() const { return mtimecmp_; }

  uint64_t mtimecmp() const { return mtimecmp_; }
  bool msip() const { return msip_ & 1; }

  std::string_view state_name() const override { return "clint"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor& v) override;
  void post_load() override;

 private:
  GuestClock& clock_;
  InterruptTarget& hart_;
  uint32_t msip_ = 0;
  uint64_t mtimecmp_ = 0;
};

}  // namespace ferry
