// The source side of a migration, on its own thread:
//   setup (connect, header, live handlers' setup) -> active (pre-copy passes
//   until what all live handlers hold fits downtime-limit) -> stop-and-copy
//   (the vCPU stops; the rest of every live handler; every device's state,
//   snapshotted on the vCPU thread and sent from this one) -> hand-over
//   (READY / GO on the return path, or none) -> completed.
// Any failure or a cancel before GO resumes the vCPU when it was running.
// This file names no handler and no device: it walks the VM's registry.
#include <algorithm>

#include "migration/format.h"
#include "migration/migration_internal.h"
#include "migration/state_codec.h"
#include "migration/state_registry.h"
#include "migration/stream_config.h"
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
constexpr int kPollMs = 50;  // how often a wait checks for a cancel

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

void section_header(StreamWriter& out, uint8_t type, uint32_t id, const StateEntry* e) {
  out.u8(type);
  out.u32(id);
  if (e) {
    out.str(e->name);
    out.u32(e->instance);
    out.u32(static_cast<uint32_t>(e->version));
  }
}

void section_footer(StreamWriter& out, uint32_t id) {
  out.u8(fmt::kFooter);
  out.u32(id);
}

// Which entries of the registry are live handlers / devices, with the
// section id each travels under (its index in the registry).
struct Section {
  uint32_t id;
  const StateEntry* entry;
};
}  // namespace

// One outgoing migration over an open channel.
class MigrationManager::Source::Run {
 public:
  Run(Source& source, Channel& channel)
      : s_(source),
        vm_(source.m_.vm_),
        params_(source.m_.parameters()),
        caps_(source.m_.capabilities()),
        channel_(channel),
        out_(channel) {
    // A cancel or a new max-bandwidth reaches the writer even mid-sleep.
    out_.watch(&source.cancel_, &source.m_.max_bandwidth_live_);
    const auto& entries = vm_.state_registry().entries();
    for (uint32_t id = 0; id < entries.size(); ++id)
      (entries[id].live ? live_ : devices_).push_back({id, &entries[id]});
  }

  // True when the destination took the VM over.
  bool execute() {
    const bool ok = setup() && iterate() && stop_and_copy() && hand_over();
    for (const Section& l : live_) l.entry->live->save_cleanup();
    return ok;
  }

  bool paused = false;       // the vCPU was stopped for stop-and-copy
  bool was_running = false;  // …and ran before

 private:
  bool cancelled() const { return s_.cancel_.load(); }
  // Latches why the stream failed (a cancel is not a failure).
  bool stream_failed() {
    if (!cancelled()) s_.fail(out_.ok() ? std::string("migration stream failed") : out_.error());
    return false;
  }
  uint64_t pending() const {
    uint64_t sum = 0;
    for (const Section& l : live_) sum += l.entry->live->pending_bytes();
    return sum;
  }
  double mbps_since_active() const {
    const double t = std::chrono::duration<double>(Clock::now() - active_start_).count();
    return t < 1e-3 ? 0.0 : (out_.bytes_written() - active_bytes_) * 8.0 / t / 1e6;
  }
  // Copies every live handler's counters into what query-migrate shows.
  void publish(const std::function<void(OutgoingStats&)>& more = nullptr) {
    LiveLoopFigures f;
    f.mbps = mbps_since_active();
    f.dirty_sync_count = pass_ + 1;  // setup's harvest counts, as in QEMU
    f.last_pass_seconds = last_pass_seconds_;
    f.transferred = out_.bytes_written();
    nlohmann::json live = nlohmann::json::object();
    for (const Section& l : live_) {
      nlohmann::json stats = l.entry->live->query_stats(f);
      if (!stats.is_null()) live[std::string(l.entry->name)] = std::move(stats);  // null: idle
    }
    s_.update([&](OutgoingStats& st) {
      st.live = std::move(live);
      if (more) more(st);
    });
  }

  bool setup() {
    confirm_ = channel_.has_return_path();
    write_stream_start(out_, stream_config_of(vm_, confirm_,
                                              static_cast<uint32_t>(params_.handover_timeout_ms)));
    for (const Section& l : live_) {
      section_header(out_, fmt::kSectionStart, l.id, l.entry);
      l.entry->live->save_setup(out_);
      section_footer(out_, l.id);
    }
    out_.flush();
    if (!out_.ok() || cancelled()) return stream_failed();
    active_start_ = Clock::now();
    active_bytes_ = out_.bytes_written();
    publish([&](OutgoingStats& st) { st.setup_time_ms = ms_since(st.start); });
    s_.m_.emit_status(MigrationStatus::kActive);
    return true;
  }

