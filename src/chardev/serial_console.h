// SerialConsole: connects a UART model (through SerialBackend) to a host
// chardev.
//
// Output: write_bytes() collects the guest's bytes in a small buffer that
// goes to the chardev when it fills (4 KiB) or on flush(), which the vCPU
// calls at the end of each run slice. Input: the handler installed with
// set_input_handler() receives the bytes typed on the host side.
//
// Threading: write_bytes()/flush() on the vCPU thread (locked, so any
// thread works); set_input_handler() on the main thread, and the handler
// runs on the main thread. The chardev must outlive the SerialConsole.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "chardev/chardev.h"
#include "chardev/serial_backend.h"

namespace ferry {

class SerialConsole : public SerialBackend {
 public:
  static constexpr size_t kBufferSize = 4096;

  // `chardev` may be null: output is discarded, input never comes.
  explicit SerialConsole(Chardev* chardev);
  ~SerialConsole() override;

  void write_bytes(const uint8_t* data, size_t len) override;
  void flush() override;

  void set_input_handler(std::function<void(const uint8_t* data, size_t len)> handler);

 private:
  void flush_locked();

  Chardev* chardev_;
  std::mutex mutex_;
  std::vector<uint8_t> buffer_;
};

}  // namespace ferry
