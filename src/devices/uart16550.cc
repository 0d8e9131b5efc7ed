#include "devices/uart16550.h"

namespace ferry {
namespace {

// Register offsets.
constexpr unsigned kRbrThr = 0;
constexpr unsigned kIer = 1;
constexpr unsigned kIirFcr = 2;
constexpr unsigned kLcr = 3;
constexpr unsigned kMcr = 4;
constexpr unsigned kLsr = 5;
constexpr unsigned kMsr = 6;
constexpr unsigned kScr = 7;

constexpr uint8_t kIerRdi = 0x01;
constexpr uint8_t kIerThri = 0x02;
constexpr uint8_t kIerRlsi = 0x04;
constexpr uint8_t kIerMask = 0x0f;

constexpr uint8_t kIirNoInt = 0x01;
constexpr uint8_t kIirId = 0x0e;
constexpr uint8_t kIirThri = 0x02;
constexpr uint8_t kIirRdi = 0x04;
constexpr uint8_t kIirRlsi = 0x06;
constexpr uint8_t kIirFifoBits = 0xc0;

constexpr uint8_t kFcrEnable = 0x01;
constexpr uint8_t kFcrClearRx = 0x02;
constexpr uint8_t kFcrClearTx = 0x04;
constexpr uint8_t kFcrKeptBits = 0xc9;

constexpr uint8_t kLcrDlab = 0x80;

constexpr uint8_t kMcrLoop = 0x10;
constexpr uint8_t kMcrOut2 = 0x08;
constexpr uint8_t kMcrMask = 0x1f;

constexpr uint8_t kLsrDr = 0x01;
constexpr uint8_t kLsrOe = 0x02;
constexpr uint8_t kLsrBi = 0x10;
constexpr uint8_t kLsrThre = 0x20;
constexpr uint8_t kLsrTemt = 0x40;
constexpr uint8_t kLsrIntAny = 0x1e;  // OE | PE | FE | BI

constexpr uint8_t kMsrDcd = 0x80;
constexpr uint8_t kMsrDsr = 0x20;
constexpr uint8_t kMsrCts = 0x10;
constexpr uint8_t kMsrAnyDelta = 0x0f;

}  // namespace

Uart16550::Uart16550(SerialBackend* backend, IrqLine* irq)
    : backend_(backend), irq_(irq) {
  reset();
}

bool Uart16550::fifo_enabled() const { return fcr_ & kFcrEnable; }
bool Uart16550::loopback() const { return mcr_ & kMcrLoop; }

bool Uart16550::can_receive() const {
  if (loopback()) return false;
  return rx_.size() < (fifo_enabled() ? kFifoSize : 1);
}

void Uart16550::receive(uint8_t byte) {
  push_rx(byte);
  update_irq();
}

void Uart16550::push_rx(uint8_t byte) {
  if (fifo_enabled()) {
    if (rx_.size() < kFifoSize) rx_.push_back(byte);
    else lsr_ |= kLsrOe;
  } else {
    if (!rx_.empty()) {
      lsr_ |= kLsrOe;
      rx_.clear();
    }
    rx_.push_back(byte);
  }
  lsr_ |= kLsrDr;
}

void Uart16550::transmit(uint8_t byte) {
  if (loopback()) {
    push_rx(byte);
  } else if (backend_) {
    backend_->write_bytes(&byte, 1);
  }
  // The byte left at once: THR and the shift register are empty again.
  lsr_ |= kLsrThre | kLsrTemt;
  thr_ipending_ = true;
}

void Uart16550::write_fcr(uint8_t value) {
  // Toggling the enable flushes both FIFOs.
  if ((value ^ fcr_) & kFcrEnable) value |= kFcrClearRx | kFcrClearTx;
  if (value & kFcrClearRx) {
    rx_.clear();
    lsr_ &= static_cast<uint8_t>(~(kLsrDr | kLsrBi));
  }
  if (value & kFcrClearTx) {
    lsr_ |= kLsrThre | kLsrTemt;
    thr_ipending_ = true;
  }
  fcr_ = value & kFcrKeptBits;
}

void Uart16550::update_irq() {
  uint8_t cause = kIirNoInt;
  if ((ier_ & kIerRlsi) && (lsr_ & kLsrIntAny)) {
    cause = kIirRlsi;
  } else if ((ier_ & kIerRdi) && (lsr_ & kLsrDr)) {
    cause = kIirRdi;
  } else if ((ier_ & kIerThri) && thr_ipending_) {
    cause = kIirThri;
  }
  iir_ = cause | (fifo_enabled() ? kIirFifoBits : 0);
  if (irq_) irq_->set_level(cause != kIirNoInt);
}

uint64_t Uart16550::mmio_read(uint64_t offset, unsigned /*size*/) {
  switch (offset & 7) {
    case kRbrThr: {
      if (lcr_ & kLcrDlab) return dll_;
      uint8_t byte = 0;
      if (!rx_.empty()) {
        byte = rx_.front();
        rx_.erase(rx_.begin());
      }
      if (rx_.empty()) lsr_ &= static_cast<uint8_t>(~(kLsrDr | kLsrBi));
      update_irq();
      return byte;
    }
    case kIer:
      return (lcr_ & kLcrDlab) ? dlm_ : ier_;
    case kIirFcr: {
      uint8_t value = iir_;
      if ((value & kIirId) == kIirThri) {
        thr_ipending_ = false;
        update_irq();
      }
      return value;
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr: {
      uint8_t value = lsr_;
      if (lsr_ & (kLsrBi | kLsrOe)) {
        lsr_ &= static_cast<uint8_t>(~(kLsrBi | kLsrOe));
        update_irq();
      }
      return value;
    }
    case kMsr: {
      if (loopback()) {
        // The modem outputs are wired back to the inputs.
        return ((mcr_ & 0x0c) << 4) | ((mcr_ & 0x02) << 3) |
               ((mcr_ & 0x01) << 5);
      }
      uint8_t value = msr_;
      msr_ &= static_cast<uint8_t>(~kMsrAnyDelta);
      return value;
    }
    case kScr:
      return scr_;
  }
  return 0;
}

void Uart16550::mmio_write(uint64_t offset, unsigned /*size*/, uint64_t value) {
  uint8_t byte = static_cast<uint8_t>(value);
  switch (offset & 7) {
    case kRbrThr:
      if (lcr_ & kLcrDlab) {
        dll_ = byte;
      } else {
        thr_ipending_ = false;
        transmit(byte);
        update_irq();
      }
      break;
    case kIer:
      if (lcr_ & kLcrDlab) {
        dlm_ = byte;
      } else {
        uint8_t changed = (ier_ ^ byte) & kIerMask;
        ier_ = byte & kIerMask;
        // Setting ETBEI while THR is empty raises the THRE interrupt again,
        // even if an IIR read had cleared it (as QEMU and real parts do).
        if (changed & kIerThri)
          thr_ipending_ = (ier_ & kIerThri) && (lsr_ & kLsrThre);
        if (changed) update_irq();
      }
      break;
    case kIirFcr:
      write_fcr(byte);
      update_irq();
      break;
    case kLcr:
      lcr_ = byte;
      break;
    case kMcr:
      mcr_ = byte & kMcrMask;
      break;
    case kLsr:
    case kMsr:
      break;  // read-only
    case kScr:
      scr_ = byte;
      break;
  }
}

void Uart16550::reset() {
  ier_ = 0;
  fcr_ = 0;
  lcr_ = 0;
  mcr_ = kMcrOut2;
  lsr_ = kLsrThre | kLsrTemt;
  msr_ = kMsrDcd | kMsrDsr | kMsrCts;
  scr_ = 0;
  dll_ = 0;
  dlm_ = 0;
  thr_ipending_ = false;
  rx_.clear();
  update_irq();
}

void Uart16550::visit_state(StateVisitor& v) {
  v.field("ier", ier_);
  v.field("fcr", fcr_);
  v.field("lcr", lcr_);
  v.field("mcr", mcr_);
  v.field("lsr", lsr_);
  v.field("msr", msr_);
  v.field("scr", scr_);
  v.field("dll", dll_);
  v.field("dlm", dlm_);
  v.field("thr_ipending", thr_ipending_);
  v.bytes("rx_fifo", rx_, kFifoSize);
}

void Uart16550::post_load() {
  // Keep loaded values consistent with what the registers can hold.
  ier_ &= kIerMask;
  fcr_ &= kFcrKeptBits;
  mcr_ &= kMcrMask;
  if (!fifo_enabled() && rx_.size() > 1) rx_.resize(1);
  if (rx_.size() > kFifoSize) rx_.resize(kFifoSize);
  if (rx_.empty()) lsr_ &= static_cast<uint8_t>(~kLsrDr);
  else lsr_ |= kLsrDr;
  lsr_ |= kLsrThre | kLsrTemt;
  update_irq();
}

}  // namespace ferry
