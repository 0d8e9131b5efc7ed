#include "monitor/migration_commands.h"

#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "monitor/hmp_call.h"
#include "monitor/migration_hmp.h"

namespace ferry {
namespace {

bool starts_with_digit(std::string_view s) { return !s.empty() && s[0] >= '0' && s[0] <= '9'; }

// "fd:N": descriptor N as it is (QEMU's qemu_parse_fd); -1 when not a number.
int parse_fd_number(std::string_view s) {
  if (s.empty() || s.size() > 9) return -1;
  int fd = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    fd = fd * 10 + (c - '0');
  }
  return fd;
}

// A descriptor taken out of a monitor's named-fd store for one migration.
// The migration claims it through the FdResolver (maybe on its own thread);
// if it never does, the descriptor is closed when the resolver goes away.
class FdHandOver {
 public:
  FdHandOver(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~FdHandOver() {
    if (fd_ >= 0) close(fd_);
  }
  FdHandOver(const FdHandOver&) = delete;
  FdHandOver& operator=(const FdHandOver&) = delete;

  const std::string& name() const { return name_; }
  // The descriptor, once, for `name`; -1 otherwise.
  int claim(std::string_view name) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (name != name_ || fd_ < 0) return -1;
    return std::exchange(fd_, -1);
  }
  // Takes the descriptor back (the migration did not start); -1 if claimed.
  int reclaim() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(fd_, -1);
  }

 private:
  const std::string name_;
  std::mutex mutex_;
  int fd_;
};

// The FdResolver for `uri` on behalf of the monitor whose context is `ctx`.
// For "fd:NAME" the named descriptor is taken out of the context now (on
// the main thread) into *held, so that the resolver never touches the
// context, whichever thread calls it.
FdResolver make_fd_resolver(CommandContext& ctx, std::string_view uri,
                            std::shared_ptr<FdHandOver>* held) {
  held->reset();
  if (uri.substr(0, 3) == "fd:") {
    std::string name(uri.substr(3));
    if (!name.empty() && !starts_with_digit(name)) {
      int fd = ctx.take_named_fd(name);
      if (fd >= 0) *held = std::make_shared<FdHandOver>(name, fd);
    }
  }
  std::shared_ptr<FdHandOver> hand_over = *held;
  return [hand_over](const std::string& requested) -> int {
    std::string_view name = requested;
    if (name.substr(0, 3) == "fd:") name.remove_prefix(3);
    if (starts_with_digit(name)) return parse_fd_number(name);
    return hand_over ? hand_over->claim(name) : -1;
  };
}

// After a failed start: a named descriptor the migration didn't claim goes
// back into the monitor's store.
void give_back(CommandContext& ctx, const std::shared_ptr<FdHandOver>& held) {
  if (!held) return;
  int fd = held->reclaim();
  if (fd >= 0) ctx.set_named_fd(held->name(), fd);
}

bool arg_bool(const QmpJson& args, const char* name) {
  auto it = args.find(name);
  return it != args.end() && it->is_boolean() && it->get<bool>();
}

// QEMU's HMP complaint about the argument line, without "Error: ".
void usage_error(HmpCall& call, std::string_view command, std::string_view message) {
  call.print(std::string(message) + "\nTry \"help " + std::string(command) +
             "\" for more information\n");
}

// Exactly `n` word arguments, or QEMU's complaint.
bool want_args(HmpCall& call, std::string_view command, size_t n) {
  if (call.args().size() < n) {
    usage_error(call, command, std::string(command) + ": string expected");
    return false;
  }
  if (call.args().size() > n) {
    usage_error(call, command, std::string(command) + ": extraneous characters at the end of line");
    return false;
  }
  return true;
}

bool in_progress(MigrationStatus s) {
  return s == MigrationStatus::kSetup || s == MigrationStatus::kActive ||
         s == MigrationStatus::kCancelling;
}

