#include "monitor/qmp_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "chardev/chardev_spec.h"
#include "chardev/socket_chardev.h"
#include "monitor/command_registry.h"
#include "monitor/event_broadcaster.h"
#include "monitor/monitor_commands.h"
#include "monitor/vm_commands.h"
#include "util/event_loop.h"
#include "fakes.h"

namespace ferry {
namespace {

using test_util::FakeVm;

const VersionInfo kVersion{0, 1, 0, "ferry"};
constexpr char kGreeting[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0}, "
    "\"package\": \"ferry\"}, \"capabilities\": [\"oob\"]}}";

// A QmpServer on one end of a socketpair; the test is the client.
class QmpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_monitor_commands(registry_, kVersion);
    register_vm_commands(registry_, vm_);
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    client_ = sv[1];
    chardev_ = SocketChardev::adopt(loop_, sv[0], "test");
    server_ = std::make_unique<QmpServer>(loop_, *chardev_, registry_, kVersion);
    vm_.events = server_.get();
  }
  void TearDown() override {
    server_.reset();
    chardev_.reset();
    if (client_ >= 0) close(client_);
  }

  void send(const std::string& text) {
    ASSERT_EQ(write(client_, text.data(), text.size()), (ssize_t)text.size());
  }

  // The next "\r\n"-terminated line from the server (without "\r\n").
  std::string line(int timeout_ms = 2000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string l = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return l;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "timed out waiting for a line; have: " << buffer_;
        return "";
      }
      loop_.run_once(5);
      char buf[4096];
      pollfd p{client_, POLLIN, 0};
      while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        ssize_t n = read(client_, buf, sizeof(buf));
        if (n <= 0) break;
        buffer_.append(buf, n);
      }
    }
  }
  nlohmann::json json_line() { return nlohmann::json::parse(line()); }

  // Nothing more arrives within `ms`.
  bool quiet(int ms = 50) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) loop_.run_once(5);
    char buf[256];
    pollfd p{client_, POLLIN, 0};
    if (poll(&p, 1, 0) == 1) {
      ssize_t n = read(client_, buf, sizeof(buf));
      if (n > 0) buffer_.append(buf, n);
    }
    return buffer_.empty();
  }

  void negotiate() {
    EXPECT_EQ(line(), kGreeting);
    send("{\"execute\": \"qmp_capabilities\"}");
    EXPECT_EQ(line(), "{\"return\": {}}");
  }

  EventLoop loop_;
  CommandRegistry registry_;
  FakeVm vm_;
  std::unique_ptr<SocketChardev> chardev_;
  std::unique_ptr<QmpServer> server_;
  int client_ = -1;
  std::string buffer_;
};

TEST_F(QmpServerTest, GreetingIsExactlyQemus) {
  EXPECT_EQ(line(), kGreeting);
  EXPECT_EQ(QmpServer::greeting(kVersion), kGreeting);
}

TEST_F(QmpServerTest, CommandsBeforeNegotiationAreRefused) {
  line();
  send("{\"execute\": \"query-status\"}");
  EXPECT_EQ(line(),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities "
            "negotiation with 'qmp_capabilities'\"}}");
  send("{\"execute\": \"no-such-command\", \"id\": 7}");
  EXPECT_EQ(line(),
            "{\"id\": 7, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting "
            "capabilities negotiation with 'qmp_capabilities'\"}}");
  EXPECT_EQ(vm_.stops, 0);
  send("{\"execute\": \"stop\"}");
  line();
  EXPECT_EQ(vm_.stops, 0);
}

TEST_F(QmpServerTest, NegotiationThenSecondCapabilitiesFails) {
  negotiate();
  EXPECT_TRUE(server_->negotiated());
  send("{\"execute\": \"qmp_capabilities\"}");
  EXPECT_EQ(line(),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation "
            "is already complete, command ignored\"}}");
}

