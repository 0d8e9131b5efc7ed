// Plic: the platform-level interrupt controller (sifive,plic-1.0.0) as QEMU's
// virt board wires it: kNumSources sources (0 is reserved, so 1..95 are
// usable) and two contexts per hart, 2h = hart h's M-mode external (drives
// its MEIP, mip bit 11) and 2h + 1 = its S-mode external (SEIP, mip bit 9).
//
// Register window (kWindowSize bytes, 32-bit registers; an 8-byte access is
// two 32-bit ones, other sizes and misaligned accesses read 0 / are ignored):
//   0x000000 + 4*src            priority (0..7; 0 = never interrupts)
//   0x001000 + 4*word           pending bits (read-only)
//   0x002000 + 0x80*ctx + 4*w   enable bits of a context
//   0x200000 + 0x1000*ctx       priority threshold of a context (0..7)
//   0x200004 + 0x1000*ctx       claim (read) / complete (write)
//
// Sources are level-triggered: `irq_line(src)->set_level(high)` makes the source
// pending while the line is high (and clears it when it drops). A claim returns
// the pending, enabled source of highest priority above the context's threshold
// (ties: lowest id), clears its pending bit and marks it claimed; a claimed
// source is not pending again until it is completed, after which a line still
// high pends it again. Claimed state is global, as in QEMU.
//
// State ("plic" v2): priorities, pending, claimed, enables and thresholds of
// every possible context (kMaxContexts, whatever the hart count) and the line
// levels. Load the PLIC before the devices that raise its lines.
//
// Threads: under the VM's device lock (any hart's thread), or any thread
// while the VM is paused.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "devices/interrupt_target.h"
#include "devices/mmio_device.h"

namespace ferry {

class Plic : public MmioDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x600000;
  static constexpr unsigned kNumSources = 96;
  static constexpr unsigned kMaxHarts = 8;
  static constexpr unsigned kMaxContexts = 2 * kMaxHarts;
  static constexpr uint32_t kMaxPriority = 7;

  static constexpr uint64_t kPriorityBase = 0x0;
  static constexpr uint64_t kPendingBase = 0x1000;
  static constexpr uint64_t kEnableBase = 0x2000;
  static constexpr uint64_t kEnableStride = 0x80;
  static constexpr uint64_t kContextBase = 0x200000;
  static constexpr uint64_t kContextStride = 0x1000;

  // The harts must outlive the Plic (at most kMaxHarts).
  explicit Plic(InterruptTarget& hart) : Plic(std::vector<InterruptTarget*>{&hart}) {}
  explicit Plic(std::vector<InterruptTarget*> harts);
  Plic(const Plic&) = delete;
  Plic& operator=(const Plic&) = delete;

  // The wire of source 1..kNumSources-1; nullptr for any other number.
  // Valid for the Plic's lifetime.
  IrqLine* irq_line(unsigned source);
  void set_source_level(unsigned source, bool high);

  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  // Clears priorities, enables, thresholds and claims; line levels are wires
  // and stay (a line still high is pending after reset).
  void reset() override;

  bool pending(unsigned source) const { return test(pending_, source); }
  bool claimed(unsigned source) const { return test(claimed_, source); }
  // `info pic`: each source with a priority or a level, and each context.
  std::string describe() const;

  std::string_view state_name() const override { return "plic"; }
  int state_version() const override { return 2; }
  int state_min_version() const override { return 2; }
  void visit_state(StateVisitor& v) override;
  void post_load() override;

 private:
  static constexpr unsigned kWords = (kNumSources + 31) / 32;
  using Bits = std::array<uint32_t, kWords>;

  class SourceLine : public IrqLine {
   public:
    void set_level(bool high) override { plic->set_source_level(source, high); }
    Plic* plic = nullptr;
    unsigned source = 0;
  };

  static bool test(const Bits& b, unsigned s) {
    return s < kNumSources && (b[s / 32] >> (s % 32)) & 1;
  }
  static void assign(Bits& b, unsigned s, bool on) {
    if (on) b[s / 32] |= 1u << (s % 32);
    else b[s / 32] &= ~(1u << (s % 32));
  }

  uint32_t read32(uint64_t offset);
  void write32(uint64_t offset, uint32_t value);
  // Best claimable source for a context, 0 when none.
  unsigned best_source(unsigned ctx) const;
  uint32_t claim(unsigned ctx);
  void complete(unsigned source);
  // Drives MEIP/SEIP from the current state.
  void update();

  std::vector<InterruptTarget*> harts_;
  unsigned contexts_;  // 2 per hart
  std::array<SourceLine, kNumSources> lines_;
  std::array<uint32_t, kNumSources> priority_{};
  Bits pending_{};
  Bits claimed_{};
  Bits level_{};
  std::array<uint32_t, kWords * kMaxContexts> enable_{};
  std::array<uint32_t, kMaxContexts> threshold_{};
};

}  // namespace ferry