void register_qmp(CommandRegistry& registry, MigrationManager* m,
                  MigrationManager::IncomingDone on_incoming_done) {
  registry.add(
      "migrate",
      {{"uri", ArgType::kString},
       {"*blk", ArgType::kBool},
       {"*inc", ArgType::kBool},
       {"*detach", ArgType::kBool},
       {"*resume", ArgType::kBool}},
      [m](const QmpJson& args, CommandContext& ctx) -> CommandResult {
        if (arg_bool(args, "resume")) {
          return generic_error("Cannot resume if there is no paused migration");
        }
        const std::string uri = args["uri"].get<std::string>();
        std::shared_ptr<FdHandOver> held;
        FdResolver fds = make_fd_resolver(ctx, uri, &held);
        std::string error;
        // QEMU's spelling: blk copies the disks, inc only what the top image holds.
        const BlockMigrationMode blocks = arg_bool(args, "inc")   ? BlockMigrationMode::kIncremental
                                          : arg_bool(args, "blk") ? BlockMigrationMode::kFull
                                                                  : BlockMigrationMode::kShared;
        if (!m->start(uri, fds, &error, blocks)) {
          give_back(ctx, held);
          return generic_error(error.empty() ? "migration failed to start" : error);
        }
        return QmpJson::object();
      });

  registry.add("migrate_cancel", [m](const QmpJson&, CommandContext&) -> CommandResult {
    m->cancel();
    return QmpJson::object();
  });

  registry.add("query-migrate", [m](const QmpJson&, CommandContext&) -> CommandResult {
    return m->query();
  });

  registry.add(
      "migrate-set-parameters", {},
      [m](const QmpJson& args, CommandContext&) -> CommandResult {
        std::string error;
        if (!m->set_parameters(args, &error)) return generic_error(error);
        return QmpJson::object();
      },
      CommandOptions{.any_arguments = true});

  registry.add("query-migrate-parameters", [m](const QmpJson&, CommandContext&) -> CommandResult {
    return m->query_parameters();
  });

  registry.add("migrate-set-capabilities", {{"capabilities", ArgType::kArray}},
               [m](const QmpJson& args, CommandContext&) -> CommandResult {
                 std::string error;
                 if (!m->set_capabilities(args["capabilities"], &error)) {
                   return generic_error(error);
                 }
                 return QmpJson::object();
               });

  registry.add("query-migrate-capabilities",
               [m](const QmpJson&, CommandContext&) -> CommandResult {
                 return m->query_capabilities();
               });

  registry.add("migrate-incoming", {{"uri", ArgType::kString}},
               [m, on_incoming_done](const QmpJson& args, CommandContext& ctx) -> CommandResult {
                 const std::string uri = args["uri"].get<std::string>();
                 std::shared_ptr<FdHandOver> held;
                 FdResolver fds = make_fd_resolver(ctx, uri, &held);
                 std::string error;
                 if (!m->start_incoming(uri, fds, on_incoming_done, &error)) {
                   give_back(ctx, held);
                   return generic_error(error.empty() ? "incoming migration failed to start"
                                                      : error);
                 }
                 return QmpJson::object();
               });

  registry.add("getfd", {{"fdname", ArgType::kString}},
               [](const QmpJson& args, CommandContext& ctx) -> CommandResult {
                 int fd = ctx.take_received_fd();
                 if (fd < 0) return generic_error("No file descriptor supplied via SCM_RIGHTS");
                 const std::string name = args["fdname"].get<std::string>();
                 if (starts_with_digit(name)) {
                   close(fd);
                   return generic_error(
                       "Parameter 'fdname' expects a name not starting with a digit");
                 }
                 ctx.set_named_fd(name, fd);
                 return QmpJson::object();
               });

  registry.add("closefd", {{"fdname", ArgType::kString}},
               [](const QmpJson& args, CommandContext& ctx) -> CommandResult {
                 const std::string name = args["fdname"].get<std::string>();
                 if (!ctx.close_named_fd(name)) {
                   return generic_error("File descriptor named '" + name + "' not found");
                 }
                 return QmpJson::object();
               });
}

// HMP `migrate` without -d: waits for the end, with progress lines.
void wait_for_migration(HmpCall& call, const MigrationManager& m) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto last_progress = started;
  call.flush();
  while (true) {
    MigrationStatus s = m.status();
    // start() normally leaves "setup" behind it; allow a moment if not.
    bool starting = s == MigrationStatus::kNone && Clock::now() - started < std::chrono::seconds(1);
    if (!in_progress(s) && !starting) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (Clock::now() - last_progress >= std::chrono::seconds(1)) {
      last_progress = Clock::now();
      if (auto info = call.qmp("query-migrate")) call.print(format_migrate_progress(*info));
      call.flush();
    }
  }
  auto info = call.qmp("query-migrate");
  if (!info) return;
  std::string status = info->value("status", std::string("none"));
  if (status == "failed") {
    auto desc = info->find("error-desc");
    call.error(desc != info->end() && desc->is_string() ? desc->get<std::string>()
                                                        : std::string("migration failed"));
    return;
  }
  call.print("Migration status: " + status + "\n");
}