TEST_F(QmpServerTest, NegotiationWithOobAndBadCapability) {
  line();
  send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"bogus\"]}}");
  auto r = json_line();
  EXPECT_EQ(r["error"]["class"], "GenericError");
  EXPECT_NE(r["error"]["desc"].get<std::string>().find("'bogus'"), std::string::npos);
  EXPECT_FALSE(server_->negotiated());
  send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}");
  EXPECT_EQ(line(), "{\"return\": {}}");
  EXPECT_TRUE(server_->context().qmp_session()->oob_enabled);
  // exec-oob is understood now, but stop does not allow OOB.
  send("{\"exec-oob\": \"stop\", \"id\": \"o1\"}");
  EXPECT_EQ(line(),
            "{\"id\": \"o1\", \"error\": {\"class\": \"GenericError\", \"desc\": \"The command "
            "stop does not support OOB\"}}");
}

TEST_F(QmpServerTest, ExecOobWithoutCapabilityIsUnexpected) {
  negotiate();
  send("{\"exec-oob\": \"query-status\"}");
  EXPECT_EQ(line(),
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'exec-oob' is "
            "unexpected\"}}");
}

TEST_F(QmpServerTest, QueryStatusReflectsRunState) {
  negotiate();
  send("{\"execute\": \"query-status\"}");
  EXPECT_EQ(line(), "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}");
  vm_.state = RunState::kPrelaunch;
  send("{\"execute\": \"query-status\"}");
  EXPECT_EQ(line(),
            "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}}");
  vm_.state = RunState::kInMigrate;
  send("{\"execute\": \"query-status\"}");
  EXPECT_EQ(json_line()["return"]["status"], "inmigrate");
  vm_.state = RunState::kFinishMigrate;
  send("{\"execute\": \"query-status\"}");
  EXPECT_EQ(json_line()["return"]["status"], "finish-migrate");
}

TEST_F(QmpServerTest, StopAndContEmitEventsBeforeTheReply) {
  negotiate();
  send("{\"execute\": \"stop\", \"id\": 1}");
  auto ev = json_line();
  EXPECT_EQ(ev["event"], "STOP");
  EXPECT_FALSE(ev.contains("data"));
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": 1}");
  EXPECT_EQ(vm_.stops, 1);
  EXPECT_EQ(vm_.state, RunState::kPaused);
  send("{\"execute\": \"cont\", \"id\": 2}");
  EXPECT_EQ(json_line()["event"], "RESUME");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": 2}");
  EXPECT_EQ(vm_.conts, 1);
}

TEST_F(QmpServerTest, ContAfterShutdownNeedsReset) {
  negotiate();
  vm_.state = RunState::kShutdown;
  send("{\"execute\": \"cont\"}");
  EXPECT_EQ(line(),
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Resetting the Virtual Machine "
            "is required\"}}");
  EXPECT_EQ(vm_.conts, 0);
}

TEST_F(QmpServerTest, SystemResetAndQuit) {
  negotiate();
  send("{\"execute\": \"system_reset\"}");
  EXPECT_EQ(line(), "{\"return\": {}}");
  EXPECT_EQ(vm_.resets, 1);
  send("{\"execute\": \"quit\"}");
  EXPECT_EQ(line(), "{\"return\": {}}");
  EXPECT_EQ(vm_.quits, 1);
}

TEST_F(QmpServerTest, QueryVersion) {
  negotiate();
  send("{\"execute\": \"query-version\"}");
  EXPECT_EQ(line(),
            "{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0}, \"package\": "
            "\"ferry\"}}");
}

TEST_F(QmpServerTest, QueryCommandsListsEverything) {
  negotiate();
  send("{\"execute\": \"query-commands\"}");
  auto r = json_line()["return"];
  ASSERT_TRUE(r.is_array());
  std::vector<std::string> names;
  for (const auto& e : r) names.push_back(e["name"]);
  for (const char* want : {"qmp_capabilities", "query-status", "stop", "cont", "quit",
                           "system_reset", "query-version", "query-commands", "query-name"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
}

TEST_F(QmpServerTest, QueryName) {
  negotiate();
  send("{\"execute\": \"query-name\"}");
  EXPECT_EQ(line(), "{\"return\": {}}");
  vm_.vm_name = "guest0";
  send("{\"execute\": \"query-name\"}");
  EXPECT_EQ(line(), "{\"return\": {\"name\": \"guest0\"}}");
}

TEST_F(QmpServerTest, IdOfAnyTypeIsEchoed) {
  negotiate();
  send("{\"execute\": \"query-name\", \"id\": \"abc\"}");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": \"abc\"}");
  send("{\"id\": {\"x\": [1, 2]}, \"execute\": \"query-name\"}");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": {\"x\": [1, 2]}}");
  send("{\"execute\": \"query-name\", \"id\": null}");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": null}");
  send("{\"execute\": \"nope\", \"id\": 3.5}");
  EXPECT_EQ(line(),
            "{\"id\": 3.5, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
            "nope has not been found\"}}");
}

