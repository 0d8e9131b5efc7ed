// HmpCall: one human-monitor command being run — its arguments, the way
// to reach the QMP implementation, and the text it prints.
//
// Arguments are the words after the command name, split at whitespace;
// double quotes group words and backslash escapes inside them ("a b\"c").
// qmp() runs a QMP command through the registry (same argument checks as
// QMP) and, on error, prints "Error: <desc>" the way QEMU's HMP does and
// returns nullopt. Output uses "\n"; the monitor turns it into "\r\n".
// A command that runs for long (HMP `migrate` without -d) may flush() what
// it printed so far: with a flush sink (the human monitor sets one) the
// text goes out at once, otherwise it stays in output().
//
// Threading: main thread, inside the monitor's dispatch.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "monitor/command_context.h"
#include "monitor/command_registry.h"
#include "monitor/qmp_json.h"

namespace ferry {

class HmpCall {
 public:
  HmpCall(const CommandRegistry& registry, CommandContext& ctx, std::string command,
          std::string arg_text);

  // The word that named the command (maybe an alias), e.g. "c".
  const std::string& command() const { return command_; }
  // Everything after the command name, trimmed.
  const std::string& arg_text() const { return arg_text_; }
  const std::vector<std::string>& args() const { return args_; }
  // False when the quoting was unbalanced.
  bool args_ok() const { return args_ok_; }

  const CommandRegistry& registry() const { return registry_; }
  CommandContext& context() { return ctx_; }

  std::optional<QmpJson> qmp(std::string_view name, const QmpJson& args = QmpJson::object());

  void print(std::string_view text) { output_ += text; }
  // Prints "Error: <desc>\n".
  void error(std::string_view desc);
  const std::string& output() const { return output_; }
  void set_flush_sink(std::function<void(std::string_view)> sink) {
    flush_sink_ = std::move(sink);
  }
  void flush();

  // Splits `text` the way args() is built; false on an unclosed quote.
  static bool split_args(std::string_view text, std::vector<std::string>* out);

 private:
  const CommandRegistry& registry_;
  CommandContext& ctx_;
  std::string command_;
  std::string arg_text_;
  std::vector<std::string> args_;
  bool args_ok_ = true;
  std::string output_;
  std::function<void(std::string_view)> flush_sink_;
};

// Runs one line of the human monitor ("info cpus") and returns what it
// printed; for the human monitor and QMP's human-monitor-command.
std::string run_hmp_line(const CommandRegistry& registry, CommandContext& ctx,
                         std::string_view line,
                         const std::function<void(std::string_view)>& flush = {});

}  // namespace ferry
