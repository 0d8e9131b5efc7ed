#include "monitor/net_commands.h"

#include "monitor/hmp_call.h"

namespace ferry {
namespace {

QmpJson nic_json(const NicInfo& n) {
  return {{"name", n.name},         {"netdev", n.netdev},       {"backend", n.backend},
          {"mac", n.mac},           {"link-up", n.link_up},     {"rx-frames", n.rx_frames},
          {"tx-frames", n.tx_frames}, {"rx-dropped", n.rx_dropped},
          {"tx-dropped", n.tx_dropped}, {"announces", n.announces}};
}

}  // namespace

void register_net_commands(CommandRegistry& registry, VmControl& vm,
                           std::function<AnnounceParams()> migration_announce_params) {
  VmControl* v = &vm;

  registry.add("announce-self",
               {{"initial", ArgType::kInt},
                {"max", ArgType::kInt},
                {"rounds", ArgType::kInt},
                {"step", ArgType::kInt},
                {"*interfaces", ArgType::kArray},
                {"*id", ArgType::kString}},
               [v](const QmpJson& args, CommandContext&) -> CommandResult {
                 AnnounceParams params;
                 std::string error;
                 if (!parse_announce_params(args, "", &params, &error)) return generic_error(error);
                 std::vector<std::string> names;
                 if (args.contains("interfaces"))
                   for (const QmpJson& name : args["interfaces"]) {
                     if (!name.is_string())
                       return generic_error("Parameter 'interfaces' expects a list of names");
                     names.push_back(name.get<std::string>());
                   }
                 error = v->announce_self(params, names);
                 if (!error.empty()) return generic_error(error);
                 return QmpJson::object();
               });

  registry.add("set_link", {{"name", ArgType::kString}, {"up", ArgType::kBool}},
               [v](const QmpJson& args, CommandContext&) -> CommandResult {
                 const std::string name = args["name"].get<std::string>();
                 if (!v->set_link(name, args["up"].get<bool>()))
                   return generic_error("Device '" + name + "' not found");
                 return QmpJson::object();
               });

  registry.add("query-ferry-nics", [v](const QmpJson&, CommandContext&) -> CommandResult {
    QmpJson out = QmpJson::array();
    for (const NicInfo& n : v->query_nics()) out.push_back(nic_json(n));
    return out;
  });

  registry.add_hmp_info("network", "show the network state", [](HmpCall& call) {
    auto r = call.qmp("query-ferry-nics");
    if (!r) return;
    for (const QmpJson& n : *r) {
      call.print(n["name"].get<std::string>() + ": type=nic,model=virtio-net-device,macaddr=" +
                 n["mac"].get<std::string>() + ",link=" +
                 (n["link-up"].get<bool>() ? "up" : "down") +
                 " rx=" + std::to_string(n["rx-frames"].get<uint64_t>()) +
                 " tx=" + std::to_string(n["tx-frames"].get<uint64_t>()) +
                 " dropped(rx/tx)=" + std::to_string(n["rx-dropped"].get<uint64_t>()) + "/" +
                 std::to_string(n["tx-dropped"].get<uint64_t>()) + "\n");
      call.print(" \\ " + n["netdev"].get<std::string>() + ": " + n["backend"].get<std::string>() +
                 "\n");
    }
  });

  registry.add_hmp("set_link", "name on|off", "change the link status of a network adapter",
                   [](HmpCall& call) {
                     if (call.args().size() != 2 ||
                         (call.args()[1] != "on" && call.args()[1] != "off")) {
                       call.error("usage: set_link name on|off");
                       return;
                     }
                     QmpJson args = {{"name", call.args()[0]}, {"up", call.args()[1] == "on"}};
                     call.qmp("set_link", args);
                   });

  registry.add_hmp("announce_self", "[interfaces] [id]",
                   "trigger GARP/RARP announcements (on the migration's announce-* schedule)",
                   [migration_announce_params](HmpCall& call) {
                     const AnnounceParams p = migration_announce_params();
                     QmpJson args = {{"initial", p.initial_ms},
                                     {"max", p.max_ms},
                                     {"rounds", p.rounds},
                                     {"step", p.step_ms}};
                     if (!call.args().empty()) {
                       QmpJson names = QmpJson::array();
                       std::string list = call.args()[0];
                       for (size_t at = 0; at <= list.size();) {
                         const size_t comma = std::min(list.find(',', at), list.size());
                         if (comma > at) names.push_back(list.substr(at, comma - at));
                         at = comma + 1;
                       }
                       args["interfaces"] = names;
                     }
                     call.qmp("announce-self", args);
                   });
}

}  // namespace ferry
