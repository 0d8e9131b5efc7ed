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

Clint::Clint(GuestClock& clock, std::vector<InterruptTarget*> harts)
    : clock_(clock), harts_(std::move(harts)), per_hart_(harts_.size()) {}

uint64_t Clint::mmio_read(uint64_t offset, unsigned size) {
  if (!valid_size(size)) return 0;
  unsigned shift;
  uint64_t reg;
  const unsigned n = static_cast<unsigned>(per_hart_.size());
  if (offset < kMsipOffset + 4 * n && within(offset, size, offset & ~3ull, 4, &shift)) {
    reg = per_hart_[(offset - kMsipOffset) / 4].msip;
  } else if (offset >= kMtimecmpOffset && offset < kMtimecmpOffset + 8 * n &&
             within(offset, size, offset & ~7ull, 8, &shift)) {
    reg = per_hart_[(offset - kMtimecmpOffset) / 8].mtimecmp;
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
  const unsigned n = static_cast<unsigned>(per_hart_.size());
  if (offset < kMsipOffset + 4 * n && within(offset, size, offset & ~3ull, 4, &shift)) {
    const unsigned h = static_cast<unsigned>((offset - kMsipOffset) / 4);
    PerHart& p = per_hart_[h];
    p.msip = static_cast<uint32_t>(replace_bits(p.msip, shift, size, value)) & 1;
    harts_[h]->set_interrupt_pending(kMipMsip, p.msip != 0);
  } else if (offset >= kMtimecmpOffset && offset < kMtimecmpOffset + 8 * n &&
             within(offset, size, offset & ~7ull, 8, &shift)) {
    PerHart& p = per_hart_[(offset - kMtimecmpOffset) / 8];
    p.mtimecmp = replace_bits(p.mtimecmp, shift, size, value);
    update();
  } else if (within(offset, size, kMtimeOffset, 8, &shift)) {
    clock_.set_ticks(replace_bits(clock_.ticks(), shift, size, value));
    update();
  }
}

void Clint::reset() {
  for (size_t h = 0; h < per_hart_.size(); ++h) {
    per_hart_[h] = PerHart{};
    harts_[h]->set_interrupt_pending(kMipMsip, false);
  }
  clock_.set_ticks(0);
  update();
}

void Clint::update() {
  const uint64_t now = clock_.ticks();
  for (size_t h = 0; h < per_hart_.size(); ++h)
    harts_[h]->set_interrupt_pending(kMipMtip, now >= per_hart_[h].mtimecmp);
}

void Clint::visit_state(StateVisitor& v) {
  v.struct_array("harts", std::span<PerHart>(per_hart_), [](StateVisitor& s, PerHart& p) {
    s.field("msip", p.msip);
    s.field("mtimecmp", p.mtimecmp);
  });
  uint64_t mtime = v.loading() ? 0 : clock_.ticks();
  v.field("mtime", mtime);
  if (v.loading()) {
    for (PerHart& p : per_hart_) p.msip &= 1;
    clock_.set_ticks(mtime);
  }
}

void Clint::post_load() {
  for (size_t h = 0; h < per_hart_.size(); ++h)
    harts_[h]->set_interrupt_pending(kMipMsip, per_hart_[h].msip != 0);
  update();
}

}  // namespace ferry
