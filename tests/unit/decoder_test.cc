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

TEST(DecoderTest, IllegalEncodingsAreIllegal) {
  EXPECT_EQ(decode_instruction(0x0000).op, Op::ILLEGAL);       // all zeros
  EXPECT_EQ(decode_instruction(0xffffffff).op, Op::ILLEGAL);   // all ones
  EXPECT_EQ(decode_instruction(0x00004073).op, Op::ILLEGAL);   // SYSTEM funct3 4
  EXPECT_EQ(decode_instruction(0x2000).op, Op::ILLEGAL);       // c.fld (no F)
  const DecodedInsn d = decode_instruction(0x0000);
  EXPECT_EQ(d.len, 2);
}

}  // namespace
}  // namespace ferry