  // Pre-copy passes until the rest fits downtime-limit.
  bool iterate() {
    uint64_t last_pending = ~0ull;
    uint32_t throttle = 0;
    for (;;) {
      const Clock::time_point pass_start = Clock::now();
      const uint64_t bytes_before = out_.bytes_written();
      for (const Section& l : live_) {
        LiveHandler::Progress p = LiveHandler::Progress::kMore;
        while (p == LiveHandler::Progress::kMore) {
          section_header(out_, fmt::kSectionPart, l.id, nullptr);
          p = l.entry->live->save_iterate(out_, kIterateChunk);
          section_footer(out_, l.id);
          if (p == LiveHandler::Progress::kError || !out_.ok() || cancelled())
            return stream_failed();
          publish();
        }
      }
      out_.flush();
      if (!out_.ok() || cancelled()) return stream_failed();
      uint64_t dirtied = 0;
      for (const Section& l : live_) {
        l.entry->live->sync();
        dirtied += l.entry->live->last_sync_dirty_bytes();
      }
      ++pass_;
      last_pass_seconds_ =
          std::max(1e-4, std::chrono::duration<double>(Clock::now() - pass_start).count());
      const uint64_t sent = out_.bytes_written() - bytes_before;
      const uint64_t current_limit = s_.m_.max_bandwidth_live_.load();
      // The link's speed: measured on passes long enough to tell, else the
      // limit (or a generous guess for an idle guest).
      double bandwidth = sent > (1u << 20) ? sent / last_pass_seconds_
                         : current_limit   ? static_cast<double>(current_limit)
                                           : 1e9;
      if (current_limit) bandwidth = std::min(bandwidth, static_cast<double>(current_limit));
      const uint64_t left = pending();
      const double expected_ms = left / bandwidth * 1000.0;
      publish([&](OutgoingStats& st) { st.expected_downtime_ms = static_cast<int64_t>(expected_ms); });
      if (caps_.events) s_.m_.emit_pass(pass_);
      // Stop the guest once the rest fits downtime-limit, but keep iterating
      // while passes still shrink what is left a lot: the downtime then ends
      // up far below the limit whenever the link outpaces the guest.
      const bool fits = expected_ms <= static_cast<double>(s_.m_.parameters().downtime_limit_ms);
      const bool shrinking = left < last_pending / 2 && left > kSmallRemainder;
      if (left == 0 || (fits && !shrinking)) return true;
      last_pending = left;
      // auto-converge: slow the vCPU down step by step while it dirties
      // faster than half of what the link carries.
      if (caps_.auto_converge && pass_ >= 2 &&
          static_cast<double>(dirtied) > kThrottleTrigger * static_cast<double>(sent)) {
        throttle = throttle == 0 ? params_.cpu_throttle_initial
                                 : std::min(params_.max_cpu_throttle,
                                            throttle + params_.cpu_throttle_increment);
        vm_.set_throttle_percent(throttle);
        s_.update([&](OutgoingStats& st) { st.throttle_percent = throttle; });
      }
    }
  }

  bool stop_and_copy() {
    downtime_start_ = Clock::now();
    mark("stop-requested");
    was_running = vm_.pause_for_migration();
    paused = true;
    mark("harts-stopped");
    for (const Section& l : live_) {
      section_header(out_, fmt::kSectionEnd, l.id, nullptr);
      l.entry->live->save_complete(out_);
      section_footer(out_, l.id);
    }
    mark("live-state-written");
    // Device state is snapshotted into memory on the vCPU thread; the
    // stream is written here, so a stalled peer can't hold the vCPU thread.
    MemorySink snapshot;
    std::vector<std::pair<uint64_t, uint64_t>> spans;  // per device: [begin, end)
    std::string storage_error;
    vm_.run_on_vcpu([&] {
      // The destination takes the disks over once it has the stream.
      try {
        vm_.state_registry().release_storage();
      } catch (const std::exception& e) {
        storage_error = e.what();
        return;
      }
      StreamWriter w(snapshot);
      for (const Section& d : devices_) {
        d.entry->device->pre_save();
        const uint64_t begin = w.bytes_written();
        save_state_fields(*d.entry->device, d.entry->version, w);
        spans.emplace_back(begin, w.bytes_written());
      }
      w.flush();
      if (!w.ok()) out_.set_error("device state: " + w.error());
    });
    if (!storage_error.empty()) out_.set_error("releasing the disks: " + storage_error);
    mark("devices-snapshotted");
    for (size_t i = 0; i < devices_.size(); ++i) {
      const auto [begin, end] = spans[i];
      section_header(out_, fmt::kSectionFull, devices_[i].id, devices_[i].entry);
      out_.u32(static_cast<uint32_t>(end - begin));
      out_.bytes(snapshot.data.data() + begin, end - begin);
      section_footer(out_, devices_[i].id);
    }
    out_.u8(fmt::kSectionEof);
    out_.flush();
    mark("stream-sent");
    publish([](OutgoingStats& st) { st.expected_downtime_ms = 0; });
    if (!out_.ok() || cancelled()) return stream_failed();
    return true;
  }

