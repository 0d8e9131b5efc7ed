// A few RV64I encoders for hand-written test programs.
#pragma once

#include <cstdint>
#include <vector>

namespace ferry::rv {

constexpr uint64_t kRamBase = 0x80000000;

inline uint32_t i_type(uint32_t opcode, unsigned rd, unsigned f3, unsigned rs1, int32_t imm) {
  return (static_cast<uint32_t>(imm) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode;
}
inline uint32_t r_type(uint32_t opcode, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2,
                       unsigned f7) {
  return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode;
}
inline uint32_t s_type(unsigned f3, unsigned rs1, unsigned rs2, int32_t imm) {
  const uint32_t u = static_cast<uint32_t>(imm);
  return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | 0x23;
}
inline uint32_t b_type(unsigned f3, unsigned rs1, unsigned rs2, int32_t off) {
  const uint32_t u = static_cast<uint32_t>(off);
  return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
         (f3 << 12) | (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}
inline uint32_t jal(unsigned rd, int32_t off) {
  const uint32_t u = static_cast<uint32_t>(off);
  return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) |
         (((u >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}
inline uint32_t addi(unsigned rd, unsigned rs1, int32_t imm) { return i_type(0x13, rd, 0, rs1, imm); }
inline uint32_t slli(unsigned rd, unsigned rs1, int32_t sh) { return i_type(0x13, rd, 1, rs1, sh); }
inline uint32_t lui(unsigned rd, uint32_t imm20) { return (imm20 << 12) | (rd << 7) | 0x37; }
inline uint32_t add(unsigned rd, unsigned rs1, unsigned rs2) { return r_type(0x33, rd, 0, rs1, rs2, 0); }
inline uint32_t csrrw(unsigned rd, uint16_t csr, unsigned rs1) { return i_type(0x73, rd, 1, rs1, csr); }
inline uint32_t csrrs(unsigned rd, uint16_t csr, unsigned rs1) { return i_type(0x73, rd, 2, rs1, csr); }
inline uint32_t csrrc(unsigned rd, uint16_t csr, unsigned rs1) { return i_type(0x73, rd, 3, rs1, csr); }
inline uint32_t ld(unsigned rd, unsigned rs1, int32_t imm) { return i_type(0x03, rd, 3, rs1, imm); }
inline uint32_t sd(unsigned rs1, unsigned rs2, int32_t imm) { return s_type(3, rs1, rs2, imm); }
inline uint32_t sw(unsigned rs1, unsigned rs2, int32_t imm) { return s_type(2, rs1, rs2, imm); }
inline uint32_t bltu(unsigned rs1, unsigned rs2, int32_t off) { return b_type(6, rs1, rs2, off); }
// F/D: OP-FP with funct7 (funct5 << 2 | fmt), rm (7 = dyn) and registers.
inline uint32_t fp_op(unsigned f7, unsigned rd, unsigned rm, unsigned rs1, unsigned rs2) {
  return r_type(0x53, rd, rm, rs1, rs2, f7);
}
inline uint32_t fadd_d(unsigned rd, unsigned rs1, unsigned rs2, unsigned rm = 7) { return fp_op(0x01, rd, rm, rs1, rs2); }
inline uint32_t fadd_s(unsigned rd, unsigned rs1, unsigned rs2, unsigned rm = 7) { return fp_op(0x00, rd, rm, rs1, rs2); }
inline uint32_t fdiv_d(unsigned rd, unsigned rs1, unsigned rs2, unsigned rm = 7) { return fp_op(0x0d, rd, rm, rs1, rs2); }
inline uint32_t fmv_d_x(unsigned rd, unsigned rs1) { return fp_op(0x79, rd, 0, rs1, 0); }
inline uint32_t fmv_x_d(unsigned rd, unsigned rs1) { return fp_op(0x71, rd, 0, rs1, 0); }
inline uint32_t fld(unsigned rd, unsigned rs1, int32_t imm) { return i_type(0x07, rd, 3, rs1, imm); }
inline uint32_t fsd(unsigned rs1, unsigned rs2, int32_t imm) {
  return s_type(3, rs1, rs2, imm) ^ 0x23 ^ 0x27;
}
inline uint32_t csrrwi(unsigned rd, uint16_t csr, unsigned imm) { return i_type(0x73, rd, 5, imm, csr); }
inline uint32_t csrrsi(unsigned rd, uint16_t csr, unsigned imm) { return i_type(0x73, rd, 6, imm, csr); }
constexpr uint32_t kWfi = 0x10500073;
constexpr uint32_t kMret = 0x30200073;
constexpr uint32_t kEcall = 0x00000073;

// rd = kRamBase + offset (offset < 2 GiB, low 12 bits < 0x800); uses x31.
inline std::vector<uint32_t> la(unsigned rd, uint32_t offset) {
  return {addi(rd, 0, 1), slli(rd, rd, 31), lui(31, offset >> 12), add(rd, rd, 31),
          addi(rd, rd, static_cast<int32_t>(offset & 0xfff))};
}
inline std::vector<uint32_t> cat(std::vector<uint32_t> a, const std::vector<uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace ferry::rv
