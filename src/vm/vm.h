// Vm: a VirtBoard plus one thread per hart that runs it, and the run state.
//
//   prelaunch --cont--> running <--stop/cont--> paused
//   running --guest poweroff--> shutdown      (any) --quit--> process ends
//   inmigrate --incoming migration done--> running (or paused with -S)
//
// While a migration holds the run state (the source from stop-and-copy to
// the end of the hand-over, a destination until its stream is loaded),
// stop / cont / system_reset are refused with a message.
//
// Threads: each hart runs on a thread of its own (the interpreter back end);
// device models are reached from them under the device lock (one for all
// devices). Every other thread talks to the VM through run_on_vcpu(), which
// stops the world: it parks every hart thread between two run slices (or
// finds them idle), runs the function on the calling thread, and lets them
// go again. Device state therefore changes only under the device lock or
// with the world stopped.
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
#include "migration/block_migration.h"
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

  // Called (with the world stopped) when the process should end with
  // `code`: the guest powered off, or quit was requested.
  void set_exit_handler(std::function<void(int code)> handler);

  // Starts the hart threads in the state the configuration asks for.
  void start();
  // Stops and joins the hart threads.
  void join();

  // VmControl (main thread). cont() throws std::runtime_error when the VM
  // cannot run (e.g. after a guest shutdown, or while a migration comes in).
  RunState run_state() const override { return state_.load(); }
  void stop() override;
  void cont() override;
  void system_reset() override;
  void quit() override;
  std::string name() const override { return config_.name; }
  std::vector<CpuInfo> query_cpus(bool with_registers) override;
  std::string describe_interrupt_controllers() override;
  std::vector<NicInfo> query_nics() override;
  bool set_link(const std::string& name, bool up) override;
  std::string announce_self(const AnnounceParams& params,
                            const std::vector<std::string>& interfaces) override;

  // Host input for the serial port (any thread).
  void serial_input(const uint8_t* data, size_t len);

  // Stops the world (every hart between two run slices, or idle), runs `fn`
  // on this thread, and lets the harts go again; rethrows what fn threw.
  // From a hart's own thread too (that hart counts as stopped).
  void run_on_vcpu(std::function<void()> fn);

  // Inside run_on_vcpu only: state changes with events.
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
  // How the next migration moves the disks (shared storage, or copied).
  void set_block_migration_mode(BlockMigrationMode mode) {
    if (block_migration_) block_migration_->set_mode(mode);
  }
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
  // PowerControl (a hart's thread, from inside an MMIO write).
  void request_poweroff(int exit_code) override;
  void request_reset() override;

  void hart_main(unsigned index);
  // Waits (mutex_ held) while the harts should not run; false: end the thread.
  bool wait_until_runnable(std::unique_lock<std::mutex>& lock);
  // Throws when a migration holds the run state.
  void check_run_state_free(const char* command) const;
  void feed_serial_input();
  void handle_power_requests();
  void wait_for_interrupt(unsigned index);
  void wake_harts();
  void emit(const std::string& event, const nlohmann::json& data = nlohmann::json::object());

  VmConfig config_;
  SerialBackend* serial_;
  EventSink* events_;
  StateRegistry registry_;
  std::unique_ptr<VirtBoard> board_;
  std::unique_ptr<RamMigration> ram_migration_;
  std::unique_ptr<BlockMigration> block_migration_;  // with disks only
  std::atomic<bool> migration_holds_run_state_{false};
  std::function<void(int)> exit_handler_;

  std::atomic<RunState> state_{RunState::kPrelaunch};
  bool exiting_ = false;  // world stopped: the process is ending

  // The device lock: every MMIO access (AddressSpace), timers, serial input.
  // Lock order: device_mutex_ before mutex_.
  std::mutex device_mutex_;
  std::mutex world_owner_;  // one stop-the-world at a time
  std::mutex mutex_;        // guards the fields below
  std::condition_variable wake_;    // harts: run, park, wake from WFI
  std::condition_variable parked_;  // stop-the-world: a hart parked
  bool running_ = false;            // the harts should run
  bool stop_threads_ = false;
  unsigned park_requests_ = 0;      // > 0: every hart thread parks
  unsigned parked_count_ = 0;       // hart threads parked (or standing aside)
  unsigned live_threads_ = 0;       // hart threads not yet ended
  std::deque<uint8_t> serial_in_;

  std::atomic<uint32_t> throttle_percent_{0};
  std::atomic<int> pending_poweroff_{-1};  // exit code requested by the guest
  std::atomic<bool> pending_reset_{false};
  std::vector<std::thread> threads_;
  std::vector<std::atomic<int64_t>> thread_ids_;  // each hart thread's host tid
};

}  // namespace ferry
