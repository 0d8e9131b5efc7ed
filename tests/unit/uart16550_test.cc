#include "devices/uart16550.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "state_roundtrip.h"

namespace ferry {
namespace {

class FakeBackend : public SerialBackend {
 public:
  void write_bytes(const uint8_t* data, size_t len) override {
    out.append(reinterpret_cast<const char*>(data), len);
  }
  std::string out;
};

class FakeIrq : public IrqLine {
 public:
  void set_level(bool high) override { level = high; }
  bool level = false;
};

constexpr uint64_t kRbr = 0, kThr = 0, kDll = 0, kIer = 1, kDlm = 1, kIir = 2,
                   kFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;

class UartTest : public ::testing::Test {
 protected:
  uint8_t rd(uint64_t off) { return static_cast<uint8_t>(uart.mmio_read(off, 1)); }
  void wr(uint64_t off, uint8_t v) { uart.mmio_write(off, 1, v); }

  FakeBackend backend;
  FakeIrq irq;
  Uart16550 uart{&backend, &irq};
};

TEST_F(UartTest, ResetValues) {
  EXPECT_EQ(rd(kIer), 0x00);
  EXPECT_EQ(rd(kIir), 0x01);
  EXPECT_EQ(rd(kLcr), 0x00);
  EXPECT_EQ(rd(kMcr), 0x08);
  EXPECT_EQ(rd(kLsr), 0x60);
  EXPECT_EQ(rd(kMsr), 0xb0);
  EXPECT_EQ(rd(kScr), 0x00);
  EXPECT_FALSE(irq.level);
  EXPECT_TRUE(uart.can_receive());
}

TEST_F(UartTest, TransmitGoesStraightToTheBackend) {
  for (char c : std::string("hello\n")) wr(kThr, static_cast<uint8_t>(c));
  EXPECT_EQ(backend.out, "hello\n");
  EXPECT_EQ(rd(kLsr) & 0x60, 0x60);  // THRE and TEMT stay set
  EXPECT_FALSE(irq.level);            // ETBEI not enabled
}

TEST_F(UartTest, WiderAccessesTouchOneByteRegister) {
  uart.mmio_write(kThr, 4, 0x12345641);
  EXPECT_EQ(backend.out, "A");
  uart.mmio_write(kScr, 8, 0xffffffffffffff5aull);
  EXPECT_EQ(uart.mmio_read(kScr, 4), 0x5au);
  EXPECT_EQ(uart.mmio_read(kScr + 8, 1), 0x5au);  // the window aliases by 8
}

TEST_F(UartTest, DivisorLatch) {
  wr(kLcr, 0x83);
  wr(kDll, 0x01);
  wr(kDlm, 0x02);
  EXPECT_EQ(rd(kDll), 0x01);
  EXPECT_EQ(rd(kDlm), 0x02);
  EXPECT_EQ(backend.out, "");  // not transmitted
  wr(kLcr, 0x03);
  EXPECT_EQ(rd(kLcr), 0x03);
  EXPECT_EQ(rd(kIer), 0x00);  // IER untouched by the DLM write
  wr(kLcr, 0x83);
  EXPECT_EQ(rd(kDll), 0x01);
}

TEST_F(UartTest, ReceiveSetsDataReadyAndRdaInterrupt) {
  wr(kIer, 0x01);
  EXPECT_FALSE(irq.level);
  uart.receive('x');
  EXPECT_EQ(rd(kLsr) & 0x01, 0x01);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(kIir), 0x04);
  EXPECT_EQ(rd(kRbr), 'x');
  EXPECT_EQ(rd(kLsr) & 0x01, 0x00);
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(rd(kIir), 0x01);
  EXPECT_EQ(rd(kRbr), 0);  // empty reads 0
}

TEST_F(UartTest, ThreInterruptClassicSemantics) {
  wr(kIer, 0x02);  // ETBEI set while THR is empty: THRE interrupt
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(kIir), 0x02);  // reading IIR with THRE as the cause clears it
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(rd(kIir), 0x01);
  wr(kThr, 'a');  // the byte leaves at once, THR is empty again
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(kIir), 0x02);
  EXPECT_FALSE(irq.level);
  // Re-enabling ETBEI re-raises it.
  wr(kIer, 0x00);
  wr(kIer, 0x02);
  EXPECT_TRUE(irq.level);
  // Clearing ETBEI lowers it.
  wr(kIer, 0x00);
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(rd(kIir), 0x01);
}

TEST_F(UartTest, RdaHasPriorityOverThre) {
  wr(kIer, 0x03);
  uart.receive('q');
  EXPECT_EQ(rd(kIir), 0x04);
  EXPECT_EQ(rd(kRbr), 'q');
  EXPECT_EQ(rd(kIir), 0x02);
  EXPECT_FALSE(irq.level);
}

TEST_F(UartTest, FifoHoldsSixteenThenOverruns) {
  wr(kFcr, 0x07);  // enable + clear both
  EXPECT_EQ(rd(kIir), 0xc1);
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(uart.can_receive());
    uart.receive(static_cast<uint8_t>('a' + i));
  }
  EXPECT_FALSE(uart.can_receive());
  uart.receive('!');  // lost
  wr(kIer, 0x05);     // RDA + RLS
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(rd(kIir), 0xc6);  // line status first
  uint8_t lsr = rd(kLsr);
  EXPECT_EQ(lsr & 0x03, 0x03);  // DR + OE
  EXPECT_EQ(rd(kLsr) & 0x02, 0x00);  // OE cleared by the read
  EXPECT_EQ(rd(kIir), 0xc4);
  std::string got;
  while (rd(kLsr) & 0x01) got.push_back(static_cast<char>(rd(kRbr)));
  EXPECT_EQ(got, "abcdefghijklmnop");
  EXPECT_FALSE(irq.level);
  EXPECT_TRUE(uart.can_receive());
}

