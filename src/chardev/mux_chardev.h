// MuxChardev: one host chardev shared by several frontends — QEMU's "mon:"
// mux, as used by -nographic: the serial console and the human monitor on
// one terminal.
//
// Output from every frontend goes to the backend as it comes (guest output
// keeps flowing while the monitor has the focus). Input goes to the frontend
// with the focus (initially the first one added), except the escape
// sequences, as in QEMU:
//   Ctrl-A h   print the help
//   Ctrl-A x   print "ferry: terminated" and call the quit handler
//   Ctrl-A c   move the focus to the next frontend (console <-> monitor)
//   Ctrl-A Ctrl-A   send one Ctrl-A to the frontend with the focus
// Any other byte after Ctrl-A is dropped. A focus change delivers
// kFocusOut to the old frontend and kFocusIn to the new one; backend
// kOpened/kClosed go to every frontend.
//
// Threading: main thread, except the frontends' write(), which forwards to
// the backend's (any thread). Frontends live as long as the mux.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chardev/chardev.h"

namespace ferry {

class MuxChardev {
 public:
  static constexpr uint8_t kEscapeChar = 0x01;  // Ctrl-A

  explicit MuxChardev(std::unique_ptr<Chardev> backend);
  ~MuxChardev();
  MuxChardev(const MuxChardev&) = delete;
  MuxChardev& operator=(const MuxChardev&) = delete;

  // Adds a frontend; the mux owns it. Add the serial console first so it
  // has the focus at start, as in QEMU.
  Chardev& add_frontend();
  size_t frontend_count() const { return frontends_.size(); }
  Chardev& frontend(size_t index);

  void set_focus(size_t index);
  size_t focus() const { return focus_; }

  // Called after Ctrl-A x printed its message (e.g. VmControl::quit).
  void set_quit_handler(std::function<void()> handler) { quit_handler_ = std::move(handler); }

  Chardev& backend() { return *backend_; }

  // Processes bytes as if they came from the backend (tests use it too).
  void handle_input(const uint8_t* data, size_t len);

 private:
  class Frontend;

  void print_help();
  void on_backend_event(ChardevEvent event);

  std::unique_ptr<Chardev> backend_;
  std::vector<std::unique_ptr<Frontend>> frontends_;
  size_t focus_ = 0;
  bool escape_pending_ = false;
  std::function<void()> quit_handler_;
};

}  // namespace ferry
