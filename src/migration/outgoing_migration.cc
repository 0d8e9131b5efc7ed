// The source side of a migration, on its own thread:
//   setup (connect, header, RAM setup) -> active (pre-copy passes until the
//   expected downtime fits downtime-limit) -> stop-and-copy (the vCPU stops,
//   the rest of RAM and every device) -> hand-over (READY / GO on the return
//   path) -> completed. Any failure or a cancel before the hand-over resumes
//   the vCPU when it was running.
#include <algorithm>

#include "migration/format.h"
#include "migration/migration_internal.h"
#include "migration/state_codec.h"
#include "vm/vm.h"

namespace ferry {

namespace fmt = migration_format;
using Clock = std::chrono::steady_clock;

namespace {
constexpr uint64_t kIterateChunk = 8ull << 20;  // bytes per PART section
// auto-converge throttles when the guest dirties more than this share of
// what the link carries.
constexpr double kThrottleTrigger = 0.5;
// What is left for stop-and-copy when the guest barely dirties anything.
constexpr uint64_t kSmallRemainder = 256 * 1024;

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

void section_header(StreamWriter& out, uint8_t type, uint32_t id, const SaveVmEntry* e) {
  out.u8(type);
  out.u32(id);
  if (e) {
    out.str(e->id);
    out.u32(e->instance);
    out.u32(static_cast<uint32_t>(e->version));
  }
}

void section_footer(StreamWriter& out, uint32_t id) {
  out.u8(fmt::kFooter);
  out.u32(id);
}
}  // namespace

MigrationManager::Source::Source(MigrationManager& m, MigrationUri uri, FdResolver fds,
                                 std::unique_ptr<Channel> opened)
    : m_(m), uri_(std::move(uri)), fds_(std::move(fds)), opened_(std::move(opened)) {
  stats_.start = Clock::now();
}

MigrationManager::Source::~Source() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

void MigrationManager::Source::start() {
  thread_ = std::thread([this] { run(); });
}

void MigrationManager::Source::cancel() {
  cancel_.store(true);
  if (Channel* c = channel_.load()) c->shutdown();
}

OutgoingStats MigrationManager::Source::stats() const {
  std::lock_guard<std::mutex> lock(m_.mutex_);
  OutgoingStats s = stats_;
  if (!s.finished) s.total_time_ms = ms_since(s.start);
  return s;
}

void MigrationManager::Source::update(const std::function<void(OutgoingStats&)>& fn) {
  std::lock_guard<std::mutex> lock(m_.mutex_);
  fn(stats_);
}

bool MigrationManager::Source::check_cancel() { return cancel_.load(); }

void MigrationManager::Source::fail(const std::string& message) {
  update([&](OutgoingStats& s) {
    if (s.error.empty()) s.error = message;
  });
}

void MigrationManager::Source::run() {
  Vm& vm = m_.vm_;
  std::string error;
  std::unique_ptr<Channel> channel =
      opened_ ? std::move(opened_) : open_outgoing(uri_, fds_, &error);
  bool paused = false, was_running = false, ok = false;
  if (!channel) {
    fail(error);
  } else {
    channel_.store(channel.get());
    ok = run_stream(*channel, paused, was_running);
  }
  const bool cancelled = cancel_.load() && !ok;
  vm.set_throttle_percent(0);
  if (ok) {
    vm.finish_outgoing_migration();
  } else if (paused) {
    vm.resume_after_migration(was_running);
  }
  channel_.store(nullptr);
  channel.reset();
  update([&](OutgoingStats& s) {
    s.finished = true;
    s.total_time_ms = ms_since(s.start);
    s.throttle_percent = 0;
    if (cancelled) s.error.clear();
  });
  m_.emit_status(ok ? MigrationStatus::kCompleted
                    : cancelled ? MigrationStatus::kCancelled : MigrationStatus::kFailed);
}

bool MigrationManager::Source::run_stream(Channel& channel, bool& paused, bool& was_running) {
  Vm& vm = m_.vm_;
  const MigrationParameters params = m_.parameters();
  const MigrationCapabilities caps = m_.capabilities();
  RamMigration ram(vm.board().ram(), [&vm](std::vector<uint64_t>& bits) { vm.sync_dirty_log(bits); });
  SaveVm savevm;
  savevm.add_live(&ram);
  for (StateOwner* owner : vm.board().state_owners()) savevm.add_device(owner);
  const auto& entries = savevm.entries();

  StreamWriter out(channel);
  uint64_t current_limit = params.max_bandwidth;
  out.set_rate_limit(current_limit);
  auto stream_failed = [&] {
    if (cancel_.load()) return true;
    fail(out.ok() ? std::string("migration stream failed") : out.error());
    return true;
  };

  // --- setup ---
  write_stream_header(out, vm);
  for (uint32_t id = 0; id < entries.size(); ++id) {
    if (!entries[id].live) continue;
    section_header(out, fmt::kSectionStart, id, &entries[id]);
    entries[id].live->save_setup(out);
    section_footer(out, id);
  }
  out.flush();
  if (!out.ok() || check_cancel()) return !stream_failed();
  update([&](OutgoingStats& s) {
    s.setup_time_ms = ms_since(s.start);
    s.total = vm.board().ram().size();
    s.remaining = ram.pending_bytes();
    s.dirty_sync_count = 1;
  });
  m_.emit_status(MigrationStatus::kActive);

  // --- iterate: pre-copy passes ---
  uint32_t pass = 0;
  uint32_t throttle = 0;
  uint64_t last_pending = ~0ull;
  const Clock::time_point active_start = Clock::now();
  const uint64_t active_bytes = out.bytes_written();
  // Throughput since pre-copy began: per-pass figures of tiny passes (an
  // idle guest) would claim more than the link can carry.
  auto mbps_since_active = [&] {
    const double t = std::chrono::duration<double>(Clock::now() - active_start).count();
    return t < 1e-3 ? 0.0 : (out.bytes_written() - active_bytes) * 8.0 / t / 1e6;
  };
  for (;;) {
    const Clock::time_point pass_start = Clock::now();
    const uint64_t bytes_before = out.bytes_written();
    const uint64_t pages_before = ram.counters().normal_pages + ram.counters().zero_pages;
    for (uint32_t id = 0; id < entries.size(); ++id) {
      if (!entries[id].live) continue;
      LiveHandler::Progress p = LiveHandler::Progress::kMore;
      while (p == LiveHandler::Progress::kMore) {
        section_header(out, fmt::kSectionPart, id, nullptr);
        p = entries[id].live->save_iterate(out, kIterateChunk);
        section_footer(out, id);
        if (p == LiveHandler::Progress::kError || !out.ok() || check_cancel())
          return !stream_failed();
        update([&](OutgoingStats& s) {
          s.transferred = out.bytes_written();
          s.remaining = ram.pending_bytes();
          s.duplicate = ram.counters().zero_pages;
          s.normal = ram.counters().normal_pages;
          s.mbps = mbps_since_active();
        });
        // A new max-bandwidth applies at once, as in QEMU.
        const uint64_t limit = m_.parameters().max_bandwidth;
        if (limit != current_limit) {
          current_limit = limit;
          out.set_rate_limit(limit);
        }
      }
    }
    out.flush();
    if (!out.ok() || check_cancel()) return !stream_failed();
    ram.sync();
    ++pass;
    const double seconds =
        std::max(1e-4, std::chrono::duration<double>(Clock::now() - pass_start).count());
    const uint64_t sent = out.bytes_written() - bytes_before;
    // The link's speed: measured on passes long enough to tell, else the
    // limit (or a generous guess for an idle guest).
    double bandwidth = sent > (1u << 20) ? sent / seconds
                       : current_limit ? static_cast<double>(current_limit)
                                       : 1e9;
    if (current_limit) bandwidth = std::min(bandwidth, static_cast<double>(current_limit));
    const uint64_t downtime_limit_ms = m_.parameters().downtime_limit_ms;
    const uint64_t dirtied = ram.counters().last_sync_dirty_pages;
    const uint64_t pending = ram.pending_bytes();
    const double expected_ms = pending / bandwidth * 1000.0;
    const uint64_t pages = ram.counters().normal_pages + ram.counters().zero_pages - pages_before;
    update([&](OutgoingStats& s) {
      s.transferred = out.bytes_written();
      s.remaining = pending;
      s.duplicate = ram.counters().zero_pages;
      s.normal = ram.counters().normal_pages;
      s.dirty_sync_count = pass + 1;  // setup's harvest counts, as in QEMU
      s.dirty_pages_rate = static_cast<uint64_t>(dirtied / seconds);
      s.mbps = mbps_since_active();
      s.pages_per_second = static_cast<uint64_t>(pages / seconds);
      s.expected_downtime_ms = static_cast<int64_t>(expected_ms);
    });
    if (caps.events) m_.emit_pass(pass);
    // Stop the guest once the rest fits downtime-limit, but keep iterating
    // while passes still shrink what is left a lot: the downtime then ends
    // up far below the limit whenever the link outpaces the guest.
    const bool fits = expected_ms <= static_cast<double>(downtime_limit_ms);
    const bool shrinking = pending < last_pending / 2 && pending > kSmallRemainder;
    if (pending == 0 || (fits && !shrinking)) break;
    last_pending = pending;
    // auto-converge: slow the vCPU down step by step while it dirties
    // faster than half of what the link carries.
    if (caps.auto_converge && pass >= 2 &&
        static_cast<double>(dirtied * kPageSize) > kThrottleTrigger * sent) {
      throttle = throttle == 0 ? params.cpu_throttle_initial
                               : std::min(params.max_cpu_throttle,
                                          throttle + params.cpu_throttle_increment);
      vm.set_throttle_percent(throttle);
      update([&](OutgoingStats& s) { s.throttle_percent = throttle; });
    }
  }

  // --- stop-and-copy ---
  const Clock::time_point downtime_start = Clock::now();
  was_running = vm.pause_for_migration();
  paused = true;
  for (uint32_t id = 0; id < entries.size(); ++id) {
    if (!entries[id].live) continue;
    section_header(out, fmt::kSectionEnd, id, nullptr);
    entries[id].live->save_complete(out);
    section_footer(out, id);
  }
  // Device state is read on the vCPU thread, serialized with monitor commands.
  vm.run_on_vcpu([&] {
    for (uint32_t id = 0; id < entries.size(); ++id) {
      if (!entries[id].device) continue;
      section_header(out, fmt::kSectionFull, id, &entries[id]);
      save_state_fields(*entries[id].device, entries[id].version, out);
      section_footer(out, id);
    }
  });
  out.u8(fmt::kSectionEof);
  out.flush();
  update([&](OutgoingStats& s) {
    s.transferred = out.bytes_written();
    s.remaining = 0;
    s.duplicate = ram.counters().zero_pages;
    s.normal = ram.counters().normal_pages;
    s.mbps = mbps_since_active();
  });
  if (!out.ok() || check_cancel()) return !stream_failed();

  // --- hand-over ---
  if (!await_handover(channel, out)) return false;
  update([&](OutgoingStats& s) { s.downtime_ms = ms_since(downtime_start); });
  return true;
}

bool MigrationManager::Source::await_handover(Channel& channel, StreamWriter& out) {
  if (!channel.has_return_path()) {
    // exec: and file: have no way back: the stream written in full counts.
    if (!channel.finish()) {
      fail(channel.error());
      return false;
    }
    return true;
  }
  StreamReader reply(channel);
  const uint8_t message = reply.u8();
  if (!reply.ok()) {
    if (!cancel_.load())
      fail("the destination did not confirm the migration: " + reply.error());
    return false;
  }
  if (message == fmt::kReturnFailed) {
    const std::string reason = reply.str();
    fail("the destination could not load the migration: " + reason);
    return false;
  }
  if (message != fmt::kReturnReady) {
    fail("unexpected message " + std::to_string(message) + " on the return path");
    return false;
  }
  if (cancel_.load()) return false;
  // From here the destination owns the VM: tell it to run. If this write
  // fails, the destination never starts and the source stays paused
  // (postmigrate); it can be continued by hand. Both never run at once.
  out.u8(fmt::kReturnGo);
  out.flush();
  return true;
}

}  // namespace ferry
