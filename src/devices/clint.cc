#include "devices/clint.h"

namespace ferry {
namespace {

uint64_t size_mask(unsigned size) {
  return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

bool valid_size(unsigned size) {
  return size == 1 || size == 2 || size == 4 || size == 8;
}

// True when [offset, offset + size) lies inside the register at reg_offset of
// reg_size bytes; *shift is then the bit position of the access in it.
bool within(uint64_t offset, unsigned size, uint64_t reg_offset,
            unsigned reg_size, unsigned* shift) {
  if (offset < reg_offset || offset - reg_offset + size > reg_size) return false;
  *shift = static_cast<unsigned>(offset - reg_offset) * 8;
  return true;
}

uint64_t replace_bits(uint64_t reg, unsigned shift, unsigned size,
                      uint64_t value) {
  uint64_t mask = size_mask(size) << shift;
  return (reg & ~mask) | ((value << shift) & mask);
}

}  // namespace

Clint::Clint(GuestClock& clock, InterruptTarget& hart)
    : clock_(clock), hart_(hart) {}

uint64_t Clint::mmio_read(uint64_t offset, unsigned size) {
  if (!valid_size(size)) return 0;
  unsigned shift;
  uint64_t reg;
  if (within(offset, size, kMsipOffset, 4, &shift)) {
    reg = msip_;
  } else if (within(offset, size, kMtimecmpOffset, 8, &shift)) {
    reg = mtimecmp_;
  } else if (within(offset, size, kMtimeOffset, 8, &shift)) {
    reg = clock_.ticks();
  } else {
    return 0;
  }
  return (reg >> shift) & size_mask(size);
}

void Clint::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (!valid_size(size)) return;
  unsigned shift;
  if (within(offset, size, kMsipOffset, 4, &shift)) {
    msip_ = static_cast<uint32_t>(replace_bits(msip_, shift, size, value)) & 1;
    hart_.set_interrupt_pending(kMipMsip, msip_ != 0);
  } else if (within(offset, size, kMtimecmpOffset, 8, &shift)) {
    mtimecmp_ = replace_bits(mtimecmp_, shift, size, value);
    update();
  } else if (within(offset, size, kMtimeOffset, 8, &shift)) {
    clock_.set_ticks(replace_bits(clock_.ticks(), shift, size, value));
    update();
  }
}

void Clint::reset() {
  msip_ = 0;
  mtimecmp_ = 0;
  clock_.set_ticks(0);
  hart_.set_interrupt_pending(kMipMsip, false);
  update();
}

void Clint::update() {
  hart_.set_interrupt_pending(kMipMtip, clock_.ticks() >= mtimecmp_);
}

void Clint::visit_state(StateVisitor& v) {
  v.field("msip", msip_);
  v.field("mtimecmp", mtimecmp_);
  uint64_t mtime = v.loading() ? 0 : clock_.ticks();
  v.field("mtime", mtime);
  if (v.loading()) {
    msip_ &= 1;
    clock_.set_ticks(mtime);
  }
}

void Clint::post_load() {
  hart_.set_interrupt_pending(kMipMsip, msip_ != 0);
  update();
}

}  // namespace ferry
