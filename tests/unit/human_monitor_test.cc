#include "monitor/human_monitor.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "chardev/mux_chardev.h"
#include "chardev/socket_chardev.h"
#include "monitor/command_registry.h"
#include "monitor/hmp_call.h"
#include "monitor/host_io.h"
#include "monitor/monitor_commands.h"
#include "monitor/vm_commands.h"
#include "util/event_loop.h"
#include "vm/options.h"
#include "fakes.h"

namespace ferry {
namespace {

using test_util::FakeVm;

// An in-memory chardev: the test types into it and reads what was written.
class FakeChardev : public Chardev {
 public:
  void write(const uint8_t* d, size_t n) override { out.append(reinterpret_cast<const char*>(d), n); }
  using Chardev::write;
  bool is_open() const override { return open; }
  bool is_tty() const override { return tty; }
  std::string label() const override { return "fake"; }

  void type(const std::string& s) {
    deliver_input(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  void event(ChardevEvent e) { deliver_event(e); }
  std::string take() {
    std::string s;
    s.swap(out);
    return s;
  }

  std::string out;
  bool open = true;
  bool tty = false;
};

const VersionInfo kVersion{0, 1, 0, "ferry"};
constexpr char kGreeting[] = "ferry monitor - type 'help' for more information\r\n(ferry) ";

class HumanMonitorTest : public ::testing::Test {
 protected:
  HumanMonitorTest() {
    register_monitor_commands(registry_, kVersion);
    register_vm_commands(registry_, vm_);
  }
  void start(bool tty = false) {
    chr_.tty = tty;
    mon_ = std::make_unique<HumanMonitor>(chr_, registry_);
  }
  // Types a line and returns the output that followed, prompt included.
  std::string run(const std::string& line) {
    chr_.take();
    chr_.type(line + "\r");
    return chr_.take();
  }

  CommandRegistry registry_;
  FakeVm vm_;
  FakeChardev chr_;
  std::unique_ptr<HumanMonitor> mon_;
};

TEST_F(HumanMonitorTest, GreetingAndPromptOnOpen) {
  start();
  EXPECT_EQ(chr_.take(), kGreeting);
}

TEST_F(HumanMonitorTest, GreetingWhenAClientConnectsLater) {
  chr_.open = false;
  start();
  EXPECT_EQ(chr_.take(), "");
  chr_.open = true;
  chr_.event(ChardevEvent::kOpened);
  EXPECT_EQ(chr_.take(), kGreeting);
}

TEST_F(HumanMonitorTest, InfoStatusFormats) {
  start();
  EXPECT_EQ(run("info status"), "VM status: running\r\n(ferry) ");
  vm_.state = RunState::kPaused;
  EXPECT_EQ(run("info status"), "VM status: paused\r\n(ferry) ");
  vm_.state = RunState::kPrelaunch;
  EXPECT_EQ(run("info status"), "VM status: paused (prelaunch)\r\n(ferry) ");
  vm_.state = RunState::kInMigrate;
  EXPECT_EQ(run("info status"), "VM status: paused (inmigrate)\r\n(ferry) ");
  vm_.state = RunState::kPostMigrate;
  EXPECT_EQ(run("info status"), "VM status: paused (postmigrate)\r\n(ferry) ");
  vm_.state = RunState::kShutdown;
  EXPECT_EQ(run("info status"), "VM status: paused (shutdown)\r\n(ferry) ");
}

TEST_F(HumanMonitorTest, StopContAndAliases) {
  start();
  EXPECT_EQ(run("stop"), "(ferry) ");
  EXPECT_EQ(vm_.stops, 1);
  EXPECT_EQ(run("cont"), "(ferry) ");
  EXPECT_EQ(vm_.conts, 1);
  run("s");
  EXPECT_EQ(vm_.stops, 2);
  run("c");
  EXPECT_EQ(vm_.conts, 2);
  run("   c   ");
  EXPECT_EQ(vm_.conts, 3);
}

TEST_F(HumanMonitorTest, ContErrorIsPrintedLikeQemu) {
  start();
  vm_.state = RunState::kShutdown;
  EXPECT_EQ(run("cont"), "Error: Resetting the Virtual Machine is required\r\n(ferry) ");
  EXPECT_EQ(vm_.conts, 0);
}

TEST_F(HumanMonitorTest, SystemResetAndQuit) {
  start();
  run("system_reset");
  EXPECT_EQ(vm_.resets, 1);
  run("quit");
  EXPECT_EQ(vm_.quits, 1);
  run("q");
  EXPECT_EQ(vm_.quits, 2);
}

TEST_F(HumanMonitorTest, UnknownCommands) {
  start();
  EXPECT_EQ(run("xyz"), "unknown command: 'xyz'\r\n(ferry) ");
  EXPECT_EQ(run("xyz 1 2"), "unknown command: 'xyz'\r\n(ferry) ");
  EXPECT_EQ(run("info xyz"), "unknown command: 'info xyz'\r\n(ferry) ");
}

TEST_F(HumanMonitorTest, EmptyLineJustPrompts) {
  start();
  EXPECT_EQ(run(""), "(ferry) ");
  EXPECT_EQ(run("   "), "(ferry) ");
}

TEST_F(HumanMonitorTest, HelpListsCommands) {
  start();
  std::string help = mon_->execute("help");
  EXPECT_NE(help.find("cont|c  -- resume emulation\n"), std::string::npos) << help;
  EXPECT_NE(help.find("stop|s  -- stop emulation\n"), std::string::npos);
  EXPECT_NE(help.find("quit|q  -- quit the emulator\n"), std::string::npos);
  EXPECT_NE(help.find("system_reset  -- reset the system\n"), std::string::npos);
  EXPECT_NE(help.find("help|? [cmd] -- show the help\n"), std::string::npos);
  EXPECT_NE(help.find("info [subcommand] -- show various information"), std::string::npos);
  EXPECT_EQ(mon_->execute("?"), help);
  EXPECT_EQ(mon_->execute("help c"), "cont|c  -- resume emulation\n");
  EXPECT_EQ(mon_->execute("help nope"), "unknown command: 'nope'\n");
  EXPECT_NE(mon_->execute("help info").find("info status  -- show the current VM status"),
            std::string::npos);
  // Sorted by name, like QEMU.
  EXPECT_LT(help.find("cont|c"), help.find("help|?"));
  EXPECT_LT(help.find("help|?"), help.find("info "));
  EXPECT_LT(help.find("quit|q"), help.find("stop|s"));
}

TEST_F(HumanMonitorTest, InfoAloneListsSubcommands) {
  start();
  std::string out = mon_->execute("info");
  EXPECT_NE(out.find("info status  -- show the current VM status (running|paused)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("info version  -- show the version of ferry\n"), std::string::npos);
  EXPECT_NE(out.find("info name  -- show the current VM name\n"), std::string::npos);
}

TEST_F(HumanMonitorTest, InfoVersionAndName) {
  start();
  EXPECT_EQ(mon_->execute("info version"), "0.1.0 (ferry)\n");
  EXPECT_EQ(mon_->execute("info name"), "");
  vm_.vm_name = "guest0";
  EXPECT_EQ(mon_->execute("info name"), "guest0\n");
}

TEST_F(HumanMonitorTest, ExtraCommandsShareTheQmpImplementation) {
  int calls = 0;
  std::string got_uri;
  registry_.add("x-migrate", {{"uri", ArgType::kString}, {"*detach", ArgType::kBool}},
                [&](const QmpJson& args, CommandContext&) -> CommandResult {
                  ++calls;
                  got_uri = args["uri"].get<std::string>();
                  if (got_uri == "bad:") return generic_error("Invalid URI 'bad:'");
                  return QmpJson::object();
                });
  registry_.add_hmp("x-migrate", "[-d] uri", "migrate to uri", [](HmpCall& call) {
    QmpJson args = QmpJson::object();
    for (const std::string& a : call.args()) {
      if (a == "-d") {
        args["detach"] = true;
      } else {
        args["uri"] = a;
      }
    }
    call.qmp("x-migrate", args);
  });
  start();
  EXPECT_EQ(run("x-migrate -d tcp:host:4444"), "(ferry) ");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got_uri, "tcp:host:4444");
  EXPECT_EQ(run("x-migrate bad:"), "Error: Invalid URI 'bad:'\r\n(ferry) ");
  EXPECT_EQ(run("x-migrate"), "Error: Parameter 'uri' is missing\r\n(ferry) ");
  EXPECT_NE(mon_->execute("help").find("x-migrate [-d] uri -- migrate to uri\n"),
            std::string::npos);
}

TEST_F(HumanMonitorTest, QuotedArguments) {
  std::vector<std::string> seen;
  registry_.add_hmp("x-args", "args...", "echo args", [&](HmpCall& call) { seen = call.args(); });
  start();
  run("x-args a \"b c\" \"d\\\"e\"");
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b c", "d\"e"}));
  EXPECT_EQ(run("x-args \"open"), "Error: unbalanced quotes\r\n(ferry) ");
}

TEST_F(HumanMonitorTest, SeveralLinesInOneChunkAndCrLf) {
  start();
  chr_.take();
  chr_.type("stop\r\ncont\nstop\n");
  EXPECT_EQ(vm_.stops, 2);
  EXPECT_EQ(vm_.conts, 1);
  EXPECT_EQ(chr_.take(), "(ferry) (ferry) (ferry) ");
}

TEST_F(HumanMonitorTest, LineSplitAcrossReads) {
  start();
  chr_.take();
  chr_.type("info st");
  EXPECT_EQ(chr_.take(), "");
  chr_.type("atus\n");
  EXPECT_EQ(chr_.take(), "VM status: running\r\n(ferry) ");
}

TEST_F(HumanMonitorTest, NoEchoOnPipes) {
  start(false);
  chr_.take();
  chr_.type("sto");
  EXPECT_EQ(chr_.take(), "");
}

TEST_F(HumanMonitorTest, TerminalEchoAndEditing) {
  start(true);
  chr_.take();
  chr_.type("sx");
  EXPECT_EQ(chr_.take(), "sx");
  chr_.type("\x7f");  // backspace
  EXPECT_EQ(chr_.take(), "\b \b");
  chr_.type("top\r");
  EXPECT_EQ(chr_.take(), "top\r\n(ferry) ");
  EXPECT_EQ(vm_.stops, 1);
  chr_.type("\x1b[A");  // up: recall "stop"
  EXPECT_EQ(chr_.take(), "\r(ferry) stop\x1b[K");
  chr_.type("\r");
  EXPECT_EQ(vm_.stops, 2);
  chr_.take();
  chr_.type("abc\x15");  // Ctrl-U erases the line
  chr_.type("c\r");
  EXPECT_EQ(vm_.conts, 1);
}

TEST_F(HumanMonitorTest, ReconnectShowsGreetingAgain) {
  start();
  chr_.take();
  chr_.type("sto");
  chr_.event(ChardevEvent::kClosed);
  chr_.event(ChardevEvent::kOpened);
  EXPECT_EQ(chr_.take(), kGreeting);
  chr_.type("p\r");  // the partial "sto" was forgotten
  EXPECT_EQ(vm_.stops, 0);
}

// The -nographic arrangement: serial console and monitor on one mux.
TEST_F(HumanMonitorTest, OnAMuxTheGreetingWaitsForTheFocus) {
  auto* backend = new FakeChardev;
  MuxChardev mux{std::unique_ptr<Chardev>(backend)};
  Chardev& serial = mux.add_frontend();
  std::string serial_in;
  serial.set_handlers({[&](const uint8_t* d, size_t n) { serial_in.append((const char*)d, n); },
                       nullptr});
  HumanMonitor mon(mux.add_frontend(), registry_);
  EXPECT_EQ(backend->take(), "");  // the serial console has the focus

  backend->type("hello\r");
  EXPECT_EQ(serial_in, "hello\r");
  backend->type("\x01" "c");
  EXPECT_EQ(backend->take(), kGreeting);
  backend->type("info status\r");
  EXPECT_EQ(backend->take(), "VM status: running\r\n(ferry) ");
  backend->type("\x01" "c");
  EXPECT_EQ(backend->take(), "\r\n");
  backend->type("stop\r");
  EXPECT_EQ(vm_.stops, 0);  // went to the guest
  EXPECT_EQ(serial_in, "hello\rstop\r");
  backend->type("\x01" "c");
  EXPECT_EQ(backend->take(), "(ferry) ");  // no second greeting
  backend->type("stop\r");
  EXPECT_EQ(vm_.stops, 1);
}

// HostIo builds the whole -nographic / -monitor / -qmp arrangement.
TEST_F(HumanMonitorTest, HostIoNographicMux) {
  EventLoop loop;
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out), 0);
  OptionsResult opts = parse_options(std::vector<std::string>{"-nographic"});
  ASSERT_EQ(opts.action, OptionsResult::Action::kRun);
  std::string error;
  StdioOptions stdio;
  stdio.in_fd = in[0];
  stdio.out_fd = out[1];
  auto io = HostIo::create(opts.config, loop, registry_, &error, stdio);
  ASSERT_TRUE(io) << error;
  ASSERT_NE(io->monitor(), nullptr);
  ASSERT_NE(io->mux(), nullptr);
  std::string guest_in;
  io->set_serial_input([&](const uint8_t* d, size_t n) { guest_in.append((const char*)d, n); });
  int quits = 0;
  io->set_quit_handler([&] { ++quits; });

