// Uart16550: an ns16550a UART with byte registers (regshift 0) in a window of
// kWindowSize bytes, modelled on QEMU's hw/char/serial.c so the same guest
// drivers behave the same.
//
// Registers (offset & 7; every access of any size touches one byte register,
// reads return it zero-extended, writes take the low byte):
//   0 RBR (read) / THR (write); DLL when LCR.DLAB
//   1 IER (4 bits);               DLM when LCR.DLAB
//   2 IIR (read) / FCR (write: FIFO enable, clear RX/TX FIFOs, trigger level)
//   3 LCR   4 MCR (5 bits; LOOP sends THR back to RBR, MSR mirrors MCR)
//   5 LSR (DR, OE, THRE, TEMT)   6 MSR (DCD|DSR|CTS)   7 SCR
// Transmission is instantaneous: THR bytes go straight to the SerialBackend, so
// THRE and TEMT are always set. Receive has a 16-byte FIFO (1 byte with FIFOs
// disabled; a byte arriving on a full FIFO sets OE and is lost, or replaces the
// holding register with FIFOs disabled).
//
// Interrupt (level on the IrqLine), by priority: receiver line status (IER bit
// 2, OE) → IIR 0x06; received data (IER bit 0, RX not empty; the trigger level
// and character timeout are folded into it) → 0x04; THR empty (IER bit 1) →
// 0x02, asserted when IER.ETBEI becomes set while THR is empty and after every
// THR write (the byte leaves at once), cleared by reading IIR while it is the
// reported cause or by clearing ETBEI. IIR bits 7:6 are 11 with FIFOs enabled.
//
// Host input: the main loop (through the VM, on the vCPU thread) checks
// `can_receive()` and hands bytes to `receive()`.
//
// State ("serial" v1): registers, the THRE-interrupt latch and the RX FIFO.
//
// Threads: vCPU thread, or any thread while the VM is paused.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "chardev/serial_backend.h"
#include "devices/mmio_device.h"

namespace ferry {

class Uart16550 : public MmioDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x100;
  static constexpr size_t kFifoSize = 16;

  // Either pointer may be null (output dropped / no interrupt wire); both must
  // outlive the UART.
  Uart16550(SerialBackend* backend, IrqLine* irq);

  void set_backend(SerialBackend* backend) { backend_ = backend; }

  // True when a byte from the host would be stored (not in loopback mode and
  // the receive FIFO, or holding register, has room).
  bool can_receive() const;
  // A byte from the host.
  void receive(uint8_t byte);

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  void reset() override;

  std::string_view state_name() const override { return "serial"; }
  int state_version() const override { return 1; }
  void visit_state(StateVisitor& v) override;
  void post_load() override;

 private:
  bool fifo_enabled() const;
  bool loopback() const;
  // Stores a received byte (from the host or loopback), handling overrun.
  void push_rx(uint8_t byte);
  void transmit(uint8_t byte);
  void write_fcr(uint8_t value);
  // Recomputes IIR and drives the interrupt line.
  void update_irq();

  SerialBackend* backend_;
  IrqLine* irq_;

  uint8_t ier_ = 0;
  uint8_t iir_ = 0x01;
  uint8_t fcr_ = 0;
  uint8_t lcr_ = 0;
  uint8_t mcr_ = 0;
  uint8_t lsr_ = 0;
  uint8_t msr_ = 0;
  uint8_t scr_ = 0;
  uint8_t dll_ = 0;
  uint8_t dlm_ = 0;
  bool thr_ipending_ = false;
  std::vector<uint8_t> rx_;  // front = oldest byte
};

}  // namespace ferry
