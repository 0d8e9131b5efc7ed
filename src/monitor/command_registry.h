// CommandRegistry: the one table of monitor commands that both monitors use.
//
// QMP commands are registered by name with an argument schema and a
// handler taking the arguments object and the caller's CommandContext.
// execute() looks the command up, checks the arguments against the schema
// with QEMU's messages, and runs the handler:
//   unknown command     CommandNotFound "The command X has not been found"
//   missing argument    GenericError "Parameter 'x' is missing"
//   wrong JSON type     GenericError "Invalid parameter type for 'x', expected: integer"
//   unknown argument    GenericError "Parameter 'x' is unexpected"
// A handler that throws std::exception yields a GenericError with what().
//
// Human monitor (HMP) commands are registered separately with the help
// text QEMU shows; their handlers normally call the QMP command through
// HmpCall::qmp() and format the result, so both monitors share one
// implementation. `info` subcommands have their own table.
//
// Registration is open: later subsystems (migration…) add their commands
// at any time; adding a name again replaces the earlier entry.
//
// Threading: main thread only (registration and execution).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/command_context.h"
#include "monitor/command_result.h"
#include "monitor/qmp_json.h"

namespace ferry {

class HmpCall;

enum class ArgType {
  kAny,     // any JSON value
  kString,  // "string"
  kInt,     // "integer" (JSON integer)
  kBool,    // "boolean"
  kNumber,  // "number" (integer or float)
  kObject,  // "object"
  kArray,   // "array"
};

// One argument of a QMP command. A name starting with '*' is optional
// (QAPI's spelling), as is `optional = true`: {"*detach", ArgType::kBool}.
struct ArgSpec {
  std::string name;
  ArgType type = ArgType::kAny;
  bool optional = false;
};

struct CommandOptions {
  bool allow_oob = false;      // may run with "exec-oob"
  bool any_arguments = false;  // skip the schema check (handler validates)
};

using QmpHandler = std::function<CommandResult(const QmpJson& args, CommandContext& ctx)>;
using HmpHandler = std::function<void(HmpCall& call)>;

struct QmpCommand {
  std::string name;
  std::vector<ArgSpec> args;  // normalised: no '*' in names
  CommandOptions options;
  QmpHandler handler;
};

struct HmpCommand {
  std::string name;    // "cont|c": the first is the name, the rest aliases
  std::string params;  // shown in help, e.g. "[-d] uri"
  std::string help;    // one line, e.g. "resume emulation"
  HmpHandler handler;
};

class CommandRegistry {
 public:
  // QMP.
  void add(std::string name, std::vector<ArgSpec> args, QmpHandler handler,
           CommandOptions options = {});
  void add(std::string name, QmpHandler handler) { add(std::move(name), {}, std::move(handler)); }
  bool has_command(std::string_view name) const;
  const QmpCommand* find(std::string_view name) const;
  // Names of every QMP command, sorted (query-commands).
  std::vector<std::string> command_names() const;
  // Checks the arguments and runs the command.
  CommandResult execute(std::string_view name, const QmpJson& args, CommandContext& ctx) const;

  // HMP.
  void add_hmp(std::string name, std::string params, std::string help, HmpHandler handler);
  void add_hmp_info(std::string name, std::string help, HmpHandler handler);
  // Looks a word up among names and aliases; null when unknown.
  const HmpCommand* find_hmp(std::string_view word) const;
  const HmpCommand* find_hmp_info(std::string_view word) const;
  // Sorted by name, as QEMU's help lists them.
  std::vector<const HmpCommand*> hmp_commands() const;
  std::vector<const HmpCommand*> hmp_info_commands() const;

 private:
  std::map<std::string, QmpCommand, std::less<>> qmp_;
  std::map<std::string, HmpCommand, std::less<>> hmp_;
  std::map<std::string, HmpCommand, std::less<>> hmp_info_;
};

// Checks `args` (an object) against `spec`; returns the QEMU-worded
// GenericError message, or "" when they fit.
std::string check_arguments(const std::vector<ArgSpec>& spec, const QmpJson& args);

}  // namespace ferry
