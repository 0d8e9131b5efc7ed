#include "monitor/vm_commands.h"

#include <string>

#include "monitor/hmp_call.h"

namespace ferry {
namespace {

void simple_hmp(CommandRegistry& registry, const char* names, const char* help,
                const char* qmp_name) {
  std::string qmp = qmp_name;
  registry.add_hmp(names, "", help, [qmp](HmpCall& call) { call.qmp(qmp); });
}

}  // namespace

void register_vm_commands(CommandRegistry& registry, VmControl& vm) {
  VmControl* v = &vm;

  registry.add("query-status", [v](const QmpJson&, CommandContext&) -> CommandResult {
    QmpJson out = QmpJson::object();
    out["status"] = std::string(run_state_name(v->run_state()));
    out["singlestep"] = false;
    out["running"] = v->is_running();
    return out;
  });
  registry.add("stop", [v](const QmpJson&, CommandContext&) -> CommandResult {
    v->stop();
    return QmpJson::object();
  });
  registry.add("cont", [v](const QmpJson&, CommandContext&) -> CommandResult {
    RunState s = v->run_state();
    if (s == RunState::kShutdown || s == RunState::kGuestPanicked) {
      return generic_error("Resetting the Virtual Machine is required");
    }
    v->cont();
    return QmpJson::object();
  });
  registry.add("system_reset", [v](const QmpJson&, CommandContext&) -> CommandResult {
    v->system_reset();
    return QmpJson::object();
  });
  registry.add("quit", [v](const QmpJson&, CommandContext&) -> CommandResult {
    v->quit();
    return QmpJson::object();
  });
  registry.add("query-name", [v](const QmpJson&, CommandContext&) -> CommandResult {
    QmpJson out = QmpJson::object();
    std::string name = v->name();
    if (!name.empty()) out["name"] = name;
    return out;
  });

  simple_hmp(registry, "stop|s", "stop emulation", "stop");
  simple_hmp(registry, "cont|c", "resume emulation", "cont");
  simple_hmp(registry, "system_reset", "reset the system", "system_reset");
  simple_hmp(registry, "quit|q", "quit the emulator", "quit");

  registry.add_hmp_info("status", "show the current VM status (running|paused)",
                        [](HmpCall& call) {
                          auto r = call.qmp("query-status");
                          if (!r) return;
                          bool running = (*r)["running"].get<bool>();
                          std::string status = (*r)["status"].get<std::string>();
                          std::string text = "VM status: ";
                          text += running ? "running" : "paused";
                          if ((*r)["singlestep"].get<bool>()) text += " (single step mode)";
                          if (!running && status != "paused") text += " (" + status + ")";
                          call.print(text + "\n");
                        });
  registry.add_hmp_info("name", "show the current VM name", [](HmpCall& call) {
    auto r = call.qmp("query-name");
    if (!r) return;
    if (r->contains("name")) call.print((*r)["name"].get<std::string>() + "\n");
  });
}

}  // namespace ferry
