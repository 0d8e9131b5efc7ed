// Instruction decoder: RV64IMAFD + Zicsr + Zifencei + Zba/Zbb/Zbs +
// Zicbom/Zicboz + privileged, and RVC.
// Compressed instructions are expanded to the operation of their 32-bit form.
#include "cpu/decoded_insn.h"

#include <cstddef>

namespace ferry {

namespace {

inline uint32_t bits(uint32_t v, int hi, int lo) {
  return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}
inline int32_t sign_extend(uint32_t v, int width) {
  return static_cast<int32_t>(v << (32 - width)) >> (32 - width);
}
inline uint8_t dest(uint32_t r) { return r == 0 ? kSinkReg : static_cast<uint8_t>(r); }

DecodedInsn make(Op op, uint32_t rd, uint32_t rs1, uint32_t rs2, int32_t imm,
                 uint32_t raw, uint8_t len) {
  DecodedInsn d;
  d.op = op;
  d.rd = dest(rd);
  d.rs1 = static_cast<uint8_t>(rs1);
  d.rs2 = static_cast<uint8_t>(rs2);
  d.imm = imm;
  d.raw = raw;
  d.len = len;
  return d;
}

DecodedInsn illegal(uint32_t raw, uint8_t len) {
  return make(Op::ILLEGAL, 0, 0, 0, 0, raw, len);
}

// An instruction whose destination is an f register (no x0 sink).
DecodedInsn make_fp(Op op, uint32_t rd, uint32_t rs1, uint32_t rs2, int32_t imm,
                    uint32_t raw, uint8_t len) {
  DecodedInsn d = make(op, 0, rs1, rs2, imm, raw, len);
  d.rd = static_cast<uint8_t>(rd);
  return d;
}

// rm values 5 and 6 are reserved: the instruction is illegal.
bool valid_rounding_mode(uint32_t rm) { return rm != 5 && rm != 6; }

// OP-FP (opcode 0x53). funct7 = funct5 << 2 | fmt; fmt 0 = S, 1 = D (H and Q
// are not implemented).
DecodedInsn decode_op_fp(uint32_t w) {
  const uint32_t rd = bits(w, 11, 7), rm = bits(w, 14, 12), rs1 = bits(w, 19, 15),
                 rs2 = bits(w, 24, 20), fmt = bits(w, 26, 25), f5 = bits(w, 31, 27);
  if (fmt > 1) return illegal(w, 4);
  const bool dbl = fmt == 1;
  auto pick = [dbl](Op single, Op dbl_op) { return dbl ? dbl_op : single; };
  // Operations that round: rm in aux; the result goes to an f or an x register.
  auto rounding = [&](Op op, bool to_x) {
    if (!valid_rounding_mode(rm)) return illegal(w, 4);
    DecodedInsn d = to_x ? make(op, rd, rs1, rs2, 0, w, 4) : make_fp(op, rd, rs1, rs2, 0, w, 4);
    d.aux = static_cast<uint8_t>(rm);
    return d;
  };
  auto to_f = [&](Op op) { return make_fp(op, rd, rs1, rs2, 0, w, 4); };
  auto to_x = [&](Op op) { return make(op, rd, rs1, rs2, 0, w, 4); };
  switch (f5) {
    case 0x00: return rounding(pick(Op::FADD_S, Op::FADD_D), false);
    case 0x01: return rounding(pick(Op::FSUB_S, Op::FSUB_D), false);
    case 0x02: return rounding(pick(Op::FMUL_S, Op::FMUL_D), false);
    case 0x03: return rounding(pick(Op::FDIV_S, Op::FDIV_D), false);
    case 0x0b:
      if (rs2 != 0) break;
      return rounding(pick(Op::FSQRT_S, Op::FSQRT_D), false);
    case 0x04:
      if (rm == 0) return to_f(pick(Op::FSGNJ_S, Op::FSGNJ_D));
      if (rm == 1) return to_f(pick(Op::FSGNJN_S, Op::FSGNJN_D));
      if (rm == 2) return to_f(pick(Op::FSGNJX_S, Op::FSGNJX_D));
      break;
    case 0x05:
      if (rm == 0) return to_f(pick(Op::FMIN_S, Op::FMIN_D));
      if (rm == 1) return to_f(pick(Op::FMAX_S, Op::FMAX_D));
      break;
    case 0x08:  // fcvt.s.d (fmt S, from D) and fcvt.d.s (fmt D, from S)
      if (rs2 != (dbl ? 0u : 1u)) break;
      return rounding(pick(Op::FCVT_S_D, Op::FCVT_D_S), false);
    case 0x14:
      if (rm == 2) return to_x(pick(Op::FEQ_S, Op::FEQ_D));
      if (rm == 1) return to_x(pick(Op::FLT_S, Op::FLT_D));
      if (rm == 0) return to_x(pick(Op::FLE_S, Op::FLE_D));
      break;
    case 0x18: {  // to an integer: rs2 = W, WU, L, LU
      static constexpr Op kToInt[2][4] = {
          {Op::FCVT_W_S, Op::FCVT_WU_S, Op::FCVT_L_S, Op::FCVT_LU_S},
          {Op::FCVT_W_D, Op::FCVT_WU_D, Op::FCVT_L_D, Op::FCVT_LU_D}};
      if (rs2 > 3) break;
      return rounding(kToInt[fmt][rs2], true);
    }
    case 0x1a: {  // from an integer
      static constexpr Op kFromInt[2][4] = {
          {Op::FCVT_S_W, Op::FCVT_S_WU, Op::FCVT_S_L, Op::FCVT_S_LU},
          {Op::FCVT_D_W, Op::FCVT_D_WU, Op::FCVT_D_L, Op::FCVT_D_LU}};
      if (rs2 > 3) break;
      return rounding(kFromInt[fmt][rs2], false);
    }
    case 0x1c:
      if (rs2 != 0) break;
      if (rm == 0) return to_x(pick(Op::FMV_X_W, Op::FMV_X_D));
      if (rm == 1) return to_x(pick(Op::FCLASS_S, Op::FCLASS_D));
      break;
    case 0x1e:
      if (rs2 != 0 || rm != 0) break;
      return to_f(pick(Op::FMV_W_X, Op::FMV_D_X));
  }
  return illegal(w, 4);
}

DecodedInsn decode32(uint32_t w) {
  const uint32_t opcode = bits(w, 6, 0), rd = bits(w, 11, 7),
                 f3 = bits(w, 14, 12), rs1 = bits(w, 19, 15),
                 rs2 = bits(w, 24, 20), f7 = bits(w, 31, 25);
  const int32_t imm_i = static_cast<int32_t>(w) >> 20;
  const int32_t imm_s = (static_cast<int32_t>(w) >> 25 << 5) | bits(w, 11, 7);
  const int32_t imm_b = sign_extend((bits(w, 31, 31) << 12) | (bits(w, 7, 7) << 11) |
                                        (bits(w, 30, 25) << 5) | (bits(w, 11, 8) << 1),
                                    13);
  const int32_t imm_u = static_cast<int32_t>(w & 0xfffff000u);
  const int32_t imm_j = sign_extend((bits(w, 31, 31) << 20) | (bits(w, 19, 12) << 12) |
                                        (bits(w, 20, 20) << 11) | (bits(w, 30, 21) << 1),
                                    21);
  auto r = [&](Op op) { return make(op, rd, rs1, rs2, 0, w, 4); };
  auto i = [&](Op op, int32_t imm) { return make(op, rd, rs1, 0, imm, w, 4); };

  switch (opcode) {
    case 0x37: return i(Op::LUI, imm_u);
    case 0x17: return i(Op::AUIPC, imm_u);
    case 0x6f: return i(Op::JAL, imm_j);
    case 0x67: return f3 == 0 ? i(Op::JALR, imm_i) : illegal(w, 4);
    case 0x63: {
      static constexpr Op kBranch[8] = {Op::BEQ, Op::BNE, Op::ILLEGAL, Op::ILLEGAL,
                                        Op::BLT, Op::BGE, Op::BLTU,    Op::BGEU};
      if (kBranch[f3] == Op::ILLEGAL) return illegal(w, 4);
      return make(kBranch[f3], 0, rs1, rs2, imm_b, w, 4);
    }
    case 0x03: {
      static constexpr Op kLoad[8] = {Op::LB,  Op::LH,  Op::LW,  Op::LD,
                                      Op::LBU, Op::LHU, Op::LWU, Op::ILLEGAL};
      if (kLoad[f3] == Op::ILLEGAL) return illegal(w, 4);
      return i(kLoad[f3], imm_i);
    }
    case 0x23: {
      static constexpr Op kStore[4] = {Op::SB, Op::SH, Op::SW, Op::SD};
      if (f3 > 3) return illegal(w, 4);
      return make(kStore[f3], 0, rs1, rs2, imm_s, w, 4);
    }
    case 0x13: {
      const uint32_t f6 = bits(w, 31, 26), shamt = bits(w, 25, 20);
      switch (f3) {
        case 0: return i(Op::ADDI, imm_i);
        case 2: return i(Op::SLTI, imm_i);
        case 3: return i(Op::SLTIU, imm_i);
        case 4: return i(Op::XORI, imm_i);
        case 6: return i(Op::ORI, imm_i);
        case 7: return i(Op::ANDI, imm_i);
        case 1: {
          if (f6 == 0) return i(Op::SLLI, shamt);
          if (f6 == 0x0a) return i(Op::BSETI, shamt);
          if (f6 == 0x12) return i(Op::BCLRI, shamt);
          if (f6 == 0x1a) return i(Op::BINVI, shamt);
          switch (bits(w, 31, 20)) {  // Zbb unary operations
            case 0x600: return i(Op::CLZ, 0);
            case 0x601: return i(Op::CTZ, 0);
            case 0x602: return i(Op::CPOP, 0);
            case 0x604: return i(Op::SEXT_B, 0);
            case 0x605: return i(Op::SEXT_H, 0);
          }
          return illegal(w, 4);
        }
        case 5:
          if (f6 == 0) return i(Op::SRLI, shamt);
          if (f6 == 0x10) return i(Op::SRAI, shamt);
          if (f6 == 0x18) return i(Op::RORI, shamt);
          if (f6 == 0x12) return i(Op::BEXTI, shamt);
          if (bits(w, 31, 20) == 0x287) return i(Op::ORC_B, 0);
          if (bits(w, 31, 20) == 0x6b8) return i(Op::REV8, 0);
          return illegal(w, 4);
      }
      break;
    }
    case 0x1b: {
      switch (f3) {
        case 0: return i(Op::ADDIW, imm_i);
        case 1:
          if (f7 == 0) return i(Op::SLLIW, rs2);
          if (bits(w, 31, 26) == 0x02) return i(Op::SLLI_UW, bits(w, 25, 20));
          switch (bits(w, 31, 20)) {
            case 0x600: return i(Op::CLZW, 0);
            case 0x601: return i(Op::CTZW, 0);
            case 0x602: return i(Op::CPOPW, 0);
          }
          return illegal(w, 4);
        case 5:
          if (f7 == 0) return i(Op::SRLIW, rs2);
          if (f7 == 0x20) return i(Op::SRAIW, rs2);
          if (f7 == 0x30) return i(Op::RORIW, rs2);
          return illegal(w, 4);
      }
      break;
    }
    case 0x33: {
      if (f7 == 0x01) {
        static constexpr Op kMul[8] = {Op::MUL, Op::MULH, Op::MULHSU, Op::MULHU,
                                       Op::DIV, Op::DIVU, Op::REM,    Op::REMU};
        return r(kMul[f3]);
      }
      if (f7 == 0) {
        static constexpr Op kAlu[8] = {Op::ADD, Op::SLL, Op::SLT, Op::SLTU,
                                       Op::XOR, Op::SRL, Op::OR,  Op::AND};
        return r(kAlu[f3]);
      }
      if (f7 == 0x20) {
        static constexpr Op kAlt[8] = {Op::SUB,  Op::ILLEGAL, Op::ILLEGAL, Op::ILLEGAL,
                                       Op::XNOR, Op::SRA,     Op::ORN,     Op::ANDN};
        if (kAlt[f3] != Op::ILLEGAL) return r(kAlt[f3]);
        break;
      }
      // Zba, Zbb, Zbs.
      if (f7 == 0x05 && f3 >= 4) {
        static constexpr Op kMinMax[4] = {Op::MIN, Op::MINU, Op::MAX, Op::MAXU};
        return r(kMinMax[f3 - 4]);
      }
      if (f7 == 0x10 && (f3 == 2 || f3 == 4 || f3 == 6)) {
        static constexpr Op kShAdd[3] = {Op::SH1ADD, Op::SH2ADD, Op::SH3ADD};
        return r(kShAdd[f3 / 2 - 1]);
      }
      if (f7 == 0x30 && f3 == 1) return r(Op::ROL);
      if (f7 == 0x30 && f3 == 5) return r(Op::ROR);
      if (f7 == 0x24 && f3 == 1) return r(Op::BCLR);
      if (f7 == 0x24 && f3 == 5) return r(Op::BEXT);
      if (f7 == 0x34 && f3 == 1) return r(Op::BINV);
      if (f7 == 0x14 && f3 == 1) return r(Op::BSET);
      break;
    }
    case 0x3b: {
      if (f7 == 0x01) {
        switch (f3) {
          case 0: return r(Op::MULW);
          case 4: return r(Op::DIVW);
          case 5: return r(Op::DIVUW);
          case 6: return r(Op::REMW);
          case 7: return r(Op::REMUW);
        }
        break;
      }
      if (f7 == 0) {
        if (f3 == 0) return r(Op::ADDW);
        if (f3 == 1) return r(Op::SLLW);
        if (f3 == 5) return r(Op::SRLW);
      }
      if (f7 == 0x20) {
        if (f3 == 0) return r(Op::SUBW);
        if (f3 == 5) return r(Op::SRAW);
      }
      // Zba, Zbb.
      if (f7 == 0x04 && f3 == 0) return r(Op::ADD_UW);
      if (f7 == 0x04 && f3 == 4 && rs2 == 0) return r(Op::ZEXT_H);
      if (f7 == 0x10 && (f3 == 2 || f3 == 4 || f3 == 6)) {
        static constexpr Op kShAddUw[3] = {Op::SH1ADD_UW, Op::SH2ADD_UW, Op::SH3ADD_UW};
        return r(kShAddUw[f3 / 2 - 1]);
      }
      if (f7 == 0x30 && f3 == 1) return r(Op::ROLW);
      if (f7 == 0x30 && f3 == 5) return r(Op::RORW);
      break;
    }
    case 0x2f: {
      if (f3 != 2 && f3 != 3) break;
      const bool dword = f3 == 3;
      const uint32_t f5 = bits(w, 31, 27);
      if (f5 == 0x02) {
        if (rs2 != 0) break;
        return r(dword ? Op::LR_D : Op::LR_W);
      }
      if (f5 == 0x03) return r(dword ? Op::SC_D : Op::SC_W);
      switch (f5) {
        case 0x00: case 0x01: case 0x04: case 0x08: case 0x0c:
        case 0x10: case 0x14: case 0x18: case 0x1c: {
          DecodedInsn d = r(dword ? Op::AMO_D : Op::AMO_W);
          d.aux = static_cast<uint8_t>(f5);
          return d;
        }
      }
      break;
    }
    case 0x07:  // LOAD-FP
      if (f3 == 2) return make_fp(Op::FLW, rd, rs1, 0, imm_i, w, 4);
      if (f3 == 3) return make_fp(Op::FLD, rd, rs1, 0, imm_i, w, 4);
      break;
    case 0x27:  // STORE-FP
      if (f3 == 2) return make(Op::FSW, 0, rs1, rs2, imm_s, w, 4);
      if (f3 == 3) return make(Op::FSD, 0, rs1, rs2, imm_s, w, 4);
      break;
    case 0x43: case 0x47: case 0x4b: case 0x4f: {  // FMADD FMSUB FNMSUB FNMADD
      const uint32_t fmt = bits(w, 26, 25);
      if (fmt > 1 || !valid_rounding_mode(f3)) break;
      static constexpr Op kFused[2][4] = {
          {Op::FMADD_S, Op::FMSUB_S, Op::FNMSUB_S, Op::FNMADD_S},
          {Op::FMADD_D, Op::FMSUB_D, Op::FNMSUB_D, Op::FNMADD_D}};
      DecodedInsn d = make_fp(kFused[fmt][(opcode >> 2) & 3], rd, rs1, rs2,
                              static_cast<int32_t>(bits(w, 31, 27)), w, 4);
      d.aux = static_cast<uint8_t>(f3);
      return d;
    }
    case 0x53: return decode_op_fp(w);
    case 0x0f:
      if (f3 == 0) return make(Op::FENCE, 0, 0, 0, 0, w, 4);
      if (f3 == 1) return make(Op::FENCE_I, 0, 0, 0, 0, w, 4);
      // Zicbom (cbo.inval 0, cbo.clean 1, cbo.flush 2) and Zicboz (cbo.zero 4).
      if (f3 == 2 && rd == 0) {
        const uint32_t function = w >> 20;
        if (function == 4) return make(Op::CBO_ZERO, 0, rs1, 0, 0, w, 4);
        if (function <= 2)
          return make(Op::CBO_MANAGE, 0, rs1, 0, static_cast<int32_t>(function), w, 4);
      }
      break;
    case 0x73: {
      if (f3 == 0) {
        if (f7 == 0x09 && rd == 0) return make(Op::SFENCE_VMA, 0, rs1, rs2, 0, w, 4);
        if (rd != 0 || rs1 != 0) break;
        switch (static_cast<uint32_t>(imm_i) & 0xfff) {
          case 0x000: return make(Op::ECALL, 0, 0, 0, 0, w, 4);
          case 0x001: return make(Op::EBREAK, 0, 0, 0, 0, w, 4);
          case 0x302: return make(Op::MRET, 0, 0, 0, 0, w, 4);
          case 0x102: return make(Op::SRET, 0, 0, 0, 0, w, 4);
          case 0x105: return make(Op::WFI, 0, 0, 0, 0, w, 4);
        }
        break;
      }
      static constexpr Op kCsr[8] = {Op::ILLEGAL, Op::CSRRW,  Op::CSRRS,  Op::CSRRC,
                                     Op::ILLEGAL, Op::CSRRWI, Op::CSRRSI, Op::CSRRCI};
      if (kCsr[f3] == Op::ILLEGAL) break;
      return make(kCsr[f3], rd, rs1, 0, static_cast<int32_t>(bits(w, 31, 20)), w, 4);
    }
  }
  return illegal(w, 4);
}

DecodedInsn decode16(uint32_t h) {
  const uint32_t quadrant = h & 3, f3 = bits(h, 15, 13);
  const uint32_t rd_full = bits(h, 11, 7), rs2_full = bits(h, 6, 2);
  const uint32_t rdp = bits(h, 4, 2) + 8, rs1p = bits(h, 9, 7) + 8;
  auto c = [&](Op op, uint32_t rd, uint32_t rs1, uint32_t rs2, int32_t imm) {
    return make(op, rd, rs1, rs2, imm, h, 2);
  };
  const int32_t imm6 = sign_extend((bits(h, 12, 12) << 5) | bits(h, 6, 2), 6);

  switch (quadrant) {
    case 0: {
      const uint32_t lw_off = (bits(h, 12, 10) << 3) | (bits(h, 6, 6) << 2) | (bits(h, 5, 5) << 6);
      const uint32_t ld_off = (bits(h, 12, 10) << 3) | (bits(h, 6, 5) << 6);
      switch (f3) {
        case 0: {
          const uint32_t nzuimm = (bits(h, 12, 11) << 4) | (bits(h, 10, 7) << 6) |
                                  (bits(h, 6, 6) << 2) | (bits(h, 5, 5) << 3);
          if (nzuimm == 0) break;  // includes the all-zero illegal instruction
          return c(Op::ADDI, rdp, 2, 0, static_cast<int32_t>(nzuimm));
        }
        case 1:  // c.fld
          return make_fp(Op::FLD, rdp, rs1p, 0, static_cast<int32_t>(ld_off), h, 2);
        case 2: return c(Op::LW, rdp, rs1p, 0, static_cast<int32_t>(lw_off));
        case 3: return c(Op::LD, rdp, rs1p, 0, static_cast<int32_t>(ld_off));
        case 5: return c(Op::FSD, 0, rs1p, rdp, static_cast<int32_t>(ld_off));  // c.fsd
        case 6: return c(Op::SW, 0, rs1p, rdp, static_cast<int32_t>(lw_off));
        case 7: return c(Op::SD, 0, rs1p, rdp, static_cast<int32_t>(ld_off));
      }
      break;
    }
    case 1: {
      switch (f3) {
        case 0: return c(Op::ADDI, rd_full, rd_full, 0, imm6);
        case 1:
          if (rd_full == 0) break;
          return c(Op::ADDIW, rd_full, rd_full, 0, imm6);
        case 2: return c(Op::ADDI, rd_full, 0, 0, imm6);
        case 3: {
          if (rd_full == 2) {
            const int32_t imm = sign_extend(
                (bits(h, 12, 12) << 9) | (bits(h, 6, 6) << 4) | (bits(h, 5, 5) << 6) |
                    (bits(h, 4, 3) << 7) | (bits(h, 2, 2) << 5),
                10);
            if (imm == 0) break;
            return c(Op::ADDI, 2, 2, 0, imm);
          }
          const int32_t imm = sign_extend((bits(h, 12, 12) << 17) | (bits(h, 6, 2) << 12), 18);
          if (imm == 0) break;
          return c(Op::LUI, rd_full, 0, 0, imm);
        }
        case 4: {
          const uint32_t f2 = bits(h, 11, 10);
          const uint32_t shamt = (bits(h, 12, 12) << 5) | bits(h, 6, 2);
          if (f2 == 0) return c(Op::SRLI, rs1p, rs1p, 0, static_cast<int32_t>(shamt));
          if (f2 == 1) return c(Op::SRAI, rs1p, rs1p, 0, static_cast<int32_t>(shamt));
          if (f2 == 2) return c(Op::ANDI, rs1p, rs1p, 0, imm6);
          static constexpr Op kOps[8] = {Op::SUB,  Op::XOR,  Op::OR,      Op::AND,
                                         Op::SUBW, Op::ADDW, Op::ILLEGAL, Op::ILLEGAL};
          const Op op = kOps[(bits(h, 12, 12) << 2) | bits(h, 6, 5)];
          if (op == Op::ILLEGAL) break;
          return c(op, rs1p, rs1p, rdp, 0);
        }
        case 5: {
          const int32_t off = sign_extend(
              (bits(h, 12, 12) << 11) | (bits(h, 11, 11) << 4) | (bits(h, 10, 9) << 8) |
                  (bits(h, 8, 8) << 10) | (bits(h, 7, 7) << 6) | (bits(h, 6, 6) << 7) |
                  (bits(h, 5, 3) << 1) | (bits(h, 2, 2) << 5),
              12);
          return c(Op::JAL, 0, 0, 0, off);
        }
        case 6:
        case 7: {
          const int32_t off = sign_extend(
              (bits(h, 12, 12) << 8) | (bits(h, 11, 10) << 3) | (bits(h, 6, 5) << 6) |
                  (bits(h, 4, 3) << 1) | (bits(h, 2, 2) << 5),
              9);
          return c(f3 == 6 ? Op::BEQ : Op::BNE, 0, rs1p, 0, off);
        }
      }
      break;
    }
    case 2: {
      switch (f3) {
        case 0: {
          const uint32_t shamt = (bits(h, 12, 12) << 5) | bits(h, 6, 2);
          return c(Op::SLLI, rd_full, rd_full, 0, static_cast<int32_t>(shamt));
        }
        case 1: {  // c.fldsp (f0 is a valid destination)
          const uint32_t off = (bits(h, 12, 12) << 5) | (bits(h, 6, 5) << 3) | (bits(h, 4, 2) << 6);
          return make_fp(Op::FLD, rd_full, 2, 0, static_cast<int32_t>(off), h, 2);
        }
        case 2: {
          if (rd_full == 0) break;
          const uint32_t off = (bits(h, 12, 12) << 5) | (bits(h, 6, 4) << 2) | (bits(h, 3, 2) << 6);
          return c(Op::LW, rd_full, 2, 0, static_cast<int32_t>(off));
        }
        case 3: {
          if (rd_full == 0) break;
          const uint32_t off = (bits(h, 12, 12) << 5) | (bits(h, 6, 5) << 3) | (bits(h, 4, 2) << 6);
          return c(Op::LD, rd_full, 2, 0, static_cast<int32_t>(off));
        }
        case 4: {
          if (bits(h, 12, 12) == 0) {
            if (rs2_full == 0) {
              if (rd_full == 0) break;
              return c(Op::JALR, 0, rd_full, 0, 0);
            }
            return c(Op::ADD, rd_full, 0, rs2_full, 0);
          }
          if (rd_full == 0 && rs2_full == 0) return c(Op::EBREAK, 0, 0, 0, 0);
          if (rs2_full == 0) return c(Op::JALR, 1, rd_full, 0, 0);
          return c(Op::ADD, rd_full, rd_full, rs2_full, 0);
        }
        case 5: {  // c.fsdsp
          const uint32_t off = (bits(h, 12, 10) << 3) | (bits(h, 9, 7) << 6);
          return c(Op::FSD, 0, 2, rs2_full, static_cast<int32_t>(off));
        }
        case 6: {
          const uint32_t off = (bits(h, 12, 9) << 2) | (bits(h, 8, 7) << 6);
          return c(Op::SW, 0, 2, rs2_full, static_cast<int32_t>(off));
        }
        case 7: {
          const uint32_t off = (bits(h, 12, 10) << 3) | (bits(h, 9, 7) << 6);
          return c(Op::SD, 0, 2, rs2_full, static_cast<int32_t>(off));
        }
      }
      break;
    }
  }
  return illegal(h & 0xffff, 2);
}

}  // namespace

DecodedInsn decode_instruction(uint32_t bits_in) {
  if ((bits_in & 3) == 3) return with_handler(decode32(bits_in));
  return with_handler(decode16(bits_in & 0xffff));
}

const char* op_name(Op op) {
  static const char* const kNames[] = {
#define FERRY_OP_NAME(name) #name,
      FERRY_OPS(FERRY_OP_NAME)
#undef FERRY_OP_NAME
  };
  auto i = static_cast<size_t>(op);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "?";
}

}  // namespace ferry
