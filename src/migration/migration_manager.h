// MigrationManager: a VM's migrations, outgoing and incoming, with the
// parameters, capabilities and statistics QMP shows.
//
// Source states (QMP "status"):
//   none -> setup -> active -> completed
//                        \---> failed | cancelling -> cancelled
// A failed or cancelled migration resumes the source's vCPU by itself when
// it was running before. A completed one leaves it paused ("postmigrate").
// A new migration may start after completed/failed/cancelled. The hand-over
// modes and what each leftover state means: docs/migration.md.
//
// Threads: the monitors call everything on the main thread; the work runs
// on a migration thread (source) or an incoming thread (destination).
// query() may be called at any time.
#pragma once

#include "migration/block_migration.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "migration/transport.h"
#include "net/announce.h"
#include "vm/vm_control.h"

namespace ferry {

class Vm;

enum class MigrationStatus { kNone, kSetup, kActive, kCancelling, kCancelled, kCompleted, kFailed };
std::string_view migration_status_name(MigrationStatus s);

struct MigrationParameters {
  uint64_t max_bandwidth = 0;        // bytes/s, 0 = unlimited (QEMU's 128 MiB/s never converges)
  uint64_t downtime_limit_ms = 300;  // QEMU's default
  // Deadlines (ms). connect: reaching the destination. confirm: after the
  // end of the stream, the destination's READY; then the source fails the
  // migration and resumes. handover: the destination's wait for GO after
  // READY (sent to it in the stream).
  uint64_t connect_timeout_ms = 5000;
  uint64_t confirm_timeout_ms = 10000;
  uint64_t handover_timeout_ms = 5000;
  uint32_t cpu_throttle_initial = 20;    // percent, auto-converge
  uint32_t cpu_throttle_increment = 10;  // percent
  uint32_t max_cpu_throttle = 99;        // percent
  // A destination's announce schedule, once the VM runs there.
  AnnounceParams announce;
};

struct MigrationCapabilities {
  bool auto_converge = false;
  bool events = false;
  bool return_path = false;  // exec: reads the command's stdout as the return path
};

// How an incoming migration ended.
enum class IncomingOutcome {
  kStarted,        // the VM runs here (or waits for `cont` with -S)
  kFailed,         // the stream could not be loaded: nothing runs here
  kNotHandedOver,  // loaded, but the source never said GO: paused here,
                   // for the operator (docs/migration.md)
};

class MigrationManager {
 public:
  // `events` may be null. Called when an incoming migration ends: success
  // (the guest runs or waits for `cont` with -S) or failure with a message,
  // on which ferry exits non-zero.
  using IncomingDone = std::function<void(IncomingOutcome outcome, const std::string& message)>;

  MigrationManager(Vm& vm, EventSink* events);
  ~MigrationManager();

  // --- source (QMP migrate / HMP migrate) ---
  // Validates and starts; false with *error (nothing started) when a
  // migration is active, the URI is bad, or the VM can't be migrated.
  // `blocks`: how the disks travel (shared storage, or copied: migrate -b / -i).
  bool start(const std::string& uri, const FdResolver& fds, std::string* error,
             BlockMigrationMode blocks = BlockMigrationMode::kShared);
  // QMP migrate_cancel: no-op when nothing is active.
  void cancel();
  MigrationStatus status() const { return status_.load(); }
  // QMP query-migrate's return value (MigrationInfo), plus kStepsMember:
  // when each step of the pause happened.
  nlohmann::json query() const;
  static const char* const kStepsMember;

  // --- destination (-incoming URI, QMP migrate-incoming) ---
  bool start_incoming(const std::string& uri, const FdResolver& fds, IncomingDone done,
                      std::string* error);
  bool incoming_active() const { return incoming_active_.load(); }

  // --- settings (main thread) ---
  MigrationParameters parameters() const;
  // Applies the known members of a QMP migrate-set-parameters argument
  // object; false with *error naming a bad value (nothing applied).
  bool set_parameters(const nlohmann::json& args, std::string* error);
  nlohmann::json query_parameters() const;
  MigrationCapabilities capabilities() const;
  // QMP migrate-set-capabilities {"capabilities": [{"capability", "state"}]}.
  bool set_capabilities(const nlohmann::json& list, std::string* error);
  nlohmann::json query_capabilities() const;

 private:
  class Source;
  class Incoming;
  friend class Source;
  friend class Incoming;

  void emit_status(MigrationStatus s);
  void emit_pass(uint32_t pass);

  Vm& vm_;
  EventSink* events_;
  mutable std::mutex mutex_;  // guards params_, caps_, incoming_error_, incoming_steps_
  MigrationParameters params_;
  // params_.max_bandwidth, read by a running migration's writer at any time.
  std::atomic<uint64_t> max_bandwidth_live_{0};
  MigrationCapabilities caps_;
  std::atomic<MigrationStatus> status_{MigrationStatus::kNone};
  std::unique_ptr<Source> source_;
  std::unique_ptr<Incoming> incoming_;
  std::atomic<bool> incoming_active_{false};
  std::string incoming_error_;
  nlohmann::json incoming_steps_;
};

}  // namespace ferry
