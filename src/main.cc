// ferry: the command-line entry point. Parses QEMU-style options, builds the
// VM and its host side (serial console, monitors, QMP), runs the main loop
// until the guest powers off or a monitor asks to quit.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "loader/image_loader.h"
#include "migration/migration_manager.h"
#include "monitor/command_registry.h"
#include "monitor/host_io.h"
#include "monitor/migration_commands.h"
#include "monitor/net_commands.h"
#include "monitor/monitor_commands.h"
#include "monitor/version_info.h"
#include "monitor/vm_commands.h"
#include "util/event_loop.h"
#include "vm/options.h"
#include "vm/vm.h"

namespace ferry {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "ferry: %s\n", message.c_str());
  return 1;
}

// -machine dumpdtb=FILE: writes the device tree the guest would get and
// exits, as QEMU does (exit 0, or 1 when the VM can't be built or the file
// can't be written).
int dump_dtb(const VmConfig& config) {
  std::unique_ptr<Vm> vm;
  try {
    vm = std::make_unique<Vm>(config, nullptr, nullptr);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  const std::vector<uint8_t>& fdt = vm->board().fdt();
  FILE* f = std::fopen(config.dumpdtb.c_str(), "wb");
  int err = f ? 0 : errno;
  if (f) {
    if (std::fwrite(fdt.data(), 1, fdt.size(), f) != fdt.size()) err = errno ? errno : EIO;
    if (std::fclose(f) != 0 && err == 0) err = errno;
  }
  if (err != 0)
    return fail("could not dump the device tree to " + config.dumpdtb + ": " +
                std::strerror(err));
  std::fprintf(stderr, "ferry: info: dtb dumped to %s. Exiting.\n", config.dumpdtb.c_str());
  return 0;
}

// SIGINT/SIGTERM/SIGHUP end ferry cleanly (terminal restored) through the loop.
int watch_signals(EventLoop& loop, std::function<void(int)> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts
  const int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return -1;
  loop.add_fd(fd, POLLIN, [fd, on_signal](short) {
    signalfd_siginfo info;
    while (read(fd, &info, sizeof info) == sizeof info) on_signal(static_cast<int>(info.ssi_signo));
  });
  return fd;
}

int run(int argc, char** argv) {
  OptionsResult parsed = parse_options(argc, argv);
  if (parsed.action == OptionsResult::Action::kExit) {
    std::fputs(parsed.output.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  const VmConfig& config = parsed.config;
  if (!config.dumpdtb.empty()) return dump_dtb(config);
  signal(SIGPIPE, SIG_IGN);

  EventLoop loop;
  int exit_code = 0;
  const int signal_fd = watch_signals(loop, [&](int signo) {
    std::fprintf(stderr, "ferry: terminating on signal %d\n", signo);
    loop.quit();
  });

  CommandRegistry registry;
  std::string error;
  std::unique_ptr<HostIo> host = HostIo::create(config, loop, registry, &error);
  if (!host) return fail(error);

  std::unique_ptr<Vm> vm;
  try {
    vm = std::make_unique<Vm>(config, &host->serial(), &host->events());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  auto migration = std::make_unique<MigrationManager>(*vm, &host->events());
  // An incoming migration that fails ends ferry with a message and exit 1.
  // One that loaded but was not handed over stays, paused, for the operator.
  auto incoming_done = [&loop, &exit_code](IncomingOutcome outcome, const std::string& message) {
    if (outcome == IncomingOutcome::kStarted) return;
    if (outcome == IncomingOutcome::kNotHandedOver) {
      std::fprintf(stderr,
                   "ferry: incoming migration not handed over: %s\n"
                   "ferry: the VM is loaded and paused here. If the source is not running "
                   "(postmigrate, or gone), 'cont' runs it here; if it runs, quit this one.\n",
                   message.c_str());
      return;
    }
    loop.post([&loop, &exit_code, message] {
      std::fprintf(stderr, "ferry: incoming migration failed: %s\n", message.c_str());
      exit_code = 1;
      loop.quit();
    });
  };
  register_monitor_commands(registry, ferry_version());
  register_vm_commands(registry, *vm);
  register_migration_commands(registry, *migration, incoming_done);
  MigrationManager* migration_ptr = migration.get();
  register_net_commands(registry, *vm,
                        [migration_ptr] { return migration_ptr->parameters().announce; });

  vm->set_exit_handler([&loop, &exit_code](int code) {
    loop.post([&loop, &exit_code, code] {
      exit_code = code;
      loop.quit();
    });
  });
  Vm* vm_ptr = vm.get();
  host->set_serial_input(
      [vm_ptr](const uint8_t* data, size_t len) { vm_ptr->serial_input(data, len); });
  host->set_quit_handler([&loop] { loop.quit(); });

  vm->start();
  if (!config.incoming.empty() && config.incoming != "defer") {
    if (!migration->start_incoming(config.incoming, nullptr, incoming_done, &error)) {
      vm->join();
      return fail("-incoming " + config.incoming + ": " + error);
    }
  }
  loop.run();

  migration->cancel();
  vm->join();
  migration.reset();  // joins the migration threads before the VM goes
  host->flush();
  vm.reset();
  host.reset();
  if (signal_fd >= 0) close(signal_fd);
  return exit_code;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) { return ferry::run(argc, argv); }
