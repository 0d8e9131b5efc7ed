// The stream header and the configuration section: checked before anything
// else is loaded, so an incompatible destination fails at once and clearly.
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "cpu/hart.h"
#include "migration/format.h"
#include "migration/migration_internal.h"
#include "vm/vm.h"

namespace ferry {

namespace fmt = migration_format;

namespace {
constexpr const char* kMachine = "virt";
constexpr const char* kCpu = "rv64imac_zicsr_zifencei";
}  // namespace

void write_stream_header(StreamWriter& out, const Vm& vm) {
  out.bytes(reinterpret_cast<const uint8_t*>(fmt::kMagic), sizeof fmt::kMagic);
  out.u32(fmt::kVersion);
  out.u8(fmt::kSectionConfig);
  out.str(kMachine);
  out.str(kCpu);
  out.u32(static_cast<uint32_t>(kPageSize));
  auto& board = const_cast<Vm&>(vm).board();
  out.u64(board.ram().base());
  out.u64(board.ram().size());
  out.u8(fmt::kFooter);
  out.u32(0);
}

bool read_stream_header(StreamReader& in, const Vm& vm) {
  char magic[sizeof fmt::kMagic];
  in.bytes(reinterpret_cast<uint8_t*>(magic), sizeof magic);
  if (!in.ok()) return false;
  if (std::memcmp(magic, fmt::kMagic, sizeof magic) != 0) {
    in.fail("not a ferry migration stream: bad magic (expected \"FERRYMIG\")");
    return false;
  }
  const uint32_t version = in.u32();
  if (!in.ok()) return false;
  if (version != fmt::kVersion) {
    in.fail("unsupported migration stream version " + std::to_string(version) +
            " (this ferry reads version " + std::to_string(fmt::kVersion) + ")");
    return false;
  }
  if (in.u8() != fmt::kSectionConfig) {
    in.fail("the stream does not start with a configuration section");
    return false;
  }
  const std::string machine = in.str(), cpu = in.str();
  const uint32_t page_size = in.u32();
  const uint64_t ram_base = in.u64(), ram_size = in.u64();
  const uint8_t footer = in.u8();
  const uint32_t footer_id = in.u32();
  if (!in.ok()) return false;
  auto& board = const_cast<Vm&>(vm).board();
  if (machine != kMachine) {
    in.fail("machine type mismatch: the stream is for '" + machine + "', this VM is '" +
            kMachine + "'");
  } else if (cpu != kCpu) {
    in.fail("CPU mismatch: the stream is for '" + cpu + "', this VM has '" + kCpu + "'");
  } else if (page_size != kPageSize) {
    in.fail("page size mismatch: " + std::to_string(page_size));
  } else if (ram_base != board.ram().base() || ram_size != board.ram().size()) {
    char msg[200];
    std::snprintf(msg, sizeof msg,
                  "RAM size mismatch: the stream has %" PRIu64 " MiB at 0x%" PRIx64
                  ", this VM has %" PRIu64 " MiB at 0x%" PRIx64 " (start it with -m %" PRIu64 "M)",
                  ram_size >> 20, ram_base, board.ram().size() >> 20, board.ram().base(),
                  ram_size >> 20);
    in.fail(msg);
  } else if (footer != fmt::kFooter || footer_id != 0) {
    in.fail("the configuration section is corrupt (bad footer)");
  }
  return in.ok();
}

}  // namespace ferry
