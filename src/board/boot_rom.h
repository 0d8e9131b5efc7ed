// The reset ROM at 0x1000, laid out as QEMU's virt board does:
//   a0 = mhartid, a1 = device tree address, a2 = address of a fw_dynamic_info
//   block (OpenSBI's boot protocol), then a jump to the start address in M-mode.
#pragma once

#include <cstdint>
#include <vector>

namespace ferry {

constexpr uint64_t kBootRomBase = 0x1000;
constexpr uint64_t kBootRomSize = 0xf000;
constexpr uint64_t kFwDynamicInfoMagic = 0x4942534f;  // "OSBI"
constexpr uint64_t kFwDynamicInfoVersion = 2;
constexpr uint64_t kNextModeSupervisor = 1;

struct BootRomParams {
  uint64_t start_addr;  // where the ROM jumps (firmware or kernel entry)
  uint64_t fdt_addr;    // a1
  uint64_t next_addr;   // fw_dynamic_info.next_addr (0 when no kernel)
  uint64_t next_mode = kNextModeSupervisor;
};

std::vector<uint8_t> build_boot_rom(const BootRomParams& params);

}  // namespace ferry