TEST_F(QmpServerTest, UnknownCommand) {
  negotiate();
  send("{\"execute\": \"xyz\"}");
  EXPECT_EQ(line(),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command xyz has not "
            "been found\"}}");
}

TEST_F(QmpServerTest, MalformedJsonKeepsConnectionUsable) {
  negotiate();
  send("{\"execute\": foo}");
  auto r = json_line();
  EXPECT_EQ(r["error"]["class"], "GenericError");
  EXPECT_EQ(r["error"]["desc"].get<std::string>().rfind("JSON parse error, ", 0), 0u)
      << r.dump();
  EXPECT_FALSE(r.contains("id"));
  send("{\"execute\": \"query-name\", \"id\": 9}");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": 9}");
}

TEST_F(QmpServerTest, NonObjectInput) {
  negotiate();
  for (const char* input : {"[1, 2]\n", "42\n", "\"str\"", "true\n", "null\n"}) {
    send(input);
    EXPECT_EQ(line(),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be a JSON "
              "object\"}}")
        << input;
  }
}

TEST_F(QmpServerTest, BadEnvelopeMembers) {
  negotiate();
  send("{\"arguments\": {}}");
  EXPECT_EQ(json_line()["error"]["desc"], "QMP input lacks member 'execute'");
  send("{\"execute\": 5}");
  EXPECT_EQ(json_line()["error"]["desc"], "QMP input member 'execute' must be a string");
  send("{\"execute\": \"stop\", \"arguments\": []}");
  EXPECT_EQ(json_line()["error"]["desc"], "QMP input member 'arguments' must be an object");
  send("{\"execute\": \"stop\", \"extra\": 1, \"id\": 4}");
  auto r = json_line();
  EXPECT_EQ(r["error"]["desc"], "QMP input member 'extra' is unexpected");
  EXPECT_EQ(r["id"], 4);
  EXPECT_EQ(vm_.stops, 0);
}

TEST_F(QmpServerTest, ArgumentChecking) {
  std::vector<nlohmann::json> seen;
  registry_.add("x-test", {{"uri", ArgType::kString}, {"*count", ArgType::kInt},
                           {"*flag", ArgType::kBool}},
                [&](const QmpJson& args, CommandContext&) -> CommandResult {
                  seen.push_back(args);
                  return nlohmann::json{{"ok", true}};
                });
  negotiate();
  send("{\"execute\": \"x-test\"}");
  EXPECT_EQ(line(),
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'uri' is "
            "missing\"}}");
  send("{\"execute\": \"x-test\", \"arguments\": {\"uri\": 1}}");
  EXPECT_EQ(json_line()["error"]["desc"], "Invalid parameter type for 'uri', expected: string");
  send("{\"execute\": \"x-test\", \"arguments\": {\"uri\": \"a\", \"count\": 1.5}}");
  EXPECT_EQ(json_line()["error"]["desc"], "Invalid parameter type for 'count', expected: integer");
  send("{\"execute\": \"x-test\", \"arguments\": {\"uri\": \"a\", \"flag\": \"yes\"}}");
  EXPECT_EQ(json_line()["error"]["desc"], "Invalid parameter type for 'flag', expected: boolean");
  send("{\"execute\": \"x-test\", \"arguments\": {\"uri\": \"a\", \"bogus\": 1}}");
  EXPECT_EQ(json_line()["error"]["desc"], "Parameter 'bogus' is unexpected");
  EXPECT_TRUE(seen.empty());
  send("{\"execute\": \"x-test\", \"arguments\": {\"uri\": \"a\", \"count\": 3}}");
  EXPECT_EQ(line(), "{\"return\": {\"ok\": true}}");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["count"], 3);
  // Commands without arguments reject any.
  send("{\"execute\": \"stop\", \"arguments\": {\"now\": true}}");
  EXPECT_EQ(json_line()["error"]["desc"], "Parameter 'now' is unexpected");
}

