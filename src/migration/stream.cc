#include "migration/stream.h"

#include <algorithm>
#include <cstring>
#include <thread>

namespace ferry {

namespace {
constexpr size_t kWriteBuffer = 256 * 1024;
constexpr size_t kReadBuffer = 256 * 1024;
}  // namespace

StreamWriter::StreamWriter(Channel& channel) : channel_(channel) {
  buffer_.reserve(kWriteBuffer);
  window_start_ = std::chrono::steady_clock::now();
}

void StreamWriter::put(const void* data, size_t len) {
  if (!ok()) return;
  const auto* p = static_cast<const uint8_t*>(data);
  if (buffer_.size() + len > kWriteBuffer) flush();
  if (len >= kWriteBuffer) {
    throttle();
    if (!ok()) return;
    if (!channel_.write_all(p, len)) set_error(channel_.error());
    written_ += len;
    window_bytes_ += len;
    return;
  }
  buffer_.insert(buffer_.end(), p, p + len);
}

void StreamWriter::u32(uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  put(b, 4);
}

void StreamWriter::u64(uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  put(b, 8);
}

void StreamWriter::str(const std::string& s) {
  if (s.size() > 255) {
    set_error("string '" + s.substr(0, 32) + "…' is too long for the stream");
    return;
  }
  u8(static_cast<uint8_t>(s.size()));
  put(s.data(), s.size());
}

void StreamWriter::set_rate_limit(uint64_t bytes_per_second) {
  rate_limit_ = bytes_per_second;
  window_start_ = std::chrono::steady_clock::now();
  window_bytes_ = 0;
}

void StreamWriter::watch(const std::atomic<bool>* cancel, const std::atomic<uint64_t>* rate_limit) {
  cancel_ = cancel;
  live_rate_limit_ = rate_limit;
  if (live_rate_limit_) set_rate_limit(live_rate_limit_->load());
}

void StreamWriter::throttle() {
  // Sleeps in short steps: a cancel or a new limit takes effect at once,
  // even when the limit is low and the wait long.
  constexpr auto kStep = std::chrono::milliseconds(20);
  for (;;) {
    if (cancel_ && cancel_->load()) {
      set_error("cancelled");
      return;
    }
    if (live_rate_limit_) {
      const uint64_t limit = live_rate_limit_->load();
      if (limit != rate_limit_) set_rate_limit(limit);
    }
    if (rate_limit_ == 0) return;
    const double allowed_seconds =
        static_cast<double>(window_bytes_) / static_cast<double>(rate_limit_);
    const auto due = window_start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                         std::chrono::duration<double>(allowed_seconds));
    const auto now = std::chrono::steady_clock::now();
    if (due <= now) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(due - now, kStep));
  }
}

void StreamWriter::flush() {
  if (!ok() || buffer_.empty()) return;
  throttle();
  if (!ok()) return;
  if (!channel_.write_all(buffer_.data(), buffer_.size())) set_error(channel_.error());
  written_ += buffer_.size();
  window_bytes_ += buffer_.size();
  buffer_.clear();
}

StreamReader::StreamReader(Channel& channel) : channel_(&channel) {}

StreamReader::StreamReader(std::vector<uint8_t> data, std::string what)
    : channel_(nullptr), what_(std::move(what)), buffer_(std::move(data)) {}

bool StreamReader::fill() {
  if (!ok()) return false;
  if (pos_ < buffer_.size()) return true;
  if (!channel_) {
    fail(what_ + " ends early (the stream is corrupt)");
    return false;
  }
  buffer_.resize(kReadBuffer);
  const ssize_t n = channel_->read_some(buffer_.data(), buffer_.size());
  if (n <= 0) {
    buffer_.clear();
    pos_ = 0;
    fail(n == 0 ? "the stream ended early (truncated, or the source went away)"
                : channel_->error());
    return false;
  }
  buffer_.resize(static_cast<size_t>(n));
  pos_ = 0;
  return true;
}

void StreamReader::bytes(uint8_t* data, size_t len) {
  while (len > 0) {
    if (!fill()) {
      std::memset(data, 0, len);
      return;
    }
    const size_t n = std::min(len, buffer_.size() - pos_);
    std::memcpy(data, buffer_.data() + pos_, n);
    pos_ += n;
    read_ += n;
    data += n;
    len -= n;
  }
}

uint8_t StreamReader::u8() {
  uint8_t v = 0;
  bytes(&v, 1);
  return v;
}

uint32_t StreamReader::u32() {
  uint8_t b[4];
  bytes(b, 4);
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

uint64_t StreamReader::u64() {
  uint8_t b[8];
  bytes(b, 8);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

std::string StreamReader::str() {
  const uint8_t len = u8();
  std::string s(len, '\0');
  bytes(reinterpret_cast<uint8_t*>(s.data()), len);
  return ok() ? s : std::string();
}

bool StreamReader::at_eof() {
  if (!ok() || pos_ < buffer_.size()) return false;
  if (!channel_) return true;
  buffer_.resize(kReadBuffer);
  const ssize_t n = channel_->read_some(buffer_.data(), buffer_.size());
  if (n <= 0) {
    buffer_.clear();
    return n == 0;
  }
  buffer_.resize(static_cast<size_t>(n));
  pos_ = 0;
  return false;
}

}  // namespace ferry
