#include "chardev/serial_console.h"

#include <utility>

namespace ferry {

SerialConsole::SerialConsole(Chardev* chardev) : chardev_(chardev) {
  buffer_.reserve(kBufferSize);
}

SerialConsole::~SerialConsole() {
  flush();
  if (chardev_) chardev_->set_handlers({});
}

void SerialConsole::write_bytes(const uint8_t* data, size_t len) {
  if (!chardev_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (buffer_.size() + len > kBufferSize) {
    flush_locked();
    if (len >= kBufferSize) {
      chardev_->write(data, len);
      return;
    }
  }
  buffer_.insert(buffer_.end(), data, data + len);
}

void SerialConsole::flush() {
  if (!chardev_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  flush_locked();
}

void SerialConsole::flush_locked() {
  if (buffer_.empty()) return;
  chardev_->write(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void SerialConsole::set_input_handler(
    std::function<void(const uint8_t* data, size_t len)> handler) {
  if (!chardev_) return;
  chardev_->set_handlers(ChardevHandlers{std::move(handler), nullptr});
}

}  // namespace ferry
