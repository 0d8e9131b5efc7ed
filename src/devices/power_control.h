// PowerControl: how a device asks the machine to power off or reset (the
// sifive,test finisher, later perhaps a PSCI/SBI path).
//
// Called on the vCPU thread from inside an MMIO access. Implementations only
// record the request and make the run loop stop at the end of the current
// instruction/slice; they must not tear the machine down from inside the call.
#pragma once

namespace ferry {

class PowerControl {
 public:
  virtual ~PowerControl() = default;
  // The guest powered off. `exit_code` is 0 for a clean power-off (0x5555) and
  // the code the guest gave for a failure (0x3333 | code << 16); QEMU exits
  // with it.
  virtual void request_poweroff(int exit_code) = 0;
  // The guest asked for a system reset (0x7777).
  virtual void request_reset() = 0;
};

}  // namespace ferry
