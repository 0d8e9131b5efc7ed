// Chardev: a host character device (QEMU's "chardev") — the host side of a
// serial console or a monitor: stdio, a file, a socket, a mux…
//
// A chardev moves bytes both ways:
//   - output: `write()` sends bytes to the host (terminal, file, client);
//   - input:  bytes from the host arrive through the `on_input` handler;
//   - events: `on_event` reports a client connecting (kOpened) or leaving
//     (kClosed), and for mux frontends gaining/losing the focus.
//
// Threading: `write()` and `flush_output()` may be called from any thread
// (the serial console writes from the vCPU thread) and are internally
// locked. Everything else — `set_handlers`, `take_received_fds`,
// `disconnect` — belongs to the main (event loop) thread, and handlers are
// always called on it.
//
// Lifetime: a chardev must outlive every thread that writes to it; destroy
// it on the main thread after the vCPU has stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

enum class ChardevEvent {
  kOpened,    // ready for use / a client connected
  kClosed,    // the client went away (sockets)
  kFocusIn,   // mux frontend: now receives the input
  kFocusOut,  // mux frontend: no longer receives the input
};

struct ChardevHandlers {
  std::function<void(const uint8_t* data, size_t len)> on_input;
  std::function<void(ChardevEvent event)> on_event;
};

class Chardev {
 public:
  virtual ~Chardev() = default;

  // Main thread. Replaces the handlers. When the device is already open
  // (stdio, null, a connected client), kOpened is delivered right away.
  void set_handlers(ChardevHandlers handlers);

  // Any thread. Sends bytes to the host; dropped when nobody is connected.
  virtual void write(const uint8_t* data, size_t len) = 0;
  void write(std::string_view text) {
    write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }
  // Any thread. Waits (boundedly) until buffered output reached the host.
  virtual void flush_output() {}

  // True when written bytes go somewhere (a client is connected…).
  virtual bool is_open() const = 0;
  // True for an interactive terminal (the monitor then echoes its input).
  virtual bool is_tty() const { return false; }
  // Mux frontends: true while this frontend receives the input.
  virtual bool has_focus() const { return true; }

  // Main thread. File descriptors received with the input so far (UNIX
  // sockets, SCM_RIGHTS), oldest first; the caller owns them afterwards.
  virtual std::vector<int> take_received_fds() { return {}; }
  // Main thread. Drops the current client of a server socket.
  virtual void disconnect() {}

  // What the user wrote, e.g. "stdio" or "unix:/tmp/qmp.sock,server=on".
  virtual std::string label() const = 0;

 protected:
  // For implementations, main thread only.
  void deliver_input(const uint8_t* data, size_t len);
  void deliver_event(ChardevEvent event);

 private:
  ChardevHandlers handlers_;
};

}  // namespace ferry
