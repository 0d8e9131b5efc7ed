// Clint: the SiFive core-local interruptor (sifive,clint0) for every hart.
//
// Window of kWindowSize bytes:
//   +0x0000 + 4h  msip of hart h: 32-bit; bit 0 drives its MSIP (mip bit 3),
//                 other bits read 0 (an IPI from any hart)
//   +0x4000 + 8h  mtimecmp of hart h: 64-bit (also as two 32-bit halves)
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
// State ("clint" v2): per hart msip and mtimecmp (a table whose length is the
// hart count: a stream for another count is refused), and mtime, read from
// the clock on save and written into it on load, so guest time is continuous.
//
// Threads: under the VM's device lock (any hart's thread), or any thread
// while the VM is paused.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

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

  // `clock` and the harts must outlive the Clint.
  Clint(GuestClock& clock, InterruptTarget& hart) : Clint(clock, std::vector<InterruptTarget*>{&hart}) {}
  Clint(GuestClock& clock, std::vector<InterruptTarget*> harts);

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  void reset() override;

  // Recomputes MTIP from the clock; call at every run-slice boundary.
  void update();
  // The tick count at which hart h's MTIP will rise (its mtimecmp).
  uint64_t next_deadline_ticks(unsigned hart = 0) const { return per_hart_[hart].mtimecmp; }

  uint64_t mtimecmp(unsigned hart = 0) const { return per_hart_[hart].mtimecmp; }
  bool msip(unsigned hart = 0) const { return per_hart_[hart].msip & 1; }

  std::string_view state_name() const override { return "clint"; }
  int state_version() const override { return 2; }
  int state_min_version() const override { return 2; }
  void visit_state(StateVisitor& v) override;
  void post_load() override;

 private:
  struct PerHart {
    uint32_t msip = 0;
    uint64_t mtimecmp = 0;
  };
  GuestClock& clock_;
  std::vector<InterruptTarget*> harts_;
  std::vector<PerHart> per_hart_;
};

}  // namespace ferry
