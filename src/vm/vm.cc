#include "vm/vm.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <stdexcept>

namespace ferry {

namespace {
constexpr size_t kSerialQueueLimit = 64 * 1024;
constexpr uint64_t kMaxIdleWaitNs = 10'000'000;  // re-check timers every 10 ms

BoardConfig board_config(const VmConfig& c) {
  BoardConfig b;
  b.ram_size = c.ram_size;
  b.bios = c.bios;
  b.kernel = c.kernel;
  b.append = c.append;
  return b;
}
}  // namespace

std::string_view run_state_name(RunState s) {
  switch (s) {
    case RunState::kPrelaunch: return "prelaunch";
    case RunState::kRunning: return "running";
    case RunState::kPaused: return "paused";
    case RunState::kInMigrate: return "inmigrate";
    case RunState::kPostMigrate: return "postmigrate";
    case RunState::kFinishMigrate: return "finish-migrate";
    case RunState::kShutdown: return "shutdown";
    case RunState::kGuestPanicked: return "guest-panicked";
  }
  return "unknown";
}

Vm::Vm(const VmConfig& config, SerialBackend* serial, EventSink* events)
    : config_(config),
      serial_(serial),
      events_(events),
      board_(std::make_unique<VirtBoard>(board_config(config), serial,
                                        static_cast<PowerControl&>(*this), registry_)),
      ram_migration_(std::make_unique<RamMigration>(board_->ram(), *this)) {
  registry_.add_live(*ram_migration_);
}

Vm::~Vm() { join(); }

void Vm::set_exit_handler(std::function<void(int)> handler) {
  exit_handler_ = std::move(handler);
}

void Vm::emit(const std::string& event, const nlohmann::json& data) {
  if (events_) events_->emit_event(event, data);
}

void Vm::start() {
  if (!config_.incoming.empty()) {
    state_ = RunState::kInMigrate;
  } else if (config_.start_paused) {
    state_ = RunState::kPrelaunch;
  } else {
    state_ = RunState::kRunning;
    running_ = true;
    board_->clock().resume();
  }
  vcpu_ = std::thread([this] { vcpu_main(); });
}

void Vm::join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_thread_ = true;
  }
  wake_.notify_all();
  if (board_) board_->hart().request_exit();
  if (vcpu_.joinable()) vcpu_.join();
}

void Vm::run_on_vcpu(std::function<void()> fn) {
  if (vcpu_.get_id() == std::this_thread::get_id() || !vcpu_.joinable()) {
    fn();
    return;
  }
  auto task = std::make_shared<std::packaged_task<void()>>(std::move(fn));
  std::future<void> done = task->get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    work_.push_back([task] { (*task)(); });
  }
  wake_.notify_all();
  board_->hart().request_exit();
  done.get();  // rethrows what fn threw
}

void Vm::pause_vcpu(RunState new_state) {
  const bool was_running = running_;
  running_ = false;
  board_->clock().pause();
  state_ = new_state;
  if (was_running) {
    registry_.notify_run_state(false);
    emit("STOP");
  }
}

void Vm::resume_vcpu() {
  running_ = true;
  board_->clock().resume();
  state_ = RunState::kRunning;
  registry_.notify_run_state(true);
  emit("RESUME");
}

void Vm::check_run_state_free(const char* command) const {
  if (migration_holds_run_state_.load())
    throw std::runtime_error(std::string("'") + command +
                             "' is not allowed while a migration completes: the migration owns "
                             "the VM's run state until it ends (migrate_cancel ends it)");
  if (state_.load() == RunState::kInMigrate)
    throw std::runtime_error(std::string("'") + command +
                             "' is not allowed while an incoming migration is in progress");
}

void Vm::stop() {
  // Checked here too, so the answer comes at once even while the vCPU
  // thread is busy snapshotting for the migration.
  if (migration_holds_run_state_.load()) check_run_state_free("stop");
  run_on_vcpu([this] {
    if (migration_holds_run_state_.load()) check_run_state_free("stop");
    if (running_) pause_vcpu(RunState::kPaused);
  });
}

void Vm::cont() {
  check_run_state_free("cont");
  run_on_vcpu([this] {
    check_run_state_free("cont");
    switch (state_.load()) {
      case RunState::kRunning: return;
      case RunState::kInMigrate:
        throw std::runtime_error(
            "Migration is not finished: the VM cannot run before its state has arrived");
      case RunState::kShutdown:
      case RunState::kGuestPanicked:
        throw std::runtime_error("Resetting the Virtual Machine is required");
      default: resume_vcpu();
    }
  });
}

void Vm::system_reset() {
  check_run_state_free("system_reset");
  run_on_vcpu([this] {
    check_run_state_free("system_reset");
    board_->reset();
    emit("RESET", {{"guest", false}, {"reason", "host-qmp-system-reset"}});
    if (state_ == RunState::kShutdown || state_ == RunState::kPostMigrate)
      state_ = RunState::kPaused;
  });
}