void register_hmp(CommandRegistry& registry, MigrationManager* m) {
  registry.add_hmp("migrate", "[-d] [-b] [-i] [-r] uri",
                   "migrate to URI (using -d to not wait for completion)", [m](HmpCall& call) {
                     HmpMigrateArgs a;
                     std::string error;
                     if (!parse_hmp_migrate_args(call.args(), &a, &error)) {
                       usage_error(call, "migrate", error);
                       return;
                     }
                     QmpJson args = QmpJson::object();
                     args["uri"] = a.uri;
                     if (a.blk) args["blk"] = true;
                     if (a.inc) args["inc"] = true;
                     if (a.resume) args["resume"] = true;
                     if (!call.qmp("migrate", args)) return;
                     if (!a.detach) wait_for_migration(call, *m);
                   });

  registry.add_hmp("migrate_cancel", "", "cancel the current VM migration",
                   [](HmpCall& call) { call.qmp("migrate_cancel"); });

  registry.add_hmp("migrate_incoming", "uri",
                   "Continue an incoming migration from an -incoming defer", [](HmpCall& call) {
                     if (!want_args(call, "migrate_incoming", 1)) return;
                     QmpJson args = QmpJson::object();
                     args["uri"] = call.args()[0];
                     call.qmp("migrate-incoming", args);
                   });

  registry.add_hmp("migrate_set_parameter", "parameter value", "Set the parameter for migration",
                   [](HmpCall& call) {
                     if (!want_args(call, "migrate_set_parameter", 2)) return;
                     auto current = call.qmp("query-migrate-parameters");
                     if (!current) return;
                     const std::string& name = call.args()[0];
                     std::string error;
                     auto value = hmp_parameter_value(name, call.args()[1], *current, &error);
                     if (!value) {
                       call.error(error);
                       return;
                     }
                     QmpJson args = QmpJson::object();
                     args[name] = *value;
                     call.qmp("migrate-set-parameters", args);
                   });

  registry.add_hmp("migrate_set_capability", "capability state",
                   "Enable/Disable the usage of a capability for migration", [](HmpCall& call) {
                     if (!want_args(call, "migrate_set_capability", 2)) return;
                     std::optional<bool> state = parse_on_off(call.args()[1]);
                     if (!state) {
                       usage_error(call, "migrate_set_capability", "Expected 'on' or 'off'");
                       return;
                     }
                     QmpJson cap = QmpJson::object();
                     cap["capability"] = call.args()[0];
                     cap["state"] = *state;
                     QmpJson args = QmpJson::object();
                     args["capabilities"] = QmpJson::array({cap});
                     call.qmp("migrate-set-capabilities", args);
                   });

  registry.add_hmp("getfd", "name",
                   "receive a file descriptor via SCM rights and assign it a name",
                   [](HmpCall& call) {
                     if (!want_args(call, "getfd", 1)) return;
                     QmpJson args = QmpJson::object();
                     args["fdname"] = call.args()[0];
                     call.qmp("getfd", args);
                   });

  registry.add_hmp("closefd", "name", "close a file descriptor previously passed via SCM rights",
                   [](HmpCall& call) {
                     if (!want_args(call, "closefd", 1)) return;
                     QmpJson args = QmpJson::object();
                     args["fdname"] = call.args()[0];
                     call.qmp("closefd", args);
                   });

  registry.add_hmp_info("migrate", "show migration status", [](HmpCall& call) {
    auto info = call.qmp("query-migrate");
    if (!info) return;
    auto caps = call.qmp("query-migrate-capabilities");
    call.print(format_info_migrate(*info, caps ? *caps : QmpJson::array()));
  });

  registry.add_hmp_info("migrate_parameters", "show current migration parameters",
                        [](HmpCall& call) {
                          if (auto p = call.qmp("query-migrate-parameters")) {
                            call.print(format_migrate_parameters(*p));
                          }
                        });

  registry.add_hmp_info("migrate_capabilities", "show current migration capabilities",
                        [](HmpCall& call) {
                          if (auto c = call.qmp("query-migrate-capabilities")) {
                            call.print(format_migrate_capabilities(*c));
                          }
                        });
}

}  // namespace

void register_migration_commands(CommandRegistry& registry, MigrationManager& migration,
                                 MigrationManager::IncomingDone on_incoming_done) {
  register_qmp(registry, &migration, std::move(on_incoming_done));
  register_hmp(registry, &migration);
}

}  // namespace ferry
