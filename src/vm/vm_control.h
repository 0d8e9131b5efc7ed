// VmControl: what the monitors (human and QMP) may ask of a VM.
//
// The monitors run on the main thread. Implementations hand requests to the
// vCPU thread and return once the request has taken effect (e.g. `stop`
// returns when the vCPU no longer runs), so a reply never races the state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/announce.h"

namespace ferry {

// The states QMP's query-status reports (QEMU's RunState spelling).
enum class RunState {
  kPrelaunch,     // "prelaunch": created with -S, never started
  kRunning,       // "running"
  kPaused,        // "paused": stopped by the user
  kInMigrate,     // "inmigrate": destination waiting for an incoming stream
  kPostMigrate,   // "postmigrate": source after a completed migration
  kFinishMigrate, // "finish-migrate": source in stop-and-copy
  kShutdown,      // "shutdown": the guest powered off
  kGuestPanicked, // "guest-panicked"
};

std::string_view run_state_name(RunState s);

// One virtual CPU (a hart) as query-cpus-fast and `info cpus` show it.
struct CpuInfo {
  unsigned index = 0;
  uint64_t pc = 0;
  bool halted = false;    // asleep in WFI
  int64_t thread_id = 0;  // the host thread that runs it
  std::string registers;  // `info registers` text, when asked for
};

// One network card, as `info network` shows it.
struct NicInfo {
  std::string name;     // -device id=, or virtio-net-device.N
  std::string netdev;   // its back end's id
  std::string backend;  // the back end, described
  std::string mac;
  bool link_up = true;
  uint64_t rx_frames = 0, tx_frames = 0, rx_dropped = 0, tx_dropped = 0, announces = 0;
};

class VmControl {
 public:
  virtual ~VmControl() = default;
  virtual RunState run_state() const = 0;
  virtual bool is_running() const { return run_state() == RunState::kRunning; }
  virtual void stop() = 0;          // QMP stop / HMP stop
  virtual void cont() = 0;          // QMP cont / HMP c, cont
  virtual void system_reset() = 0;  // QMP system_reset
  virtual void quit() = 0;          // QMP quit: ends the process soon after
  virtual std::string name() const = 0;  // -name, "" when not given
  // Every hart, read with the world stopped (registers only when asked).
  virtual std::vector<CpuInfo> query_cpus(bool with_registers) = 0;
  // `info pic`: the interrupt controllers' state, as text.
  virtual std::string describe_interrupt_controllers() = 0;

  // --- the network (a VM without cards has none of it) ---
  virtual std::vector<NicInfo> query_nics() { return {}; }
  // `name`: a card's name or its netdev's id. False: no such card.
  virtual bool set_link(const std::string& /*name*/, bool /*up*/) { return false; }
  // Announces on the cards named (all when empty) on `params`' schedule,
  // once the VM runs. Returns "" or the error (an unknown name).
  virtual std::string announce_self(const AnnounceParams& /*params*/,
                                    const std::vector<std::string>& /*interfaces*/) {
    return "";
  }
};

// Where asynchronous QMP events go (STOP, RESUME, SHUTDOWN, RESET, MIGRATION…).
// `data` is a JSON object (possibly empty). May be called from any thread.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit_event(const std::string& name, const nlohmann::json& data) = 0;
};

}  // namespace ferry
