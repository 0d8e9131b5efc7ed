// Channel: a byte stream to or from the other side of a migration.
//
// A transport (tcp:, unix:, exec:, fd:, file:) only connects and hands back
// a Channel; it knows nothing of what travels on it. `has_return_path()` is
// true when the destination can answer on the same channel (sockets).
//
// Threads: one reader and one writer at a time; shutdown() may be called
// from any thread to make blocked calls fail (cancel).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ferry {

class Channel {
 public:
  virtual ~Channel() = default;
  // Writes all of `len` bytes; false (with error()) on failure.
  virtual bool write_all(const uint8_t* data, size_t len) = 0;
  // Reads up to `len` bytes; 0 at end of stream, -1 on error.
  virtual ssize_t read_some(uint8_t* data, size_t len) = 0;
  virtual bool has_return_path() const = 0;
  // Makes blocked reads and writes return with an error.
  virtual void shutdown() = 0;
  // Finishes the stream (e.g. waits for an exec: child); false on failure.
  virtual bool finish() { return true; }
  // Waits until a read would not block: 1 ready (data, end of stream or an
  // error), 0 after `timeout_ms`, -1 when waiting failed.
  virtual int wait_readable(int timeout_ms) = 0;
  // Receiving bulk data (RAM pages): let reads wait for large batches
  // instead of waking up for every packet. Off for the small messages at
  // the end of the stream, where waiting would add downtime.
  virtual void set_bulk_receive(bool) {}
  virtual std::string error() const = 0;
  virtual std::string description() const = 0;
};

// A Channel into memory: what is written is appended to `data` (device state
// snapshotted on the vCPU thread, sent later by the migration thread).
class MemorySink : public Channel {
 public:
  bool write_all(const uint8_t* p, size_t len) override {
    data.insert(data.end(), p, p + len);
    return true;
  }
  ssize_t read_some(uint8_t*, size_t) override { return 0; }
  int wait_readable(int) override { return 1; }
  bool has_return_path() const override { return false; }
  void shutdown() override {}
  std::string error() const override { return {}; }
  std::string description() const override { return "memory"; }

  std::vector<uint8_t> data;
};

// A Channel over a file descriptor it owns (or two: one read, one written,
// for a child process's stdout and stdin).
class FdChannel : public Channel {
 public:
  FdChannel(int fd, bool return_path, std::string description);
  FdChannel(int read_fd, int write_fd, bool return_path, std::string description);
  ~FdChannel() override;
  bool write_all(const uint8_t* data, size_t len) override;
  ssize_t read_some(uint8_t* data, size_t len) override;
  int wait_readable(int timeout_ms) override;
  bool has_return_path() const override { return return_path_; }
  void shutdown() override;
  void set_bulk_receive(bool on) override;
  std::string error() const override { return error_; }
  std::string description() const override { return description_; }
  int fd() const { return fd_; }
  int write_fd() const { return write_fd_; }

 protected:
  void set_error(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }

 private:
  int fd_;        // read (and write, unless write_fd_ differs)
  int write_fd_;
  bool return_path_;
  bool bulk_ = false;
  std::string description_;
  std::string error_;
};

}  // namespace ferry
