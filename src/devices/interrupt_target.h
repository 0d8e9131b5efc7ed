// InterruptTarget: the hart's interrupt-pending inputs (bits of mip) as seen by
// the CLINT (MSIP = bit 3, MTIP = bit 7) and the PLIC (SEIP = 9, MEIP = 11).
// Level-triggered; called on the vCPU thread.
#pragma once

namespace ferry {

constexpr unsigned kMipMsip = 3;
constexpr unsigned kMipStip = 5;  // Sstc: driven by the hart's own stimecmp
constexpr unsigned kMipMtip = 7;
constexpr unsigned kMipSeip = 9;
constexpr unsigned kMipMeip = 11;

class InterruptTarget {
 public:
  virtual ~InterruptTarget() = default;
  virtual void set_interrupt_pending(unsigned mip_bit, bool level) = 0;
};

}  // namespace ferry
