// Decoder: 32-bit and compressed encodings decode to the expected records.
#include <gtest/gtest.h>

#include "cpu/decoded_insn.h"

namespace ferry {
namespace {

TEST(DecoderTest, AddiWithNegativeImmediate) {
  // addi a0, a1, -5
  const DecodedInsn d = decode_instruction(0xffb58513);
  EXPECT_EQ(d.op, Op::ADDI);
  EXPECT_EQ(d.rd, 10);
  EXPECT_EQ(d.rs1, 11);
  EXPECT_EQ(d.imm, -5);
  EXPECT_EQ(d.len, 4);
}

TEST(DecoderTest, WritesToX0GoToTheSink) {
  const DecodedInsn d = decode_instruction(0x00000013);  // nop = addi x0, x0, 0
  EXPECT_EQ(d.op, Op::ADDI);
  EXPECT_EQ(d.rd, kSinkReg);
}

TEST(DecoderTest, BranchAndJumpOffsets) {
  // beq a0, a1, -8 : imm[12|10:5] rs2 rs1 000 imm[4:1|11] 1100011
  const DecodedInsn b = decode_instruction(0xfeb50ce3);
  EXPECT_EQ(b.op, Op::BEQ);
  EXPECT_EQ(b.imm, -8);
  // jal ra, 2048
  const DecodedInsn j = decode_instruction(0x001000ef);
  EXPECT_EQ(j.op, Op::JAL);
  EXPECT_EQ(j.rd, 1);
  EXPECT_EQ(j.imm, 2048);
}

TEST(DecoderTest, LoadsStoresAndUpperImmediates) {
  const DecodedInsn ld = decode_instruction(0xff843503);  // ld a0, -8(s0)
  EXPECT_EQ(ld.op, Op::LD);
  EXPECT_EQ(ld.imm, -8);
  const DecodedInsn sd = decode_instruction(0xfea43c23);  // sd a0, -8(s0)
  EXPECT_EQ(sd.op, Op::SD);
  EXPECT_EQ(sd.rs1, 8);
  EXPECT_EQ(sd.rs2, 10);
  EXPECT_EQ(sd.imm, -8);
  const DecodedInsn lui = decode_instruction(0x800002b7);  // lui t0, 0x80000
  EXPECT_EQ(lui.op, Op::LUI);
  EXPECT_EQ(lui.imm, static_cast<int32_t>(0x80000000u));
}

TEST(DecoderTest, SystemAndCsr) {
  EXPECT_EQ(decode_instruction(0x00000073).op, Op::ECALL);
  EXPECT_EQ(decode_instruction(0x00100073).op, Op::EBREAK);
  EXPECT_EQ(decode_instruction(0x30200073).op, Op::MRET);
  EXPECT_EQ(decode_instruction(0x10200073).op, Op::SRET);
  EXPECT_EQ(decode_instruction(0x10500073).op, Op::WFI);
  EXPECT_EQ(decode_instruction(0x12000073).op, Op::SFENCE_VMA);
  const DecodedInsn csr = decode_instruction(0xf1402573);  // csrr a0, mhartid
  EXPECT_EQ(csr.op, Op::CSRRS);
  EXPECT_EQ(csr.imm, 0xf14);
  EXPECT_EQ(csr.rs1, 0);
}

TEST(DecoderTest, AtomicsCarryTheirKind) {
  const DecodedInsn amo = decode_instruction(0x00b5352f);  // amoadd.d a0, a1, (a0)
  EXPECT_EQ(amo.op, Op::AMO_D);
  EXPECT_EQ(static_cast<AmoKind>(amo.aux), AmoKind::kAdd);
  EXPECT_EQ(decode_instruction(0x1005252f).op, Op::LR_W);   // lr.w a0, (a0)
  EXPECT_EQ(decode_instruction(0x18b5352f).op, Op::SC_D);   // sc.d a0, a1, (a0)
}

TEST(DecoderTest, CompressedForms) {
  const DecodedInsn li = decode_instruction(0x4515);  // c.li a0, 5
  EXPECT_EQ(li.op, Op::ADDI);
  EXPECT_EQ(li.rd, 10);
  EXPECT_EQ(li.rs1, 0);
  EXPECT_EQ(li.imm, 5);
  EXPECT_EQ(li.len, 2);
  const DecodedInsn mv = decode_instruction(0x852e);  // c.mv a0, a1
  EXPECT_EQ(mv.op, Op::ADD);
  EXPECT_EQ(mv.rs1, 0);
  EXPECT_EQ(mv.rs2, 11);
  const DecodedInsn ret = decode_instruction(0x8082);  // c.jr ra
  EXPECT_EQ(ret.op, Op::JALR);
  EXPECT_EQ(ret.rd, kSinkReg);
  EXPECT_EQ(ret.rs1, 1);
  const DecodedInsn sdsp = decode_instruction(0xe406);  // c.sdsp ra, 8(sp)
  EXPECT_EQ(sdsp.op, Op::SD);
  EXPECT_EQ(sdsp.rs1, 2);
  EXPECT_EQ(sdsp.rs2, 1);
  EXPECT_EQ(sdsp.imm, 8);
  const DecodedInsn addi16sp = decode_instruction(0x7179);  // c.addi16sp sp, -48
  EXPECT_EQ(addi16sp.op, Op::ADDI);
  EXPECT_EQ(addi16sp.imm, -48);
}

TEST(DecoderTest, FloatingPointForms) {
  // fadd.d fa0, fa1, fa2, rtz: rounding mode in aux, f destination kept even for f0.
  const DecodedInsn add = decode_instruction(0x02c59553);
  EXPECT_EQ(add.op, Op::FADD_D);
  EXPECT_EQ(add.rd, 10);
  EXPECT_EQ(add.rs1, 11);
  EXPECT_EQ(add.rs2, 12);
  EXPECT_EQ(add.aux, 1);
  const DecodedInsn to_f0 = decode_instruction(0x00c5f053);  // fadd.s f0, fa1, fa2, dyn
  EXPECT_EQ(to_f0.op, Op::FADD_S);
  EXPECT_EQ(to_f0.rd, 0);
  EXPECT_EQ(to_f0.aux, 7);
  // fmadd.s fa0, fa1, fa2, fa3 (rne): rs3 in imm.
  const DecodedInsn fma = decode_instruction(0x68c58543);
  EXPECT_EQ(fma.op, Op::FMADD_S);
  EXPECT_EQ(fma.imm, 13);
  EXPECT_EQ(decode_instruction(0x6ac5f54f).op, Op::FNMADD_D);  // fnmadd.d
  // fcvt.lu.d a0, fa1, rtz; an x destination x0 goes to the sink.
  const DecodedInsn cvt = decode_instruction(0xc2359553);
  EXPECT_EQ(cvt.op, Op::FCVT_LU_D);
  EXPECT_EQ(cvt.rd, 10);
  EXPECT_EQ(cvt.aux, 1);
  EXPECT_EQ(decode_instruction(0xc2359053).rd, kSinkReg);
  EXPECT_EQ(decode_instruction(0xa0b52553).op, Op::FEQ_S);   // feq.s a0, fa0, fa1
  EXPECT_EQ(decode_instruction(0xe0059553).op, Op::FCLASS_S);  // fclass.s a0, fa1
  EXPECT_EQ(decode_instruction(0xf2058553).op, Op::FMV_D_X);  // fmv.d.x fa0, a1
  EXPECT_EQ(decode_instruction(0x40159553).op, Op::FCVT_S_D);  // fcvt.s.d fa0, fa1, rtz
  EXPECT_EQ(decode_instruction(0x42058553).op, Op::FCVT_D_S);  // fcvt.d.s fa0, fa1
  const DecodedInsn flw = decode_instruction(0xffc42507);  // flw fa0, -4(s0)
  EXPECT_EQ(flw.op, Op::FLW);
  EXPECT_EQ(flw.imm, -4);
  const DecodedInsn fsd = decode_instruction(0xfea43c27);  // fsd fa0, -8(s0)
  EXPECT_EQ(fsd.op, Op::FSD);
  EXPECT_EQ(fsd.rs2, 10);
  EXPECT_EQ(fsd.imm, -8);
  // Compressed: c.fld fa0, 8(s0); c.fsd fa0, 8(s0); c.fldsp f0, 16(sp); c.fsdsp fa0, 24(sp).
  const DecodedInsn cfld = decode_instruction(0x2408);
  EXPECT_EQ(cfld.op, Op::FLD);
  EXPECT_EQ(cfld.rd, 10);
  EXPECT_EQ(cfld.rs1, 8);
  EXPECT_EQ(cfld.imm, 8);
  EXPECT_EQ(cfld.len, 2);
  const DecodedInsn cfsd = decode_instruction(0xa408);
  EXPECT_EQ(cfsd.op, Op::FSD);
  EXPECT_EQ(cfsd.rs2, 10);
  EXPECT_EQ(cfsd.imm, 8);
  const DecodedInsn fldsp = decode_instruction(0x2042);
  EXPECT_EQ(fldsp.op, Op::FLD);
  EXPECT_EQ(fldsp.rd, 0);
  EXPECT_EQ(fldsp.rs1, 2);
  EXPECT_EQ(fldsp.imm, 16);
  const DecodedInsn fsdsp = decode_instruction(0xac2a);
  EXPECT_EQ(fsdsp.op, Op::FSD);
  EXPECT_EQ(fsdsp.rs2, 10);
  EXPECT_EQ(fsdsp.imm, 24);
}

TEST(DecoderTest, BitManipulationForms) {
  // Encodings from the assembler (binutils, -march=..._zba_zbb_zbs).
  EXPECT_EQ(decode_instruction(0x08c5853b).op, Op::ADD_UW);
  EXPECT_EQ(decode_instruction(0x20c5c533).op, Op::SH2ADD);
  EXPECT_EQ(decode_instruction(0x20c5e53b).op, Op::SH3ADD_UW);
  const DecodedInsn slli_uw = decode_instruction(0x0bf5951b);  // slli.uw a0, a1, 63
  EXPECT_EQ(slli_uw.op, Op::SLLI_UW);
  EXPECT_EQ(slli_uw.imm, 63);
  EXPECT_EQ(decode_instruction(0x40c5f533).op, Op::ANDN);
  EXPECT_EQ(decode_instruction(0x40c5c533).op, Op::XNOR);
  EXPECT_EQ(decode_instruction(0x60059513).op, Op::CLZ);
  EXPECT_EQ(decode_instruction(0x6015951b).op, Op::CTZW);
  EXPECT_EQ(decode_instruction(0x6025951b).op, Op::CPOPW);
  EXPECT_EQ(decode_instruction(0x0ac5d533).op, Op::MINU);
  EXPECT_EQ(decode_instruction(0x60559513).op, Op::SEXT_H);
  EXPECT_EQ(decode_instruction(0x0805c53b).op, Op::ZEXT_H);
  EXPECT_EQ(decode_instruction(0x60c5953b).op, Op::ROLW);
  const DecodedInsn rori = decode_instruction(0x63f5d513);  // rori a0, a1, 63
  EXPECT_EQ(rori.op, Op::RORI);
  EXPECT_EQ(rori.imm, 63);
  EXPECT_EQ(decode_instruction(0x61f5d51b).op, Op::RORIW);
  EXPECT_EQ(decode_instruction(0x2875d513).op, Op::ORC_B);
  EXPECT_EQ(decode_instruction(0x6b85d513).op, Op::REV8);
  EXPECT_EQ(decode_instruction(0x48c5d533).op, Op::BEXT);
  const DecodedInsn binvi = decode_instruction(0x6bf59513);  // binvi a0, a1, 63
  EXPECT_EQ(binvi.op, Op::BINVI);
  EXPECT_EQ(binvi.imm, 63);
  EXPECT_EQ(decode_instruction(0x2bf59513).op, Op::BSETI);
  // Neighbouring encodings that are not instructions.
  EXPECT_EQ(decode_instruction(0x60359513).op, Op::ILLEGAL);  // OP-IMM funct12 0x603
  EXPECT_EQ(decode_instruction(0x0805d53b).op, Op::ILLEGAL);  // zext.h with funct3 5
  EXPECT_EQ(decode_instruction(0x0815c53b).op, Op::ILLEGAL);  // zext.h with rs2 = 1
}

TEST(DecoderTest, IllegalEncodingsAreIllegal) {
  EXPECT_EQ(decode_instruction(0x0000).op, Op::ILLEGAL);       // all zeros
  EXPECT_EQ(decode_instruction(0xffffffff).op, Op::ILLEGAL);   // all ones
  EXPECT_EQ(decode_instruction(0x00004073).op, Op::ILLEGAL);   // SYSTEM funct3 4
  EXPECT_EQ(decode_instruction(0x8000).op, Op::ILLEGAL);       // quadrant 0 funct3 4: reserved
  EXPECT_EQ(decode_instruction(0x0000d053).op, Op::ILLEGAL);   // fadd.s with rm 5 (reserved)
  EXPECT_EQ(decode_instruction(0x0400e053).op, Op::ILLEGAL);   // fadd.h (no Zfh)
  EXPECT_EQ(decode_instruction(0x06000053).op, Op::ILLEGAL);   // fadd.q (no Q)
  const DecodedInsn d = decode_instruction(0x0000);
  EXPECT_EQ(d.len, 2);
}

}  // namespace
}  // namespace ferry
