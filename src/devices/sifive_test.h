// SifiveTest: the sifive,test0/test1 finisher (also the syscon behind QEMU virt's
// /poweroff and /reboot nodes), window of kWindowSize bytes.
//
// A write of 2, 4 or 8 bytes at offset 0 whose low 16 bits are
//   0x5555 → power off with exit code 0,
//   0x3333 → power off with exit code = bits 31:16 of the value (a failure),
//   0x7777 → system reset;
// every other write is ignored and every read returns 0 (syscon drivers
// read-modify-write the register, which therefore still writes 0x5555).
//
// State ("sifive_test" v1): none.
//
// Threads: vCPU thread; the PowerControl is called from inside mmio_write.
#pragma once

#include <cstdint>
#include <string_view>

#include "devices/mmio_device.h"
#include "devices/power_control.h"

namespace ferry {

class SifiveTest : public MmioDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x1000;
  static constexpr uint32_t kFinisherFail = 0x3333;
  static constexpr uint32_t kFinisherPass = 0x5555;
  static constexpr uint32_t kFinisherReset = 0x7777;

  // `power` must outlive the device.
  explicit SifiveTest(PowerControl& power) : power_(power) {}

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  void reset() override {}

  std::string_view state_name() const override { return "sifive_test"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor&) override {}

 private:
  PowerControl& power_;
};

}  // namespace ferry