TEST_F(QmpServerTest, HandlerErrorsAndExceptions) {
  registry_.add("x-missing", [](const QmpJson&, CommandContext&) -> CommandResult {
    return QmpError{ErrorClass::kDeviceNotFound, "Device 'virtio0' not found"};
  });
  registry_.add("x-throw", [](const QmpJson&, CommandContext&) -> CommandResult {
    throw std::runtime_error("boom");
  });
  negotiate();
  send("{\"execute\": \"x-missing\"}");
  EXPECT_EQ(line(),
            "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'virtio0' not "
            "found\"}}");
  send("{\"execute\": \"x-throw\"}");
  EXPECT_EQ(line(), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"boom\"}}");
}

TEST_F(QmpServerTest, SeveralRequestsInOneWriteAndSplitAcrossWrites) {
  negotiate();
  send("{\"execute\": \"query-name\", \"id\": 1}{\"execute\": \"query-name\", \"id\": 2}\n");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": 1}");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": 2}");
  send("{\"execute\": \"query-na");
  EXPECT_TRUE(quiet());
  send("me\", \"id\": \"}{\"}");
  EXPECT_EQ(line(), "{\"return\": {}, \"id\": \"}{\"}");
}

TEST_F(QmpServerTest, StringsAreEscapedLikeQemu) {
  registry_.add("x-echo", {{"s", ArgType::kString}},
                [](const QmpJson& args, CommandContext&) -> CommandResult {
                  return QmpJson{{"s", args["s"]}};
                });
  negotiate();
  send("{\"execute\": \"x-echo\", \"arguments\": {\"s\": \"a\\\"b\\\\c\\n\\u0001\\u00e9\\ud83d\\ude00/\"}}");
  EXPECT_EQ(line(), "{\"return\": {\"s\": \"a\\\"b\\\\c\\n\\u0001\\u00E9\\uD83D\\uDE00/\"}}");
}

TEST_F(QmpServerTest, EventsCarryTimestampsAndOnlyReachNegotiatedClients) {
  line();  // greeting
  server_->emit_event("RESET", {{"guest", false}, {"reason", "host-qmp-system-reset"}});
  EXPECT_TRUE(quiet());  // not negotiated yet: dropped
  send("{\"execute\": \"qmp_capabilities\"}");
  EXPECT_EQ(line(), "{\"return\": {}}");

  auto before = std::chrono::system_clock::now();
  std::thread vcpu([&] {
    server_->emit_event("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}});
  });
  vcpu.join();
  std::string text = line();
  auto after = std::chrono::system_clock::now();
  EXPECT_EQ(text.rfind("{\"timestamp\": {\"seconds\": ", 0), 0u) << text;
  auto ev = nlohmann::json::parse(text);
  EXPECT_EQ(ev["event"], "SHUTDOWN");
  EXPECT_EQ(ev["data"], (nlohmann::json{{"guest", true}, {"reason", "guest-shutdown"}}));
  int64_t s = ev["timestamp"]["seconds"], us = ev["timestamp"]["microseconds"];
  EXPECT_GE(us, 0);
  EXPECT_LT(us, 1000000);
  int64_t t = s * 1000000 + us;
  int64_t lo = std::chrono::duration_cast<std::chrono::microseconds>(before.time_since_epoch()).count();
  int64_t hi = std::chrono::duration_cast<std::chrono::microseconds>(after.time_since_epoch()).count();
  EXPECT_GE(t, lo);
  EXPECT_LE(t, hi);
  EXPECT_NE(text.find("\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": "
                      "\"guest-shutdown\"}}"),
            std::string::npos)
      << text;

  server_->emit_event("STOP", nlohmann::json::object());
  std::string stop = line();
  EXPECT_NE(stop.find("}, \"event\": \"STOP\"}"), std::string::npos) << stop;
}

TEST_F(QmpServerTest, MakeEventLayout) {
  EXPECT_EQ(qmp_to_json(QmpServer::make_event("RESUME", QmpJson::object(), 12, 34)),
            "{\"timestamp\": {\"seconds\": 12, \"microseconds\": 34}, \"event\": \"RESUME\"}");
  EXPECT_EQ(qmp_to_json(QmpServer::make_event(
                "RESET", QmpJson{{"guest", false}, {"reason", "host-qmp-system-reset"}}, 1, 2)),
            "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESET\", "
            "\"data\": {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}}");
}

TEST_F(QmpServerTest, BroadcasterFansOut) {
  negotiate();
  EventBroadcaster events;
  events.add(server_.get());
  events.emit_event("POWERDOWN", nlohmann::json::object());
  EXPECT_EQ(json_line()["event"], "POWERDOWN");
  events.remove(server_.get());
  events.emit_event("POWERDOWN", nlohmann::json::object());
  EXPECT_TRUE(quiet());
}

TEST_F(QmpServerTest, ReceivedFdsReachTheCommandContext) {
  // What a later `getfd` does: claim the fd that came with the request.
  registry_.add("x-getfd", {{"fdname", ArgType::kString}},
                [](const QmpJson& args, CommandContext& ctx) -> CommandResult {
                  int fd = ctx.take_received_fd();
                  if (fd < 0) return generic_error("No file descriptor supplied via SCM_RIGHTS");
                  ctx.set_named_fd(args["fdname"].get<std::string>(), fd);
                  return QmpJson::object();
                });
  negotiate();
  send("{\"execute\": \"x-getfd\", \"arguments\": {\"fdname\": \"mig\"}}");
  EXPECT_EQ(json_line()["error"]["desc"], "No file descriptor supplied via SCM_RIGHTS");

  int p[2];
  ASSERT_EQ(pipe(p), 0);
  std::string req = "{\"execute\": \"x-getfd\", \"arguments\": {\"fdname\": \"mig\"}}";
  iovec iov{req.data(), req.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &p[1], sizeof(int));
  ASSERT_EQ(sendmsg(client_, &msg, 0), (ssize_t)req.size());
  close(p[1]);
  EXPECT_EQ(line(), "{\"return\": {}}");
  int fd = server_->context().named_fd("mig");
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "ok", 2), 2);
  char buf[4] = {};
  ASSERT_EQ(read(p[0], buf, sizeof(buf)), 2);
  EXPECT_STREQ(buf, "ok");
  EXPECT_TRUE(server_->context().close_named_fd("mig"));
  EXPECT_FALSE(server_->context().close_named_fd("mig"));
  close(p[0]);
}

