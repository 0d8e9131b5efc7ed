// The two halves of MigrationManager: the outgoing (source) migration and
// the incoming (destination) one, each with its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "migration/migration_manager.h"
#include "migration/ram_migration.h"
#include "migration/savevm.h"
#include "migration/stream.h"

namespace ferry {

// What query-migrate reports; written by the migration thread under the
// manager's mutex.
struct OutgoingStats {
  std::chrono::steady_clock::time_point start;
  int64_t total_time_ms = 0;
  int64_t setup_time_ms = 0;
  int64_t downtime_ms = 0;
  int64_t expected_downtime_ms = 0;
  uint64_t transferred = 0;
  uint64_t remaining = 0;
  uint64_t total = 0;
  uint64_t duplicate = 0;
  uint64_t normal = 0;
  uint64_t dirty_pages_rate = 0;
  uint64_t dirty_sync_count = 0;
  uint64_t pages_per_second = 0;
  double mbps = 0;
  uint32_t throttle_percent = 0;
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
  void run();
  bool run_stream(Channel& channel, bool& paused, bool& was_running);
  bool check_cancel();
  void fail(const std::string& message);
  void update(const std::function<void(OutgoingStats&)>& fn);
  bool await_handover(Channel& channel, StreamWriter& out);

  MigrationManager& m_;
  MigrationUri uri_;
  FdResolver fds_;
  std::atomic<bool> cancel_{false};
  std::atomic<Channel*> channel_{nullptr};
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
  bool load(StreamReader& in, std::string* error);

  MigrationManager& m_;
  std::unique_ptr<IncomingEndpoint> endpoint_;
  IncomingDone done_;
  std::atomic<bool> stop_{false};
  std::atomic<Channel*> channel_{nullptr};
  std::thread thread_;
};

// Loads a whole stream (header to end marker) into a VM that is not
// running; false with *error naming the first problem.
bool load_migration_stream(Vm& vm, StreamReader& in, std::string* error);

// Writes / checks the stream header and the configuration section.
void write_stream_header(StreamWriter& out, const Vm& vm);
bool read_stream_header(StreamReader& in, const Vm& vm);

}  // namespace ferry