  bool hand_over() {
    if (!confirm_) {
      // No way back (exec: without return-path, file:): the stream written
      // in full is the hand-over; the destination runs at its end.
      if (!channel_.finish()) {
        s_.fail(channel_.error());
        return false;
      }
      return finished();
    }
    // Wait for READY, within confirm-timeout, watching for a cancel.
    const auto deadline = Clock::now() + std::chrono::milliseconds(params_.confirm_timeout_ms);
    for (;;) {
      if (cancelled()) return abort_destination();
      const int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(
                               deadline - Clock::now()).count();
      if (left <= 0) {
        s_.fail("the destination did not confirm within " +
                std::to_string(params_.confirm_timeout_ms) + " ms (confirm-timeout)");
        return abort_destination();
      }
      const int ready = channel_.wait_readable(static_cast<int>(std::min<int64_t>(left, kPollMs)));
      if (ready != 0) break;
    }
    StreamReader reply(channel_);
    const uint8_t message = reply.u8();
    if (!reply.ok()) {
      if (!cancelled()) s_.fail("the destination did not confirm the migration: " + reply.error());
      return false;
    }
    if (message == fmt::kReturnFailed) {
      const std::string reason = reply.str();
      s_.fail("the destination could not load the migration: " + reason);
      return false;
    }
    if (message != fmt::kReturnReady) {
      s_.fail("unexpected message " + std::to_string(message) + " on the return path");
      return abort_destination();
    }
    mark("confirmed");
    if (cancelled()) return abort_destination();
    // From here the destination owns the VM. A GO the kernel refused never
    // left this host, so the source may still resume; once it is written,
    // the source stays stopped for good (postmigrate): both never run.
    out_.u8(fmt::kReturnGo);
    out_.flush();
    if (!out_.ok()) {
      s_.fail("GO could not be sent to the destination: " + out_.error());
      return false;
    }
    mark("go-sent");
    return finished();
  }

  // Tells a destination that waits for GO that none will come (best effort).
  bool abort_destination() {
    StreamWriter w(channel_);
    w.u8(fmt::kReturnAbort);
    w.flush();
    return false;
  }

  bool finished() {
    s_.update([&](OutgoingStats& st) { st.downtime_ms = ms_since(downtime_start_); });
    return true;
  }

  void mark(const char* step) {
    s_.update([&](OutgoingStats& st) { st.steps.mark(step); });
  }

  Source& s_;
  Vm& vm_;
  const MigrationParameters params_;
  const MigrationCapabilities caps_;
  Channel& channel_;
  StreamWriter out_;
  std::vector<Section> live_, devices_;
  bool confirm_ = false;
  uint32_t pass_ = 0;
  double last_pass_seconds_ = 1e-4;
  Clock::time_point active_start_ = Clock::now();
  uint64_t active_bytes_ = 0;
  Clock::time_point downtime_start_;
};

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
  std::lock_guard<std::mutex> lock(channel_mutex_);
  if (channel_) channel_->shutdown();
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

void MigrationManager::Source::fail(const std::string& message) {
  update([&](OutgoingStats& s) {
    if (s.error.empty()) s.error = message;
  });
}

void MigrationManager::Source::run() {
  Vm& vm = m_.vm_;
  const MigrationParameters params = m_.parameters();
  std::string error;
  OutgoingOptions opts;
  opts.connect_timeout_ms = static_cast<int>(params.connect_timeout_ms);
  opts.cancel = &cancel_;
  opts.exec_return_path = m_.capabilities().return_path;
  std::unique_ptr<Channel> channel =
      opened_ ? std::move(opened_) : open_outgoing(uri_, fds_, &error, opts);
  bool ok = false, paused = false, was_running = false;
  if (!channel) {
    if (!cancel_.load()) fail(error);
  } else {
    {
      std::lock_guard<std::mutex> lock(channel_mutex_);
      channel_ = channel.get();
      if (cancel_.load()) channel->shutdown();
    }
    Run r(*this, *channel);
    ok = r.execute();
    paused = r.paused;
    was_running = r.was_running;
  }
  const bool cancelled = cancel_.load() && !ok;
  vm.set_throttle_percent(0);
  if (ok) {
    vm.finish_outgoing_migration();
  } else if (paused) {
    vm.resume_after_migration(was_running);
  }
  {
    std::lock_guard<std::mutex> lock(channel_mutex_);
    channel_ = nullptr;
  }
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

}  // namespace ferry
