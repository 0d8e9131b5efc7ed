// The two halves of MigrationManager: the outgoing (source) migration and
// the incoming (destination) one, each with its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "migration/migration_manager.h"
#include "migration/stream.h"
#include "migration/timeline.h"

namespace ferry {

// What query-migrate reports; written by the migration thread under the
// manager's mutex.
struct OutgoingStats {
  std::chrono::steady_clock::time_point start;
  int64_t total_time_ms = 0;
  int64_t setup_time_ms = 0;
  int64_t downtime_ms = 0;
  int64_t expected_downtime_ms = 0;
  uint32_t throttle_percent = 0;
  nlohmann::json live = nlohmann::json::object();  // per live handler, QEMU's names
  Timeline steps;
  std::string error;
  bool finished = false;
};

class MigrationManager::Source {
 public:
  // `opened`: a channel already open (fd: is resolved when migrate runs,
  // while the descriptor still exists), or null to connect on the thread.
  Source(MigrationManager& m, MigrationUri uri, FdResolver fds, std::unique_ptr<Channel> opened);
  ~Source();
  void start();
  void cancel();
  OutgoingStats stats() const;

 private:
  class Run;
  void run();
  void fail(const std::string& message);
  void update(const std::function<void(OutgoingStats&)>& fn);

  MigrationManager& m_;
  MigrationUri uri_;
  FdResolver fds_;
  std::atomic<bool> cancel_{false};
  std::mutex channel_mutex_;  // guards channel_ against a cancel while it closes
  Channel* channel_ = nullptr;
  std::unique_ptr<Channel> opened_;
  OutgoingStats stats_;
  std::thread thread_;
};

class MigrationManager::Incoming {
 public:
  Incoming(MigrationManager& m, std::unique_ptr<IncomingEndpoint> endpoint, IncomingDone done);
  ~Incoming();
  void start();

 private:
  void run();
  // After the stream loaded: READY, then GO within the source's deadline.
  IncomingOutcome hand_over(Channel& channel, StreamReader& in, uint32_t timeout_ms,
                            Timeline& steps, std::string* error);

  MigrationManager& m_;
  std::unique_ptr<IncomingEndpoint> endpoint_;
  IncomingDone done_;
  std::atomic<bool> stop_{false};
  std::atomic<Channel*> channel_{nullptr};
  std::thread thread_;
};

struct StreamConfig;

// Loads a whole stream (header to end marker) into a VM that is not
// running; false with *error naming the first problem. `config` (may be
// null) receives the stream's configuration; `steps` (may be null) the
// timeline of its last steps.
bool load_migration_stream(Vm& vm, StreamReader& in, std::string* error,
                           StreamConfig* config = nullptr, Timeline* steps = nullptr);

}  // namespace ferry
