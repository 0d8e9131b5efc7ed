// DecodedInsn: one guest instruction decoded once into a compact record.
//
// Both 32-bit and compressed (RVC) encodings decode to the same operations;
// compressed ones only differ in `len`. Writes to x0 are redirected to a sink
// register (index 32) so the interpreter never has to test rd == 0; an f
// register destination keeps its number (f0 is a register like the others).
#pragma once

#include <cstdint>

namespace ferry {

// Every operation the interpreter knows, in one list (X-macro): those with
// both a 16-bit and a 32-bit encoding, then those that are only ever 32 bits
// long (the interpreter has no 2-byte handler for them).
#define FERRY_OPS(X) FERRY_OPS_ANY_LENGTH(X) FERRY_OPS_32BIT_ONLY(X)

#define FERRY_OPS_ANY_LENGTH(X)                                              \
  /* interpreter-internal */                                                 \
  X(DECODE) X(PAGE_END) X(CROSS_PAGE) X(ILLEGAL)                             \
  /* RV64I */                                                                \
  X(LUI) X(AUIPC) X(JAL) X(JALR)                                             \
  X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU)                                \
  X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU)                               \
  X(SB) X(SH) X(SW) X(SD)                                                    \
  X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI)    \
  X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND)      \
  X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW)                                        \
  X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW)                                    \
  /* M */                                                                    \
  X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU)            \
  X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW)                                  \
  /* A: the AMO kind is in `aux` */                                          \
  X(LR_W) X(SC_W) X(AMO_W) X(LR_D) X(SC_D) X(AMO_D)                          \
  /* system */                                                               \
  X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI)              \
  X(SFENCE_VMA) X(CBO_MANAGE) X(CBO_ZERO)                                    \
  X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI)                   \
  /* D loads and stores (c.fld, c.fsd, c.fldsp, c.fsdsp) */                  \
  X(FLD) X(FSD)

// F and D. Operations that round carry the rm field in `aux` (kDynamic: use
// frm); the fused multiply-adds carry rs3 in `imm`.
#define FERRY_OPS_32BIT_ONLY(X) FERRY_OPS_FD(X) FERRY_OPS_ZB(X)

#define FERRY_OPS_FD(X)                                                      \
  X(FLW) X(FSW)                                                              \
  X(FADD_S) X(FSUB_S) X(FMUL_S) X(FDIV_S) X(FSQRT_S)                         \
  X(FMADD_S) X(FMSUB_S) X(FNMSUB_S) X(FNMADD_S)                              \
  X(FSGNJ_S) X(FSGNJN_S) X(FSGNJX_S) X(FMIN_S) X(FMAX_S)                     \
  X(FEQ_S) X(FLT_S) X(FLE_S) X(FCLASS_S)                                     \
  X(FCVT_W_S) X(FCVT_WU_S) X(FCVT_L_S) X(FCVT_LU_S)                         \
  X(FCVT_S_W) X(FCVT_S_WU) X(FCVT_S_L) X(FCVT_S_LU) X(FMV_X_W) X(FMV_W_X)    \
  X(FADD_D) X(FSUB_D) X(FMUL_D) X(FDIV_D) X(FSQRT_D)                         \
  X(FMADD_D) X(FMSUB_D) X(FNMSUB_D) X(FNMADD_D)                              \
  X(FSGNJ_D) X(FSGNJN_D) X(FSGNJX_D) X(FMIN_D) X(FMAX_D)                     \
  X(FEQ_D) X(FLT_D) X(FLE_D) X(FCLASS_D)                                     \
  X(FCVT_W_D) X(FCVT_WU_D) X(FCVT_L_D) X(FCVT_LU_D)                         \
  X(FCVT_D_W) X(FCVT_D_WU) X(FCVT_D_L) X(FCVT_D_LU) X(FMV_X_D) X(FMV_D_X)    \
  X(FCVT_S_D) X(FCVT_D_S)

// Zba, Zbb, Zbs (bit manipulation). Shift and rotate amounts and bit
// indexes of the immediate forms are in `imm`.
#define FERRY_OPS_ZB(X)                                                      \
  X(ADD_UW) X(SH1ADD) X(SH2ADD) X(SH3ADD) X(SH1ADD_UW) X(SH2ADD_UW)          \
  X(SH3ADD_UW) X(SLLI_UW)                                                    \
  X(ANDN) X(ORN) X(XNOR) X(CLZ) X(CLZW) X(CTZ) X(CTZW) X(CPOP) X(CPOPW)      \
  X(MAX) X(MAXU) X(MIN) X(MINU) X(SEXT_B) X(SEXT_H) X(ZEXT_H)                \
  X(ROL) X(ROLW) X(ROR) X(RORW) X(RORI) X(RORIW) X(ORC_B) X(REV8)            \
  X(BCLR) X(BCLRI) X(BEXT) X(BEXTI) X(BINV) X(BINVI) X(BSET) X(BSETI)

enum class Op : uint8_t {
#define FERRY_OP_ENUM(name) name,
  FERRY_OPS(FERRY_OP_ENUM)
#undef FERRY_OP_ENUM
  kCount
};

const char* op_name(Op op);

// AMO kinds (funct5 of the A extension).
enum class AmoKind : uint8_t {
  kAdd = 0x00, kSwap = 0x01, kXor = 0x04, kOr = 0x08, kAnd = 0x0c,
  kMin = 0x10, kMax = 0x14, kMinu = 0x18, kMaxu = 0x1c,
};

constexpr uint8_t kSinkReg = 32;

// 16-byte aligned: the interpreter finds a record from a pc and back with shifts.
struct alignas(16) DecodedInsn {
  Op op = Op::DECODE;
  uint8_t rd = 0;    // destination (kSinkReg when the encoding names x0)
  uint8_t rs1 = 0;   // source 1 (for CSR*I: the 5-bit immediate)
  uint8_t rs2 = 0;   // source 2
  uint8_t len = 0;   // 2 or 4 bytes
  uint8_t aux = 0;   // AMO kind; FP rounding mode
  uint16_t handler = 0;  // interpreter entry: 2 * op + (len == 4), see with_handler
  int32_t imm = 0;   // immediate; for CSR ops the CSR number; FP: see FERRY_OPS_32BIT_ONLY
  uint32_t raw = 0;  // the instruction bits (mtval of an illegal instruction)
};
static_assert(sizeof(DecodedInsn) == 16);
static_assert(static_cast<unsigned>(Op::kCount) * 2 <= 65536);

// Sets the interpreter entry that matches op and len.
inline DecodedInsn with_handler(DecodedInsn d) {
  d.handler = static_cast<uint16_t>(2 * static_cast<unsigned>(d.op) + (d.len == 4 ? 1 : 0));
  return d;
}

// Decodes the instruction whose low 16 bits are `low` (and, when those say it
// is 32 bits long, high 16 bits `high`). Unknown encodings give Op::ILLEGAL.
DecodedInsn decode_instruction(uint32_t bits);

// Length in bytes of the instruction starting with these 16 bits.
inline unsigned instruction_length(uint16_t low) { return (low & 3) == 3 ? 4 : 2; }

}  // namespace ferry
