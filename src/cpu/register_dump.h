// The text of `info registers` for one hart: QEMU's layout for RISC-V
// (pc, privilege, the machine and supervisor CSRs, x0..x31 by ABI name, and
// f0..f31 when the FPU is on), so people and scripts read both alike.
#pragma once

#include <string>

namespace ferry {

class Hart;

// With the hart not running (the world stopped).
std::string dump_registers(Hart& hart);

}  // namespace ferry
