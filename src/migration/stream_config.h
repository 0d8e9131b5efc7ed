// The stream's configuration section: what the destination must have and
// may assume, and how the hand-over goes. Checked before anything is loaded,
// so an incompatible destination fails at once and clearly.
#pragma once

#include <cstdint>
#include <string>

#include "migration/stream.h"

namespace ferry {

class Vm;

struct StreamConfig {
  std::string machine;
  std::string cpu;
  uint32_t page_size = 0;
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  uint32_t harts = 0;
  uint8_t ram_assumption = 0;  // migration_format::kRamUnsentZero
  uint8_t handover = 0;        // migration_format::kHandover{None,Confirm}
  uint32_t handover_timeout_ms = 0;  // destination: how long to wait for GO
};

// The configuration of `vm` as a source describes it.
StreamConfig stream_config_of(Vm& vm, bool confirm_handover, uint32_t handover_timeout_ms);
// Header (magic, version) and configuration section.
void write_stream_start(StreamWriter& out, const StreamConfig& config);
// The configuration section's fields (after its type byte).
void read_stream_config(StreamReader& in, StreamConfig* config);
// Whether `vm` can take a stream with `config`; false with *error naming
// the first mismatch.
bool check_stream_config(const StreamConfig& config, Vm& vm, std::string* error);

}  // namespace ferry
