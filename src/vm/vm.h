// Vm: a VirtBoard plus the vCPU thread that runs it, and the run state.
//
//   prelaunch --cont--> running <--stop/cont--> paused
//   running --guest poweroff--> shutdown      (any) --quit--> process ends
//   inmigrate --incoming migration done--> running (or paused with -S)
//
// While a migration holds the run state (the source from stop-and-copy to
// the end of the hand-over, a destination until its stream is loaded),
// stop / cont / system_reset are refused with a message.
//
// Threads: the vCPU thread owns the board. Every other thread talks to it
// through run_on_vcpu() (runs a function between two run slices or while the
// VM is paused, and waits for it) or through the thread-safe entry points
// below. Device state therefore only changes on the vCPU thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "board/virt_board.h"
#include "devices/power_control.h"
#include "memory/dirty_log_sync.h"
#include "migration/ram_migration.h"
#include "migration/state_registry.h"
#include "vm/vm_config.h"
#include "vm/vm_control.h"

namespace ferry {

class Vm : public VmControl, public DirtyLogSync, private PowerControl {
 public:
  // Instructions per run slice: bounds the latency of pause requests, timer
  // interrupts and serial input.
  static constexpr uint64_t kSliceInstructions = 1 << 16;

  // Builds the board (throws LoadError on bad images). `serial` and `events`
  // must outlive the Vm; `events` may be null.
  Vm(const VmConfig& config, SerialBackend* serial, EventSink* events);
  ~Vm() override;

  // Called (on the vCPU thread) when the process should end with `code`:
  // the guest powered off, or quit was requested.
  void set_exit_handler(std::function<void(int code)> handler);

  // Starts the vCPU thread in the state the configuration asks for.
  void start();
  // Stops and joins the vCPU thread.
  void join();

  // VmControl (main thread). cont() throws std::runtime_error when the VM
  // cannot run (e.g. after a guest shutdown, or while a migration comes in).
  RunState run_state() const override { return state_.load(); }
  void stop() override;
  void cont() override;
  void system_reset() override;
  void quit() override;
  std::string name() const override { return config_.name; }

  // Host input for the serial port (any thread).
  void serial_input(const uint8_t* data, size_t len);

  // Runs `fn` on the vCPU thread between run slices (or while paused) and
  // returns after it ran.
  void run_on_vcpu(std::function<void()> fn);

  // vCPU thread only (or inside run_on_vcpu): state changes with events.
  void pause_vcpu(RunState new_state);
  void resume_vcpu();

  // --- migration support (called from the migration threads) ---
  // DirtyLogSync: takes the dirty log and makes every hart drop its write
  // TLB, atomically with respect to guest execution.
  void sync_dirty_log(std::vector<uint64_t>& bits) override;
  // Stops the vCPU for stop-and-copy and holds the run state until
  // resume_after_migration / finish_outgoing_migration; returns whether the
  // VM was running.
  bool pause_for_migration();
  // After a failed or cancelled migration: back to running if it was.
  void resume_after_migration(bool was_running);
  // The source handed the VM over: it stays stopped ("postmigrate").
  void finish_outgoing_migration();
  // The destination has loaded the VM. `start`: run it (or wait for `cont`
  // with -S). Otherwise it stays paused with its state loaded, for the
  // operator to `cont` (the hand-over did not complete; see docs/migration.md).
  void finish_incoming_migration(bool start);
  // auto-converge: the vCPU sleeps `percent` of its time (0 = off).
  void set_throttle_percent(uint32_t percent) { throttle_percent_.store(percent); }
  uint32_t throttle_percent() const { return throttle_percent_.load(); }

  VirtBoard& board() { return *board_; }
  // Everything that migrates, registered as the VM was built. More may be
  // registered only before start().
  const StateRegistry& state_registry() const { return registry_; }
  StateRegistry& state_registry() { return registry_; }
  const VmConfig& config() const { return config_; }
  EventSink* events() { return events_; }

 private:
  // PowerControl (vCPU thread, from inside an MMIO write).
  void request_poweroff(int exit_code) override;
  void request_reset() override;

  void vcpu_main();
  // Throws when a migration holds the run state.
  void check_run_state_free(const char* command) const;
  void run_posted_work();
  void feed_serial_input();
  void handle_power_requests();
  void wait_for_interrupt();
  void emit(const std::string& event, const nlohmann::json& data = nlohmann::json::object());

  VmConfig config_;
  SerialBackend* serial_;
  EventSink* events_;
  StateRegistry registry_;
  std::unique_ptr<VirtBoard> board_;
  std::unique_ptr<RamMigration> ram_migration_;
  std::atomic<bool> migration_holds_run_state_{false};
  std::function<void(int)> exit_handler_;

  std::atomic<RunState> state_{RunState::kPrelaunch};
  bool running_ = false;  // vCPU thread: is the hart being run?
  bool exiting_ = false;  // vCPU thread: the process is ending

  std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  std::deque<std::function<void()>> work_;
  std::deque<uint8_t> serial_in_;
  bool stop_thread_ = false;

  std::atomic<uint32_t> throttle_percent_{0};
  int pending_poweroff_ = -1;  // vCPU thread: exit code requested by the guest
  bool pending_reset_ = false;
  std::thread vcpu_;
};

}  // namespace ferry
