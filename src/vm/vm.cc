#include "vm/vm.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <stdexcept>

#include "cpu/register_dump.h"

namespace ferry {

namespace {
constexpr size_t kSerialQueueLimit = 64 * 1024;
constexpr uint64_t kMaxIdleWaitNs = 10'000'000;  // re-check timers every 10 ms

// Set on hart threads: run_on_vcpu from there counts the caller as parked.
thread_local bool on_hart_thread = false;

BoardConfig board_config(const VmConfig& c) {
  BoardConfig b;
  b.ram_size = c.ram_size;
  b.harts = static_cast<unsigned>(c.smp);
  b.bios = c.bios;
  b.kernel = c.kernel;
  b.append = c.append;
  b.initrd = c.initrd;
  b.dtb = c.dtb;
  b.disks = c.disks;
  b.nics = c.nics;
  b.netdevs = c.netdevs;
  b.incoming = !c.incoming.empty();
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
  if (!board_->disks().empty()) {
    block_migration_ = std::make_unique<BlockMigration>(board_->disks());
    registry_.add_live(*block_migration_);
  }
  board_->bus().set_device_lock(&device_mutex_);
  for (unsigned i = 0; i < board_->hart_count(); ++i)
    board_->hart(i).set_wakeup([this] { wake_harts(); });
  thread_ids_ = std::vector<std::atomic<int64_t>>(board_->hart_count());
}

Vm::~Vm() { join(); }

void Vm::set_exit_handler(std::function<void(int)> handler) {
  exit_handler_ = std::move(handler);
}

void Vm::emit(const std::string& event, const nlohmann::json& data) {
  if (events_) events_->emit_event(event, data);
}

void Vm::wake_harts() {
  // Taking the lock orders this wake-up after a hart's last check before it
  // sleeps, so it cannot be lost.
  { std::lock_guard<std::mutex> lock(mutex_); }
  wake_.notify_all();
}

void Vm::start() {
  bool run = false;
  if (!config_.incoming.empty()) {
    state_ = RunState::kInMigrate;
  } else if (config_.start_paused) {
    state_ = RunState::kPrelaunch;
  } else {
    state_ = RunState::kRunning;
    run = true;
    board_->clock().resume();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = run;
    live_threads_ = board_->hart_count();
  }
  if (run) registry_.notify_run_state(true);  // devices with threads start serving
  for (unsigned i = 0; i < board_->hart_count(); ++i)
    threads_.emplace_back([this, i] { hart_main(i); });
}

void Vm::join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_threads_ = true;
  }
  wake_.notify_all();
  if (board_)
    for (unsigned i = 0; i < board_->hart_count(); ++i) board_->hart(i).request_exit();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Vm::run_on_vcpu(std::function<void()> fn) {
  if (threads_.empty()) {  // not started (or joined): nothing runs
    fn();
    return;
  }
  const bool self = on_hart_thread;
  if (self) {
    // This hart stands aside first, so another stop-the-world already under
    // way (and waiting for it) can finish before this one starts.
    std::lock_guard<std::mutex> lock(mutex_);
    ++parked_count_;
    parked_.notify_all();
  }
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> owner(world_owner_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++park_requests_;
    }
    for (unsigned i = 0; i < board_->hart_count(); ++i) board_->hart(i).request_exit();
    wake_.notify_all();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      parked_.wait(lock, [this] { return parked_count_ >= live_threads_; });
    }
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --park_requests_;
      if (self) --parked_count_;
    }
    wake_.notify_all();
  }
  if (error) std::rethrow_exception(error);
}

void Vm::pause_vcpu(RunState new_state) {
  bool was_running;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_running = running_;
    running_ = false;
  }
  board_->clock().pause();
  state_ = new_state;
  if (was_running) {
    registry_.notify_run_state(false);
    emit("STOP");
  }
}

void Vm::resume_vcpu() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = true;
  }
  board_->clock().resume();
  state_ = RunState::kRunning;
  registry_.notify_run_state(true);
  emit("RESUME");
  wake_.notify_all();
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
  // Checked here too, so the answer comes at once even while the world is
  // stopped for the migration.
  if (migration_holds_run_state_.load()) check_run_state_free("stop");
  run_on_vcpu([this] {
    if (migration_holds_run_state_.load()) check_run_state_free("stop");
    if (state_.load() == RunState::kRunning) pause_vcpu(RunState::kPaused);
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
    if (state_.load() == RunState::kRunning) pause_vcpu(RunState::kShutdown);
    emit("SHUTDOWN", {{"guest", false}, {"reason", "host-qmp-quit"}});
    exiting_ = true;
    if (exit_handler_) exit_handler_(0);
  });
}

