#include "monitor/vm_commands.h"

#include <cinttypes>
#include <cstdio>
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

  registry.add("query-cpus-fast", [v](const QmpJson&, CommandContext&) -> CommandResult {
    QmpJson out = QmpJson::array();
    for (const CpuInfo& cpu : v->query_cpus(false)) {
      QmpJson entry = QmpJson::object();
      entry["cpu-index"] = cpu.index;
      entry["qom-path"] = "/machine/soc0/harts[" + std::to_string(cpu.index) + "]";
      entry["thread-id"] = cpu.thread_id;
      entry["target"] = "riscv64";
      entry["props"] = {{"socket-id", 0}, {"core-id", cpu.index}};
      // Beyond QEMU's fields: where each hart is, for watching a guest.
      entry["ferry-pc"] = cpu.pc;
      entry["ferry-halted"] = cpu.halted;
      out.push_back(std::move(entry));
    }
    return out;
  });

  registry.add_hmp_info("cpus", "show infos for each CPU", [](HmpCall& call) {
    auto r = call.qmp("query-cpus-fast");
    if (!r) return;
    for (const auto& cpu : *r) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%c CPU #%u: pc=0x%016" PRIx64 "%s thread_id=%" PRId64 "\n",
                    cpu["cpu-index"].get<unsigned>() == 0 ? '*' : ' ',
                    cpu["cpu-index"].get<unsigned>(), cpu["ferry-pc"].get<uint64_t>(),
                    cpu["ferry-halted"].get<bool>() ? " (halted)" : "",
                    cpu["thread-id"].get<int64_t>());
      call.print(buf);
    }
  });
  // QEMU's spelling: the monitor's CPU (#0), or every CPU with -a.
  registry.add_hmp_info("registers", "show the cpu registers (-a: all CPUs)",
                        [v](HmpCall& call) {
                          const bool all = !call.args().empty() && call.args()[0] == "-a";
                          if (!call.args().empty() && !all) {
                            call.error("info registers: unknown option '" + call.args()[0] +
                                       "' (only -a)");
                            return;
                          }
                          for (const CpuInfo& cpu : v->query_cpus(true)) {
                            if (!all && cpu.index != 0) break;
                            if (all) call.print("\nCPU#" + std::to_string(cpu.index) + "\n");
                            call.print(cpu.registers);
                          }
                        });

  registry.add_hmp_info("pic", "show PIC state", [v](HmpCall& call) {
    call.print(v->describe_interrupt_controllers());
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
