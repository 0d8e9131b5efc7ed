#include "monitor/command_registry.h"

#include <exception>
#include <utility>

namespace ferry {
namespace {

std::string_view type_name(ArgType t) {
  switch (t) {
    case ArgType::kAny: return "any";
    case ArgType::kString: return "string";
    case ArgType::kInt: return "integer";
    case ArgType::kBool: return "boolean";
    case ArgType::kNumber: return "number";
    case ArgType::kObject: return "object";
    case ArgType::kArray: return "array";
  }
  return "any";
}

bool type_matches(ArgType t, const QmpJson& v) {
  switch (t) {
    case ArgType::kAny: return true;
    case ArgType::kString: return v.is_string();
    case ArgType::kInt: return v.is_number_integer();
    case ArgType::kBool: return v.is_boolean();
    case ArgType::kNumber: return v.is_number();
    case ArgType::kObject: return v.is_object();
    case ArgType::kArray: return v.is_array();
  }
  return false;
}

// "cont|c" matches "cont" and "c".
bool name_matches(std::string_view names, std::string_view word) {
  while (true) {
    size_t bar = names.find('|');
    if (names.substr(0, bar) == word) return true;
    if (bar == std::string_view::npos) return false;
    names.remove_prefix(bar + 1);
  }
}

const HmpCommand* find_in(const std::map<std::string, HmpCommand, std::less<>>& table,
                          std::string_view word) {
  if (word.empty()) return nullptr;
  for (const auto& [key, cmd] : table) {
    if (name_matches(cmd.name, word)) return &cmd;
  }
  return nullptr;
}

std::vector<const HmpCommand*> list(const std::map<std::string, HmpCommand, std::less<>>& table) {
  std::vector<const HmpCommand*> out;
  for (const auto& [key, cmd] : table) out.push_back(&cmd);
  return out;
}

std::string primary_name(const std::string& names) { return names.substr(0, names.find('|')); }

}  // namespace

std::string check_arguments(const std::vector<ArgSpec>& spec, const QmpJson& args) {
  for (const ArgSpec& a : spec) {
    auto it = args.find(a.name);
    if (it == args.end()) {
      if (!a.optional) return "Parameter '" + a.name + "' is missing";
      continue;
    }
    if (!type_matches(a.type, *it)) {
      return "Invalid parameter type for '" + a.name + "', expected: " +
             std::string(type_name(a.type));
    }
  }
  for (auto it = args.begin(); it != args.end(); ++it) {
    bool known = false;
    for (const ArgSpec& a : spec) known = known || a.name == it.key();
    if (!known) return "Parameter '" + it.key() + "' is unexpected";
  }
  return "";
}

void CommandRegistry::add(std::string name, std::vector<ArgSpec> args, QmpHandler handler,
                          CommandOptions options) {
  for (ArgSpec& a : args) {
    if (!a.name.empty() && a.name[0] == '*') {
      a.name.erase(0, 1);
      a.optional = true;
    }
  }
  QmpCommand cmd{name, std::move(args), options, std::move(handler)};
  qmp_.insert_or_assign(std::move(name), std::move(cmd));
}

bool CommandRegistry::has_command(std::string_view name) const {
  return qmp_.find(name) != qmp_.end();
}

const QmpCommand* CommandRegistry::find(std::string_view name) const {
  auto it = qmp_.find(name);
  return it == qmp_.end() ? nullptr : &it->second;
}

std::vector<std::string> CommandRegistry::command_names() const {
  std::vector<std::string> names;
  for (const auto& [name, cmd] : qmp_) names.push_back(name);
  return names;
}

CommandResult CommandRegistry::execute(std::string_view name, const QmpJson& args,
                                       CommandContext& ctx) const {
  const QmpCommand* cmd = find(name);
  if (!cmd) {
    return QmpError{ErrorClass::kCommandNotFound,
                    "The command " + std::string(name) + " has not been found"};
  }
  static const QmpJson kNoArgs = QmpJson::object();
  const QmpJson& checked = args.is_null() ? kNoArgs : args;
  if (!checked.is_object()) return generic_error("QMP input member 'arguments' must be an object");
  if (!cmd->options.any_arguments) {
    std::string why = check_arguments(cmd->args, checked);
    if (!why.empty()) return generic_error(why);
  }
  // The handler may re-register commands (replacing `cmd`): keep a copy.
  QmpHandler handler = cmd->handler;
  try {
    return handler(checked, ctx);
  } catch (const std::exception& e) {
    return generic_error(e.what());
  }
}

void CommandRegistry::add_hmp(std::string name, std::string params, std::string help,
                              HmpHandler handler) {
  std::string key = primary_name(name);
  hmp_.insert_or_assign(key, HmpCommand{std::move(name), std::move(params), std::move(help),
                                        std::move(handler)});
}

void CommandRegistry::add_hmp_info(std::string name, std::string help, HmpHandler handler) {
  std::string key = primary_name(name);
  hmp_info_.insert_or_assign(key, HmpCommand{std::move(name), "", std::move(help),
                                             std::move(handler)});
}

const HmpCommand* CommandRegistry::find_hmp(std::string_view word) const {
  return find_in(hmp_, word);
}

const HmpCommand* CommandRegistry::find_hmp_info(std::string_view word) const {
  return find_in(hmp_info_, word);
}

std::vector<const HmpCommand*> CommandRegistry::hmp_commands() const { return list(hmp_); }

std::vector<const HmpCommand*> CommandRegistry::hmp_info_commands() const {
  return list(hmp_info_);
}

}  // namespace ferry