void Vm::sync_dirty_log(std::vector<uint64_t>& bits) {
  // With the world stopped no hart is storing: each drops its write TLB and
  // the log is taken in one step.
  run_on_vcpu([this, &bits] {
    for (unsigned i = 0; i < board_->hart_count(); ++i) board_->hart(i).drop_write_tlb();
    board_->ram().harvest_dirty(bits);
  });
}

bool Vm::pause_for_migration() {
  bool was_running = false;
  run_on_vcpu([this, &was_running] {
    migration_holds_run_state_.store(true);
    const RunState before = state_.load();
    was_running = before == RunState::kRunning;
    pause_vcpu(RunState::kFinishMigrate);
    if (!was_running) state_ = before;  // a paused VM keeps its state name
  });
  return was_running;
}

void Vm::resume_after_migration(bool was_running) {
  run_on_vcpu([this, was_running] {
    migration_holds_run_state_.store(false);
    try {
      registry_.reclaim_storage();
    } catch (const std::exception& e) {
      // Someone else has the disks now (the destination?): running here
      // could corrupt them. Stay paused and say why.
      std::fprintf(stderr, "ferry: the VM stays paused: %s\n", e.what());
      if (state_.load() == RunState::kFinishMigrate) state_ = RunState::kPaused;
      return;
    }
    if (was_running && state_.load() != RunState::kRunning) resume_vcpu();
    else if (state_ == RunState::kFinishMigrate) state_ = RunState::kPaused;
  });
}

void Vm::finish_outgoing_migration() {
  run_on_vcpu([this] {
    migration_holds_run_state_.store(false);
    if (state_.load() == RunState::kRunning) pause_vcpu(RunState::kPostMigrate);
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

namespace {
std::string nic_name(VirtioNet& nic, size_t index) {
  return nic.config().id.empty() ? "virtio-net-device." + std::to_string(index) : nic.config().id;
}

// The monitor names a card by its name or by its netdev's id.
bool nic_named(VirtioNet& nic, size_t index, const std::string& name) {
  return nic_name(nic, index) == name || nic.config().netdev == name;
}
}  // namespace

std::vector<NicInfo> Vm::query_nics() {
  std::vector<NicInfo> out;
  const std::vector<VirtioNet*> nics = board_->nics();
  for (size_t i = 0; i < nics.size(); ++i) {
    NicInfo info;
    info.name = nic_name(*nics[i], i);
    info.netdev = nics[i]->config().netdev;
    info.backend = nics[i]->backend().describe();
    info.mac = format_mac(nics[i]->config().mac);
    info.link_up = nics[i]->link_up();
    const NetStats s = nics[i]->stats();
    info.rx_frames = s.rx_frames, info.tx_frames = s.tx_frames;
    info.rx_dropped = s.rx_dropped, info.tx_dropped = s.tx_dropped;
    info.announces = s.announces;
    out.push_back(std::move(info));
  }
  return out;
}

bool Vm::set_link(const std::string& name, bool up) {
  const std::vector<VirtioNet*> nics = board_->nics();
  bool found = false;
  for (size_t i = 0; i < nics.size(); ++i) {
    if (!nic_named(*nics[i], i, name)) continue;
    nics[i]->set_link(up);
    found = true;
  }
  return found;
}

std::string Vm::announce_self(const AnnounceParams& params,
                              const std::vector<std::string>& interfaces) {
  const std::vector<VirtioNet*> nics = board_->nics();
  for (const std::string& name : interfaces) {
    bool known = false;
    for (size_t i = 0; i < nics.size(); ++i)
      known = known || nic_named(*nics[i], i, name);
    if (!known) return "no network card or netdev named '" + name + "'";
  }
  for (size_t i = 0; i < nics.size(); ++i) {
    bool wanted = interfaces.empty();
    for (const std::string& name : interfaces)
      wanted = wanted || nic_named(*nics[i], i, name);
    if (wanted) nics[i]->announce(params);
  }
  return "";
}

void Vm::serial_input(const uint8_t* data, size_t len) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < len && serial_in_.size() < kSerialQueueLimit; ++i)
      serial_in_.push_back(data[i]);
  }
  wake_.notify_all();
  if (board_) board_->hart(0).request_exit();
}

void Vm::request_poweroff(int exit_code) {
  pending_poweroff_.store(exit_code);
  for (unsigned i = 0; i < board_->hart_count(); ++i) board_->hart(i).request_exit();
}