// A real UNIX socket server: sequential clients, negotiation per client.
TEST(QmpServerSocketTest, SequentialClientsOnUnixSocket) {
  char tmpl[] = "/tmp/ferry-qmp-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/qmp.sock";

  EventLoop loop;
  CommandRegistry registry;
  FakeVm vm;
  register_monitor_commands(registry, kVersion);
  register_vm_commands(registry, vm);
  std::string error;
  auto spec = parse_chardev_spec("unix:" + path + ",server=on,wait=off", &error);
  ASSERT_TRUE(spec) << error;
  auto chr = SocketChardev::create(loop, *spec, &error);
  ASSERT_TRUE(chr) << error;
  QmpServer server(loop, *chr, registry, kVersion);

  auto read_line = [&](int fd) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) {
      if (std::chrono::steady_clock::now() > deadline) break;
      loop.run_once(5);
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 0) == 1) {
        char c;
        if (read(fd, &c, 1) == 1) out.push_back(c);
      }
    }
    return out;
  };

  for (int round = 0; round < 3; ++round) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(read_line(fd), std::string(kGreeting) + "\r\n");
    std::string q = "{\"execute\": \"query-status\"}";
    ASSERT_EQ(write(fd, q.data(), q.size()), (ssize_t)q.size());
    EXPECT_NE(read_line(fd).find("Expecting capabilities negotiation"), std::string::npos);
    std::string n = "{\"execute\": \"qmp_capabilities\"}\n" + q + "\n";
    ASSERT_EQ(write(fd, n.data(), n.size()), (ssize_t)n.size());
    EXPECT_EQ(read_line(fd), "{\"return\": {}}\r\n");
    EXPECT_EQ(read_line(fd),
              "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}\r\n");
    close(fd);
    // Let the server notice the hang-up before the next client.
    for (int i = 0; i < 5; ++i) loop.run_once(5);
    EXPECT_FALSE(server.negotiated());
  }
}

}  // namespace
}  // namespace ferry
