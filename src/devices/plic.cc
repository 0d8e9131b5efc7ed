#include "devices/plic.h"

#include <cstdio>

namespace ferry {
namespace {

// Context 2h is hart h's M-mode external interrupt, 2h + 1 its S-mode one.
constexpr unsigned kContextMipBit[2] = {kMipMeip, kMipSeip};

}  // namespace

Plic::Plic(std::vector<InterruptTarget*> harts)
    : harts_(std::move(harts)), contexts_(2 * static_cast<unsigned>(harts_.size())) {
  for (unsigned s = 0; s < kNumSources; ++s) {
    lines_[s].plic = this;
    lines_[s].source = s;
  }
}

IrqLine* Plic::irq_line(unsigned source) {
  if (source == 0 || source >= kNumSources) return nullptr;
  return &lines_[source];
}

void Plic::set_source_level(unsigned source, bool high) {
  if (source == 0 || source >= kNumSources) return;
  assign(level_, source, high);
  if (!high) {
    assign(pending_, source, false);
  } else if (!test(claimed_, source)) {
    assign(pending_, source, true);
  }
  update();
}

unsigned Plic::best_source(unsigned ctx) const {
  unsigned best = 0;
  uint32_t best_priority = threshold_[ctx];
  for (unsigned w = 0; w < kWords; ++w) {
    uint32_t candidates = pending_[w] & ~claimed_[w] & enable_[ctx * kWords + w];
    while (candidates) {
      unsigned bit = static_cast<unsigned>(__builtin_ctz(candidates));
      candidates &= candidates - 1;
      unsigned s = w * 32 + bit;
      if (priority_[s] > best_priority) {
        best = s;
        best_priority = priority_[s];
      }
    }
  }
  return best;
}

void Plic::update() {
  for (unsigned ctx = 0; ctx < contexts_; ++ctx)
    harts_[ctx / 2]->set_interrupt_pending(kContextMipBit[ctx % 2], best_source(ctx) != 0);
}

uint32_t Plic::claim(unsigned ctx) {
  unsigned s = best_source(ctx);
  if (s != 0) {
    assign(pending_, s, false);
    assign(claimed_, s, true);
    update();
  }
  return s;
}

void Plic::complete(unsigned source) {
  if (source == 0 || source >= kNumSources) return;
  assign(claimed_, source, false);
  if (test(level_, source)) assign(pending_, source, true);
  update();
}

uint32_t Plic::read32(uint64_t offset) {
  if (offset < kPendingBase) {
    uint64_t s = (offset - kPriorityBase) / 4;
    return s < kNumSources ? priority_[s] : 0;
  }
  if (offset < kEnableBase) {
    uint64_t w = (offset - kPendingBase) / 4;
    return w < kWords ? pending_[w] : 0;
  }
  if (offset < kContextBase) {
    uint64_t ctx = (offset - kEnableBase) / kEnableStride;
    uint64_t w = (offset - kEnableBase) % kEnableStride / 4;
    return ctx < contexts_ && w < kWords ? enable_[ctx * kWords + w] : 0;
  }
  uint64_t ctx = (offset - kContextBase) / kContextStride;
  if (ctx >= contexts_) return 0;
  switch ((offset - kContextBase) % kContextStride) {
    case 0: return threshold_[ctx];
    case 4: return claim(static_cast<unsigned>(ctx));
    default: return 0;
  }
}

void Plic::write32(uint64_t offset, uint32_t value) {
  if (offset < kPendingBase) {
    uint64_t s = (offset - kPriorityBase) / 4;
    if (s == 0 || s >= kNumSources) return;
    priority_[s] = value & kMaxPriority;
    update();
    return;
  }
  if (offset < kEnableBase) return;  // pending bits are read-only
  if (offset < kContextBase) {
    uint64_t ctx = (offset - kEnableBase) / kEnableStride;
    uint64_t w = (offset - kEnableBase) % kEnableStride / 4;
    if (ctx >= contexts_ || w >= kWords) return;
    if (w == 0) value &= ~1u;  // source 0 does not exist
    enable_[ctx * kWords + w] = value;
    update();
    return;
  }
  uint64_t ctx = (offset - kContextBase) / kContextStride;
  if (ctx >= contexts_) return;
  switch ((offset - kContextBase) % kContextStride) {
    case 0:
      threshold_[ctx] = value & kMaxPriority;
      update();
      break;
    case 4:
      complete(value);
      break;
    default:
      break;
  }
}

uint64_t Plic::mmio_read(uint64_t offset, unsigned size) {
  if (offset % 4 != 0 || offset >= kWindowSize) return 0;
  if (size == 4) return read32(offset);
  if (size == 8)
    return read32(offset) | static_cast<uint64_t>(read32(offset + 4)) << 32;
  return 0;
}

void Plic::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset % 4 != 0 || offset >= kWindowSize) return;
  if (size == 4) {
    write32(offset, static_cast<uint32_t>(value));
  } else if (size == 8) {
    write32(offset, static_cast<uint32_t>(value));
    write32(offset + 4, static_cast<uint32_t>(value >> 32));
  }
}

void Plic::reset() {
  priority_.fill(0);
  enable_.fill(0);
  threshold_.fill(0);
  claimed_.fill(0);
  pending_ = level_;
  update();
}

std::string Plic::describe() const {
  std::string out = "plic: " + std::to_string(contexts_) + " contexts\n";
  char buf[160];
  for (unsigned s = 1; s < kNumSources; ++s) {
    if (!priority_[s] && !test(level_, s) && !test(pending_, s) && !test(claimed_, s)) continue;
    std::snprintf(buf, sizeof buf, "  source %2u: priority %u level %d pending %d claimed %d\n", s,
                  priority_[s], test(level_, s), test(pending_, s), test(claimed_, s));
    out += buf;
  }
  for (unsigned ctx = 0; ctx < contexts_; ++ctx) {
    std::snprintf(buf, sizeof buf, "  context %2u (hart %u %c-mode): threshold %u output %d enabled:",
                  ctx, ctx / 2, ctx % 2 ? 'S' : 'M', threshold_[ctx], best_source(ctx) != 0);
    out += buf;
    for (unsigned s = 1; s < kNumSources; ++s)
      if ((enable_[ctx * kWords + s / 32] >> (s % 32)) & 1) out += " " + std::to_string(s);
    out += "\n";
  }
  return out;
}

void Plic::visit_state(StateVisitor& v) {
  v.u32_array("priority", priority_);
  v.u32_array("pending", pending_);
  v.u32_array("claimed", claimed_);
  v.u32_array("enable", enable_);
  v.u32_array("threshold", threshold_);
  v.u32_array("level", level_);
}

void Plic::post_load() {
  // Keep loaded values inside what the registers can hold.
  for (auto& p : priority_) p &= kMaxPriority;
  for (auto& t : threshold_) t &= kMaxPriority;
  priority_[0] = 0;
  for (Bits* b : {&pending_, &claimed_, &level_}) (*b)[0] &= ~1u;
  for (unsigned ctx = 0; ctx < contexts_; ++ctx) enable_[ctx * kWords] &= ~1u;
  update();
}

}  // namespace ferry