void Vm::request_reset() {
  pending_reset_.store(true);
  for (unsigned i = 0; i < board_->hart_count(); ++i) board_->hart(i).request_exit();
}

void Vm::feed_serial_input() {
  Uart16550& uart = board_->uart();
  std::lock_guard<std::mutex> device(device_mutex_);
  while (uart.can_receive()) {
    uint8_t c;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (serial_in_.empty()) return;
      c = serial_in_.front();
      serial_in_.pop_front();
    }
    uart.receive(c);  // may raise an interrupt, whose wake-up takes mutex_
  }
}

void Vm::handle_power_requests() {
  if (pending_reset_.exchange(false)) {
    run_on_vcpu([this] {
      board_->reset();
      emit("RESET", {{"guest", true}, {"reason", "guest-reset"}});
    });
  }
  const int code = pending_poweroff_.exchange(-1);
  if (code >= 0) {
    run_on_vcpu([this, code] {
      if (exiting_) return;
      pause_vcpu(RunState::kShutdown);
      emit("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}});
      exiting_ = true;
      if (exit_handler_) exit_handler_(code);
    });
  }
}

void Vm::wait_for_interrupt(unsigned index) {
  VirtBoard& b = *board_;
  Hart& hart = b.hart(index);
  {
    std::lock_guard<std::mutex> device(device_mutex_);
    b.update_timers();
  }
  hart.update_sstc_timer();
  if (hart.interrupt_pending()) return;
  const uint64_t deadline = std::min(b.clint().next_deadline_ticks(index), hart.sstc_deadline());
  const uint64_t wait_ns = std::min<uint64_t>(b.clock().host_ns_until(deadline), kMaxIdleWaitNs);
  std::unique_lock<std::mutex> lock(mutex_);
  if (park_requests_ || stop_threads_ || !running_ || hart.interrupt_pending()) return;
  if (index == 0 && !serial_in_.empty()) return;
  wake_.wait_for(lock, std::chrono::nanoseconds(wait_ns));
}

bool Vm::wait_until_runnable(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (stop_threads_) return false;
    if (park_requests_) {
      ++parked_count_;
      parked_.notify_all();
      wake_.wait(lock, [this] { return park_requests_ == 0 || stop_threads_; });
      --parked_count_;
      continue;
    }
    if (!running_) {
      wake_.wait(lock, [this] { return running_ || park_requests_ || stop_threads_; });
      continue;
    }
    return true;
  }
}

std::vector<CpuInfo> Vm::query_cpus(bool with_registers) {
  std::vector<CpuInfo> cpus(board_->hart_count());
  run_on_vcpu([&] {
    for (unsigned i = 0; i < cpus.size(); ++i) {
      Hart& hart = board_->hart(i);
      cpus[i].index = i;
      cpus[i].pc = hart.pc();
      cpus[i].halted = hart.waiting_for_interrupt();
      cpus[i].thread_id = thread_ids_[i].load();
      if (with_registers) cpus[i].registers = dump_registers(hart);
    }
  });
  return cpus;
}

std::string Vm::describe_interrupt_controllers() {
  std::string text;
  run_on_vcpu([&] { text = board_->plic().describe(); });
  return text;
}

void Vm::hart_main(unsigned index) {
  on_hart_thread = true;
  thread_ids_[index].store(gettid());
  VirtBoard& b = *board_;
  Hart& hart = b.hart(index);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!wait_until_runnable(lock)) break;
    }
    if (index == 0) feed_serial_input();
    {
      std::lock_guard<std::mutex> device(device_mutex_);
      b.update_timers();
    }
    hart.update_sstc_timer();
    const auto slice_start = std::chrono::steady_clock::now();
    const StopReason reason = hart.run(kSliceInstructions);
    if (index == 0 && serial_) {
      std::lock_guard<std::mutex> device(device_mutex_);
      serial_->flush();
    }
    if (const uint32_t pct = throttle_percent_.load(std::memory_order_relaxed)) {
      // auto-converge: sleep so the hart runs (100 - pct)% of the time.
      const auto ran = std::chrono::steady_clock::now() - slice_start;
      std::unique_lock<std::mutex> lock(mutex_);
      if (!park_requests_ && !stop_threads_)
        wake_.wait_for(lock, ran * pct / (100 - std::min<uint32_t>(pct, 99)));
    }
    handle_power_requests();
    if (reason == StopReason::kWfi) wait_for_interrupt(index);
  }
  if (index == 0 && serial_) {
    std::lock_guard<std::mutex> device(device_mutex_);
    serial_->flush();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  --live_threads_;
  parked_.notify_all();
}

}  // namespace ferry
