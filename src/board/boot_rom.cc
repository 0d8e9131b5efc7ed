#include "board/boot_rom.h"

namespace ferry {

namespace {
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

std::vector<uint8_t> build_boot_rom(const BootRomParams& p) {
  std::vector<uint8_t> rom;
  put32(rom, 0x00000297);  // 0x00: auipc t0, 0          t0 = 0x1000
  put32(rom, 0x02828613);  // 0x04: addi  a2, t0, 0x28   a2 = &fw_dynamic_info
  put32(rom, 0xf1402573);  // 0x08: csrr  a0, mhartid
  put32(rom, 0x0202b583);  // 0x0c: ld    a1, 32(t0)     a1 = fdt address
  put32(rom, 0x0182b283);  // 0x10: ld    t0, 24(t0)     t0 = start address
  put32(rom, 0x00028067);  // 0x14: jr    t0
  put64(rom, p.start_addr);  // 0x18
  put64(rom, p.fdt_addr);    // 0x20
  // 0x28: struct fw_dynamic_info
  put64(rom, kFwDynamicInfoMagic);
  put64(rom, kFwDynamicInfoVersion);
  put64(rom, p.next_addr);
  put64(rom, p.next_mode);
  put64(rom, 0);  // options
  put64(rom, 0);  // boot_hart
  return rom;
}

}  // namespace ferry