  const uint8_t hi[] = {'h', 'i', '\n'};
  io->serial().write_bytes(hi, 3);
  io->serial().flush();

  std::string typed = "ls\n\x01" "cinfo status\n\x01x";
  ASSERT_EQ(write(in[1], typed.data(), typed.size()), (ssize_t)typed.size());
  for (int i = 0; i < 20 && quits == 0; ++i) loop.run_once(10);
  EXPECT_EQ(guest_in, "ls\n");
  EXPECT_EQ(quits, 1);
  io.reset();
  std::string all;
  char buf[4096];
  pollfd p{out[0], POLLIN, 0};
  while (poll(&p, 1, 0) == 1) {
    ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    all.append(buf, n);
  }
  EXPECT_EQ(all, std::string("hi\n") + kGreeting + "VM status: running\r\n(ferry) " +
                     "ferry: terminated\r\n");
  for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
}

TEST_F(HumanMonitorTest, HostIoMonitorAndQmpOnSockets) {
  EventLoop loop;
  char tmpl[] = "/tmp/ferry-hostio-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  OptionsResult opts = parse_options(std::vector<std::string>{
      "-serial", "null", "-monitor", "unix:" + dir + "/mon.sock,server,nowait", "-qmp",
      "unix:" + dir + "/q1.sock,server=on,wait=off", "-qmp",
      "tcp:127.0.0.1:0,server=on,wait=off"});
  ASSERT_EQ(opts.action, OptionsResult::Action::kRun) << opts.output;
  std::string error;
  auto io = HostIo::create(opts.config, loop, registry_, &error);
  ASSERT_TRUE(io) << error;
  EXPECT_NE(io->monitor(), nullptr);
  EXPECT_EQ(io->qmp_servers().size(), 2u);
  io->events().emit_event("STOP", nlohmann::json::object());  // nobody connected: dropped
  io.reset();
  EXPECT_NE(access((dir + "/mon.sock").c_str(), F_OK), 0);

  // A mux monitor and a separate one can coexist, as in QEMU.
  opts = parse_options(std::vector<std::string>{
      "-serial", "mon:null", "-monitor", "unix:" + dir + "/mon.sock,server,nowait"});
  ASSERT_EQ(opts.action, OptionsResult::Action::kRun) << opts.output;
  io = HostIo::create(opts.config, loop, registry_, &error);
  ASSERT_TRUE(io) << error;
  EXPECT_EQ(io->monitors().size(), 2u);
  io.reset();
  rmdir(dir.c_str());

  // A bad spec is reported with its name.
  opts = parse_options(std::vector<std::string>{"-qmp", "unix:/nonexistent-dir/q.sock,server,nowait"});
  ASSERT_EQ(opts.action, OptionsResult::Action::kRun);
  EXPECT_FALSE(HostIo::create(opts.config, loop, registry_, &error));
  EXPECT_NE(error.find("/nonexistent-dir/q.sock"), std::string::npos) << error;
}

}  // namespace
}  // namespace ferry
