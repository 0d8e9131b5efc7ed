#include "monitor/monitor_commands.h"

#include <string>

#include "monitor/hmp_call.h"

namespace ferry {
namespace {

// One help line as QEMU prints it: "cont|c  -- resume emulation".
std::string help_line(std::string_view prefix, const HmpCommand& cmd) {
  return std::string(prefix) + cmd.name + " " + cmd.params + " -- " + cmd.help + "\n";
}

CommandResult qmp_capabilities(const QmpJson& args, CommandContext& ctx) {
  QmpSessionState* session = ctx.qmp_session();
  if (!session) return generic_error("qmp_capabilities is only available on a QMP monitor");
  if (session->negotiated) {
    return QmpError{ErrorClass::kCommandNotFound,
                    "Capabilities negotiation is already complete, command ignored"};
  }
  bool oob = false;
  if (auto it = args.find("enable"); it != args.end()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const QmpJson& cap = (*it)[i];
      std::string where = "enable[" + std::to_string(i) + "]";
      if (!cap.is_string()) {
        return generic_error("Invalid parameter type for '" + where + "', expected: string");
      }
      if (cap.get<std::string>() != "oob") {
        return generic_error("Parameter '" + where + "' does not accept value '" +
                             cap.get<std::string>() + "'");
      }
      oob = true;
    }
  }
  session->negotiated = true;
  session->oob_enabled = oob;
  return QmpJson::object();
}

QmpJson version_json(const VersionInfo& v) {
  QmpJson qemu = QmpJson::object();
  qemu["micro"] = v.micro;
  qemu["minor"] = v.minor;
  qemu["major"] = v.major;
  QmpJson out = QmpJson::object();
  out["qemu"] = std::move(qemu);
  out["package"] = v.package;
  return out;
}

void hmp_help(HmpCall& call) {
  const CommandRegistry& reg = call.registry();
  if (call.args().empty()) {
    for (const HmpCommand* cmd : reg.hmp_commands()) call.print(help_line("", *cmd));
    return;
  }
  const std::string& word = call.args()[0];
  const HmpCommand* cmd = reg.find_hmp(word);
  if (!cmd) {
    call.print("unknown command: '" + word + "'\n");
    return;
  }
  if (cmd->name == "info") {
    if (call.args().size() > 1) {
      const HmpCommand* sub = reg.find_hmp_info(call.args()[1]);
      if (!sub) {
        call.print("unknown command: 'info " + call.args()[1] + "'\n");
      } else {
        call.print(help_line("info ", *sub));
      }
      return;
    }
    for (const HmpCommand* sub : reg.hmp_info_commands()) call.print(help_line("info ", *sub));
    return;
  }
  call.print(help_line("", *cmd));
}

void hmp_info(HmpCall& call) {
  const CommandRegistry& reg = call.registry();
  if (call.args().empty()) {
    for (const HmpCommand* sub : reg.hmp_info_commands()) call.print(help_line("info ", *sub));
    return;
  }
  const std::string& word = call.args()[0];
  const HmpCommand* sub = reg.find_hmp_info(word);
  if (!sub) {
    call.print("unknown command: 'info " + word + "'\n");
    return;
  }
  std::string rest = call.arg_text().substr(call.arg_text().find(word) + word.size());
  size_t start = rest.find_first_not_of(" \t");
  rest = start == std::string::npos ? "" : rest.substr(start);
  HmpCall inner(reg, call.context(), word, rest);
  HmpHandler handler = sub->handler;
  handler(inner);
  call.print(inner.output());
}

}  // namespace

void register_monitor_commands(CommandRegistry& registry, const VersionInfo& version) {
  registry.add("qmp_capabilities", {{"*enable", ArgType::kArray}}, qmp_capabilities);

  const CommandRegistry* reg = &registry;
  registry.add("query-commands", [reg](const QmpJson&, CommandContext&) -> CommandResult {
    QmpJson list = QmpJson::array();
    for (const std::string& name : reg->command_names()) {
      QmpJson entry = QmpJson::object();
      entry["name"] = name;
      list.push_back(std::move(entry));
    }
    return list;
  });

  registry.add("query-version", [version](const QmpJson&, CommandContext&) -> CommandResult {
    return version_json(version);
  });

  // QEMU's way for QMP clients to reach the human monitor's commands.
  registry.add("human-monitor-command",
               {{"command-line", ArgType::kString}, {"*cpu-index", ArgType::kInt}},
               [reg](const QmpJson& args, CommandContext& ctx) -> CommandResult {
                 return QmpJson(run_hmp_line(*reg, ctx,
                                             args["command-line"].get<std::string>()));
               });

  registry.add_hmp("help|?", "[cmd]", "show the help", hmp_help);
  registry.add_hmp("info", "[subcommand]", "show various information about the system state",
                   hmp_info);
  registry.add_hmp_info("version", "show the version of ferry", [](HmpCall& call) {
    auto v = call.qmp("query-version");
    if (!v) return;
    const QmpJson& q = (*v)["qemu"];
    call.print(std::to_string(q["major"].get<int64_t>()) + "." +
               std::to_string(q["minor"].get<int64_t>()) + "." +
               std::to_string(q["micro"].get<int64_t>()) + " (" +
               (*v)["package"].get<std::string>() + ")\n");
  });
}

}  // namespace ferry