void Vm::quit() {
  run_on_vcpu([this] {
    if (running_) pause_vcpu(RunState::kShutdown);
    emit("SHUTDOWN", {{"guest", false}, {"reason", "host-qmp-quit"}});
    exiting_ = true;
    if (exit_handler_) exit_handler_(0);
  });
}

void Vm::sync_dirty_log(std::vector<uint64_t>& bits) {
  // Between run slices no hart is storing: each drops its write TLB and the
  // log is taken in one step.
  run_on_vcpu([this, &bits] {
    board_->hart().drop_write_tlb();
    board_->ram().harvest_dirty(bits);
  });
}

bool Vm::pause_for_migration() {
  bool was_running = false;
  run_on_vcpu([this, &was_running] {
    migration_holds_run_state_.store(true);
    was_running = running_;
    const RunState before = state_.load();
    pause_vcpu(RunState::kFinishMigrate);
    if (!was_running) state_ = before;  // a paused VM keeps its state name
  });
  return was_running;
}

void Vm::resume_after_migration(bool was_running) {
  run_on_vcpu([this, was_running] {
    migration_holds_run_state_.store(false);
    if (was_running && !running_) resume_vcpu();
    else if (!running_ && state_ == RunState::kFinishMigrate) state_ = RunState::kPaused;
  });
}

void Vm::finish_outgoing_migration() {
  run_on_vcpu([this] {
    migration_holds_run_state_.store(false);
    if (running_) pause_vcpu(RunState::kPostMigrate);
    state_ = RunState::kPostMigrate;
  });
}

void Vm::finish_incoming_migration(bool start) {
  run_on_vcpu([this, start] {
    board_->update_timers();
    if (config_.start_paused || !start) {
      state_ = RunState::kPaused;
    } else {
      resume_vcpu();
    }
  });
}

void Vm::serial_input(const uint8_t* data, size_t len) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < len && serial_in_.size() < kSerialQueueLimit; ++i)
      serial_in_.push_back(data[i]);
  }
  wake_.notify_all();
  if (board_) board_->hart().request_exit();
}

void Vm::request_poweroff(int exit_code) {
  pending_poweroff_ = exit_code;
  board_->hart().request_exit();
}

void Vm::request_reset() {
  pending_reset_ = true;
  board_->hart().request_exit();
}

void Vm::run_posted_work() {
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (work_.empty()) return;
      fn = std::move(work_.front());
      work_.pop_front();
    }
    fn();
  }
}

void Vm::feed_serial_input() {
  Uart16550& uart = board_->uart();
  std::lock_guard<std::mutex> lock(mutex_);
  while (!serial_in_.empty() && uart.can_receive()) {
    uart.receive(serial_in_.front());
    serial_in_.pop_front();
  }
}

void Vm::handle_power_requests() {
  if (pending_reset_) {
    pending_reset_ = false;
    board_->reset();
    emit("RESET", {{"guest", true}, {"reason", "guest-reset"}});
  }
  if (pending_poweroff_ >= 0 && !exiting_) {
    const int code = pending_poweroff_;
    pending_poweroff_ = -1;
    pause_vcpu(RunState::kShutdown);
    emit("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}});
    exiting_ = true;
    if (exit_handler_) exit_handler_(code);
  }
}

void Vm::wait_for_interrupt() {
  VirtBoard& b = *board_;
  b.update_timers();
  if (b.hart().interrupt_pending()) return;
  const uint64_t wait_ns =
      std::min<uint64_t>(b.clock().host_ns_until(b.clint().next_deadline_ticks()),
                         kMaxIdleWaitNs);
  std::unique_lock<std::mutex> lock(mutex_);
  if (!work_.empty() || !serial_in_.empty() || stop_thread_) return;
  wake_.wait_for(lock, std::chrono::nanoseconds(wait_ns));
}

void Vm::vcpu_main() {
  VirtBoard& b = *board_;
  Hart& hart = b.hart();
  for (;;) {
    run_posted_work();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (stop_thread_) break;
      if (!running_) {
        wake_.wait(lock, [this] { return stop_thread_ || !work_.empty(); });
        continue;
      }
    }
    feed_serial_input();
    b.update_timers();
    const auto slice_start = std::chrono::steady_clock::now();
    const StopReason reason = hart.run(kSliceInstructions);
    if (serial_) serial_->flush();
    if (const uint32_t pct = throttle_percent_.load(std::memory_order_relaxed)) {
      // auto-converge: sleep so the vCPU runs (100 - pct)% of the time.
      const auto ran = std::chrono::steady_clock::now() - slice_start;
      std::unique_lock<std::mutex> lock(mutex_);
      if (work_.empty() && !stop_thread_)
        wake_.wait_for(lock, ran * pct / (100 - std::min<uint32_t>(pct, 99)));
    }
    handle_power_requests();
    if (reason == StopReason::kWfi && running_) wait_for_interrupt();
  }
  if (serial_) serial_->flush();
}

}  // namespace ferry