TEST_F(UartTest, FcrClearsReceiveFifo) {
  wr(kFcr, 0x01);
  uart.receive('1');
  uart.receive('2');
  wr(kFcr, 0x03);
  EXPECT_EQ(rd(kLsr) & 0x01, 0);
  EXPECT_EQ(rd(kRbr), 0);
  // Disabling the FIFOs flushes them too.
  uart.receive('3');
  wr(kFcr, 0x00);
  EXPECT_EQ(rd(kLsr) & 0x01, 0);
  EXPECT_EQ(rd(kIir), 0x01);
}

TEST_F(UartTest, WithoutFifoOneByteHoldsAndOverrunReplaces) {
  uart.receive('a');
  EXPECT_FALSE(uart.can_receive());
  uart.receive('b');
  EXPECT_EQ(rd(kLsr) & 0x03, 0x03);
  EXPECT_EQ(rd(kRbr), 'b');
  EXPECT_TRUE(uart.can_receive());
}

TEST_F(UartTest, LoopbackReturnsTransmittedBytes) {
  wr(kMcr, 0x10 | 0x0b);  // LOOP, OUT2, RTS, DTR
  EXPECT_FALSE(uart.can_receive());
  wr(kThr, 'z');
  EXPECT_EQ(backend.out, "");
  EXPECT_EQ(rd(kLsr) & 0x01, 0x01);
  EXPECT_EQ(rd(kRbr), 'z');
  // MSR mirrors MCR: OUT2→DCD, RTS→CTS, DTR→DSR.
  EXPECT_EQ(rd(kMsr), 0x80 | 0x10 | 0x20);
  wr(kMcr, 0x08);
  EXPECT_EQ(rd(kMsr), 0xb0);
  EXPECT_EQ(rd(kMcr), 0x08);
}

TEST_F(UartTest, ScratchRegister) {
  wr(kScr, 0xa5);
  EXPECT_EQ(rd(kScr), 0xa5);
}

TEST_F(UartTest, AnyOffsetAndSizeIsHarmless) {
  Uart16550 no_wires(nullptr, nullptr);
  for (uint64_t off = 0; off < 0x200; ++off) {
    for (unsigned size : {1u, 2u, 4u, 8u}) {
      uart.mmio_read(off, size);
      no_wires.mmio_read(off, size);
      no_wires.mmio_write(off, size, 0x41);
    }
  }
  no_wires.receive('x');
  SUCCEED();
}

TEST_F(UartTest, ResetClearsState) {
  wr(kFcr, 0x01);
  wr(kIer, 0x03);
  uart.receive('x');
  wr(kScr, 9);
  uart.reset();
  EXPECT_EQ(rd(kIir), 0x01);
  EXPECT_EQ(rd(kLsr), 0x60);
  EXPECT_EQ(rd(kIer), 0);
  EXPECT_EQ(rd(kScr), 0);
  EXPECT_FALSE(irq.level);
}

TEST_F(UartTest, StateRoundTrip) {
  wr(kLcr, 0x83);
  wr(kDll, 0x0c);
  wr(kDlm, 0x01);
  wr(kLcr, 0x03);
  wr(kFcr, 0xc1);  // FIFO, trigger level 14
  wr(kMcr, 0x0b);
  wr(kScr, 0x77);
  wr(kIer, 0x07);
  uart.receive('m');
  uart.receive('n');
  ASSERT_TRUE(irq.level);

  FakeBackend backend2;
  FakeIrq irq2;
  Uart16550 uart2(&backend2, &irq2);
  ASSERT_EQ(test_util::round_trip(uart, uart2), "");
  EXPECT_EQ(test_util::save_state(uart2), test_util::save_state(uart));
  EXPECT_TRUE(irq2.level);
  auto rd2 = [&](uint64_t off) { return uart2.mmio_read(off, 1); };
  for (uint64_t off : {kIer, kLcr, kMcr, kLsr, kMsr, kScr})
    EXPECT_EQ(rd2(off), rd(off)) << "offset " << off;
  EXPECT_EQ(rd2(kIir), 0xc4u);
  EXPECT_EQ(rd2(kRbr), 'm');
  EXPECT_EQ(rd2(kRbr), 'n');
  EXPECT_EQ(rd2(kIir), 0xc2u);  // THRE pending came along
  uart2.mmio_write(kLcr, 1, 0x83);
  EXPECT_EQ(rd2(kDll), 0x0cu);
  EXPECT_EQ(rd2(kDlm), 0x01u);
  EXPECT_EQ(uart.state_name(), "serial");
}

TEST_F(UartTest, LoadRejectsAnOversizedFifo) {
  auto entries = test_util::save_state(uart);
  for (auto& e : entries)
    if (e.name == "rx_fifo") e.bytes.assign(17, 'x');
  Uart16550 uart2(nullptr, nullptr);
  EXPECT_NE(test_util::load_state(uart2, entries, 1), "");
}

}  // namespace
}  // namespace ferry
