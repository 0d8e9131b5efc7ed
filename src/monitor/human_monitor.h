// HumanMonitor: QEMU's human monitor (HMP) on a chardev (-monitor SPEC, or
// the monitor side of the -nographic mux).
//
// Shows "ferry monitor - type 'help' for more information" and the prompt
// "(ferry) " when a client connects (on a mux: the first time it gets the
// focus; later focus changes show just the prompt), reads lines, and runs
// each through the CommandRegistry's HMP table: the first word names the
// command (or an alias), the rest are its arguments. Unknown commands print
// "unknown command: 'xyz'". Output goes out with "\r\n" line ends, as
// QEMU's monitor writes it. On a terminal the monitor echoes what is typed
// and supports Backspace, Ctrl-U and history; on pipes and sockets it does
// not echo.
//
// File descriptors a client passes over a UNIX socket land in context()
// (for `getfd`).
//
// Threading: main thread only. The chardev must outlive the monitor.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "chardev/chardev.h"
#include "monitor/command_context.h"
#include "monitor/command_registry.h"
#include "monitor/line_editor.h"

namespace ferry {

class HumanMonitor {
 public:
  static constexpr std::string_view kPrompt = "(ferry) ";
  static constexpr std::string_view kGreeting =
      "ferry monitor - type 'help' for more information\n";

  HumanMonitor(Chardev& chardev, const CommandRegistry& registry);
  ~HumanMonitor();
  HumanMonitor(const HumanMonitor&) = delete;
  HumanMonitor& operator=(const HumanMonitor&) = delete;

  // Runs one command line; returns what it printed ("\n" line ends). What
  // the command flushes while it runs goes to `flush` instead, when given.
  std::string execute(std::string_view line,
                      const std::function<void(std::string_view)>& flush = {});

  CommandContext& context() { return ctx_; }

 private:
  void on_event(ChardevEvent event);
  void on_input(const uint8_t* data, size_t len);
  // Writes `text` with "\n" turned into "\r\n".
  void print(std::string_view text);
  void show_prompt();

  Chardev& chardev_;
  const CommandRegistry& registry_;
  CommandContext ctx_{CommandContext::Kind::kHmp};
  LineEditor editor_;
  bool greeting_pending_ = false;
};

}  // namespace ferry
