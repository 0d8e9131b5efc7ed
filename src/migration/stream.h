// StreamWriter / StreamReader: the migration stream over a Channel.
//
// Both latch their first error: after it, writes do nothing and reads return
// zeros, so save and load code reads straight through a section and the
// caller checks ok() once (QEMU's QEMUFile does the same). Integers are
// little-endian. Lengths read from the wire are bounded by the caller before
// anything is allocated (see read_bounded_*).
//
// Threads: a writer or a reader is used by one thread at a time.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "migration/channel.h"

namespace ferry {

class StreamWriter {
 public:
  explicit StreamWriter(Channel& channel);

  void u8(uint8_t v) { put(&v, 1); }
  void u32(uint32_t v);
  void u64(uint64_t v);
  void str(const std::string& s);  // u8 length + bytes; longer strings are an error
  void bytes(const uint8_t* data, size_t len) { put(data, len); }

  // Sends what is buffered.
  void flush();
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void set_error(const std::string& e) {
    if (error_.empty()) error_ = e;
  }
  // Bytes handed to the channel plus those buffered.
  uint64_t bytes_written() const { return written_ + buffer_.size(); }

  // Bandwidth limit in bytes per second (0 = none): flush() sleeps so that
  // the average rate since set_rate_limit() stays under it.
  void set_rate_limit(uint64_t bytes_per_second);
  // While throttled, watches `cancel` (set: the writer fails with
  // "cancelled") and `rate_limit` (a new limit applies at once). Either may
  // be null; both must outlive the writer.
  void watch(const std::atomic<bool>* cancel, const std::atomic<uint64_t>* rate_limit);

 private:
  void put(const void* data, size_t len);
  void throttle();

  Channel& channel_;
  std::vector<uint8_t> buffer_;
  uint64_t written_ = 0;
  std::string error_;
  uint64_t rate_limit_ = 0;
  const std::atomic<bool>* cancel_ = nullptr;
  const std::atomic<uint64_t>* live_rate_limit_ = nullptr;
  std::chrono::steady_clock::time_point window_start_;
  uint64_t window_bytes_ = 0;
};

class StreamReader {
 public:
  explicit StreamReader(Channel& channel);
  // Reads a payload already in memory (a device's state taken off the wire);
  // running past its end is an error naming `what`.
  StreamReader(std::vector<uint8_t> data, std::string what);

  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  std::string str();
  // Fills `len` bytes (zeros after an error).
  void bytes(uint8_t* data, size_t len);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // The channel read from; null for an in-memory payload.
  Channel* channel() { return channel_; }
  // Latches a message naming what is wrong (the first one wins).
  void fail(const std::string& message) {
    if (error_.empty()) error_ = message;
  }
  uint64_t bytes_read() const { return read_; }
  // An in-memory payload: how many bytes are left to read, so that a length
  // read from it can be checked before anything is allocated. SIZE_MAX when
  // reading from a channel (not known).
  size_t bytes_left() const {
    return channel_ ? SIZE_MAX : buffer_.size() - std::min(pos_, buffer_.size());
  }
  // True when the stream ended cleanly at a boundary (no bytes pending).
  bool at_eof();

 private:
  bool fill();

  Channel* channel_;
  std::string what_;  // in-memory payload: what it holds
  std::vector<uint8_t> buffer_;
  size_t pos_ = 0;
  uint64_t read_ = 0;
  std::string error_;
};

}  // namespace ferry
