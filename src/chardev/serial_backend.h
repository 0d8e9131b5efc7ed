// SerialBackend: where a UART's transmitted bytes go (terminal, file, null).
// Called on the vCPU thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry {

class SerialBackend {
 public:
  virtual ~SerialBackend() = default;
  virtual void write_bytes(const uint8_t* data, size_t len) = 0;
  // Pushes buffered output to the host (called at the end of each run slice).
  virtual void flush() {}
};

}  // namespace ferry
