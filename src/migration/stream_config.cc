#include "migration/stream_config.h"

#include <cinttypes>
#include <cstdio>

#include "board/virt_fdt.h"
#include "migration/format.h"
#include "vm/vm.h"

namespace ferry {

namespace fmt = migration_format;

namespace {
constexpr const char* kMachine = "virt";
// The ISA the device tree offers: a stream from a build with other
// extensions is refused by name.
const std::string kCpu = virt_isa_string(VirtFdtParams{});
}  // namespace

StreamConfig stream_config_of(Vm& vm, bool confirm_handover, uint32_t handover_timeout_ms) {
  StreamConfig c;
  c.machine = kMachine;
  c.cpu = kCpu;
  c.page_size = static_cast<uint32_t>(kPageSize);
  c.ram_base = vm.board().ram().base();
  c.ram_size = vm.board().ram().size();
  c.harts = vm.board().hart_count();
  c.ram_assumption = fmt::kRamUnsentZero;
  c.handover = confirm_handover ? fmt::kHandoverConfirm : fmt::kHandoverNone;
  c.handover_timeout_ms = handover_timeout_ms;
  return c;
}

void write_stream_start(StreamWriter& out, const StreamConfig& c) {
  out.bytes(reinterpret_cast<const uint8_t*>(fmt::kMagic), sizeof fmt::kMagic);
  out.u32(fmt::kVersion);
  out.u8(fmt::kSectionConfig);
  out.str(c.machine);
  out.str(c.cpu);
  out.u32(c.page_size);
  out.u64(c.ram_base);
  out.u64(c.ram_size);
  out.u32(c.harts);
  out.u8(c.ram_assumption);
  out.u8(c.handover);
  out.u32(c.handover_timeout_ms);
  out.u8(fmt::kFooter);
  out.u32(0);
}

void read_stream_config(StreamReader& in, StreamConfig* c) {
  c->machine = in.str();
  c->cpu = in.str();
  c->page_size = in.u32();
  c->ram_base = in.u64();
  c->ram_size = in.u64();
  c->harts = in.u32();
  c->ram_assumption = in.u8();
  c->handover = in.u8();
  c->handover_timeout_ms = in.u32();
}

bool check_stream_config(const StreamConfig& c, Vm& vm, std::string* error) {
  const GuestRam& ram = vm.board().ram();
  if (c.machine != kMachine) {
    *error = "machine type mismatch: the stream is for '" + c.machine + "', this VM is '" +
             kMachine + "'";
  } else if (c.cpu != kCpu) {
    *error = "CPU mismatch: the stream is for '" + c.cpu + "', this VM has '" + kCpu + "'";
  } else if (c.page_size != kPageSize) {
    *error = "page size mismatch: " + std::to_string(c.page_size);
  } else if (c.ram_base != ram.base() || c.ram_size != ram.size()) {
    char msg[200];
    std::snprintf(msg, sizeof msg,
                  "RAM size mismatch: the stream has %" PRIu64 " MiB at 0x%" PRIx64
                  ", this VM has %" PRIu64 " MiB at 0x%" PRIx64 " (start it with -m %" PRIu64 "M)",
                  c.ram_size >> 20, c.ram_base, ram.size() >> 20, ram.base(), c.ram_size >> 20);
    *error = msg;
  } else if (c.harts != vm.board().hart_count()) {
    *error = "CPU count mismatch: the stream has " + std::to_string(c.harts) +
             " harts, this VM has " + std::to_string(vm.board().hart_count()) +
             " (start it with -smp " + std::to_string(c.harts) + ")";
  } else if (c.ram_assumption != fmt::kRamUnsentZero) {
    *error = "the stream assumes RAM contents this ferry does not know (assumption " +
             std::to_string(c.ram_assumption) + ")";
  } else if (c.handover != fmt::kHandoverNone && c.handover != fmt::kHandoverConfirm) {
    *error = "the stream asks for an unknown hand-over mode " + std::to_string(c.handover);
  } else {
    return true;
  }
  return false;
}

}  // namespace ferry
