// Stand-ins shared by the unit tests: a hart's interrupt inputs and a VM
// behind the monitors.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "devices/interrupt_target.h"
#include "vm/vm_control.h"

namespace ferry::test_util {

// Records the mip bits devices drive.
class FakeHart : public InterruptTarget {
 public:
  void set_interrupt_pending(unsigned bit, bool level) override {
    if (level) mip |= 1ull << bit;
    else mip &= ~(1ull << bit);
  }
  bool pending(unsigned bit) const { return (mip >> bit) & 1; }
  uint64_t mip = 0;
};

// Counts the monitor's requests; emits STOP/RESUME when `events` is set.
class FakeVm : public VmControl {
 public:
  RunState run_state() const override { return state; }
  void stop() override {
    ++stops;
    state = RunState::kPaused;
    if (events) events->emit_event("STOP", nlohmann::json::object());
  }
  void cont() override {
    ++conts;
    state = RunState::kRunning;
    if (events) events->emit_event("RESUME", nlohmann::json::object());
  }
  void system_reset() override { ++resets; }
  void quit() override { ++quits; }
  std::string name() const override { return vm_name; }
  std::vector<CpuInfo> query_cpus(bool with_registers) override {
    CpuInfo cpu;
    cpu.pc = 0x80000000;
    if (with_registers) cpu.registers = " pc       0000000080000000\n";
    return {cpu};
  }
  std::string describe_interrupt_controllers() override { return "plic: 2 contexts\n"; }

  RunState state = RunState::kRunning;
  int stops = 0, conts = 0, resets = 0, quits = 0;
  std::string vm_name;
  EventSink* events = nullptr;
};

}  // namespace ferry::test_util
