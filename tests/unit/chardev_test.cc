#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "chardev/chardev_factory.h"
#include "chardev/chardev_spec.h"
#include "chardev/file_chardev.h"
#include "chardev/mux_chardev.h"
#include "chardev/serial_console.h"
#include "chardev/socket_chardev.h"
#include "chardev/stdio_chardev.h"
#include "util/event_loop.h"

namespace ferry {
namespace {

// ---- spec parsing ------------------------------------------------------------

ChardevSpec spec_ok(const std::string& text) {
  std::string error;
  auto spec = parse_chardev_spec(text, &error);
  EXPECT_TRUE(spec.has_value()) << text << ": " << error;
  return spec.value_or(ChardevSpec{});
}

std::string spec_err(const std::string& text) {
  std::string error;
  auto spec = parse_chardev_spec(text, &error);
  EXPECT_FALSE(spec.has_value()) << text;
  return error;
}

TEST(ChardevSpecTest, SimpleBackends) {
  EXPECT_EQ(spec_ok("none").kind, ChardevSpec::Kind::kNone);
  EXPECT_EQ(spec_ok("null").kind, ChardevSpec::Kind::kNull);
  EXPECT_EQ(spec_ok("stdio").kind, ChardevSpec::Kind::kStdio);
  ChardevSpec f = spec_ok("file:/tmp/a,b.txt");
  EXPECT_EQ(f.kind, ChardevSpec::Kind::kFile);
  EXPECT_EQ(f.path, "/tmp/a,b.txt");
  ChardevSpec m = spec_ok("mon:stdio");
  EXPECT_TRUE(m.mux);
  EXPECT_EQ(m.kind, ChardevSpec::Kind::kStdio);
}

TEST(ChardevSpecTest, UnixSpellings) {
  for (const char* text : {"unix:/tmp/q.sock,server,nowait", "unix:/tmp/q.sock,server=on,wait=off",
                           "unix:/tmp/q.sock,wait=off,server=on"}) {
    ChardevSpec s = spec_ok(text);
    EXPECT_EQ(s.kind, ChardevSpec::Kind::kUnix);
    EXPECT_EQ(s.path, "/tmp/q.sock");
    EXPECT_TRUE(s.server);
    EXPECT_FALSE(s.wait);
  }
  ChardevSpec waiting = spec_ok("unix:/tmp/q.sock,server");
  EXPECT_TRUE(waiting.server);
  EXPECT_TRUE(waiting.wait);
  ChardevSpec client = spec_ok("unix:/tmp/q.sock");
  EXPECT_FALSE(client.server);
}

TEST(ChardevSpecTest, TcpSpellings) {
  ChardevSpec s = spec_ok("tcp:127.0.0.1:4444,server,nowait");
  EXPECT_EQ(s.kind, ChardevSpec::Kind::kTcp);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, "4444");
  EXPECT_TRUE(s.server);
  EXPECT_FALSE(s.wait);
  ChardevSpec any = spec_ok("tcp::5555,server=on,wait=off,nodelay=on");
  EXPECT_EQ(any.host, "");
  EXPECT_EQ(any.port, "5555");
  EXPECT_TRUE(any.nodelay);
  ChardevSpec v6 = spec_ok("tcp:[::1]:6000,server,nowait");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, "6000");
  ChardevSpec mux = spec_ok("mon:tcp:localhost:7000,server,nowait");
  EXPECT_TRUE(mux.mux);
  EXPECT_EQ(mux.host, "localhost");
}

TEST(ChardevSpecTest, Errors) {
  EXPECT_NE(spec_err("pty").find("not supported"), std::string::npos);
  EXPECT_NE(spec_err("vc:80Cx24C").find("'vc'"), std::string::npos);
  EXPECT_NE(spec_err("telnet:localhost:4444,server").find("'telnet'"), std::string::npos);
  EXPECT_NE(spec_err("whatever").find("unknown backend 'whatever'"), std::string::npos);
  EXPECT_NE(spec_err("file:").find("file name"), std::string::npos);
  EXPECT_NE(spec_err("unix:").find("path"), std::string::npos);
  EXPECT_NE(spec_err("tcp:4444").find("HOST:PORT"), std::string::npos);
  EXPECT_NE(spec_err("tcp:host:").find("port"), std::string::npos);
  EXPECT_NE(spec_err("tcp:h:1,server=maybe").find("'server'"), std::string::npos);
  EXPECT_NE(spec_err("unix:/x,server,bogus").find("unsupported option 'bogus'"),
            std::string::npos);
  EXPECT_NE(spec_err("unix:/x,nowait").find("client connect mode"), std::string::npos);
  EXPECT_FALSE(spec_err("mon:none").empty());
  EXPECT_FALSE(spec_err("mon:mon:stdio").empty());
}

// ---- helpers ---------------------------------------------------------------

std::string temp_dir() {
  char tmpl[] = "/tmp/ferry-chardev-XXXXXX";
  char* dir = mkdtemp(tmpl);
  EXPECT_NE(dir, nullptr);
  return dir ? dir : "/tmp";
}

int connect_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Pumps `loop` until `done()` or a timeout.
template <typename Pred>
bool pump(EventLoop& loop, Pred done, int timeout_ms = 2000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    loop.run_once(10);
  }
  return true;
}

std::string read_available(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

// ---- stdio ---------------------------------------------------------------------

TEST(StdioChardevTest, ReadsPipeAndStopsAtEof) {
  EventLoop loop;
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out), 0);
  StdioOptions opts;
  opts.in_fd = in[0];
  opts.out_fd = out[1];
  StdioChardev chr(loop, opts);
  EXPECT_FALSE(chr.is_tty());
  std::string got;
  std::vector<ChardevEvent> events;
  chr.set_handlers({[&](const uint8_t* d, size_t n) { got.append((const char*)d, n); },
                    [&](ChardevEvent e) { events.push_back(e); }});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], ChardevEvent::kOpened);

  ASSERT_EQ(write(in[1], "hello", 5), 5);
  ASSERT_TRUE(pump(loop, [&] { return got == "hello"; }));
  close(in[1]);
  ASSERT_TRUE(pump(loop, [&] { return !chr.reading(); }));
  EXPECT_FALSE(loop.has_fd(in[0]));  // no spinning on EOF

  chr.write("out\n");
  EXPECT_EQ(read_available(out[0]), "out\n");
  close(in[0]);
  close(out[0]);
  close(out[1]);
}

TEST(StdioChardevTest, ConcurrentWritersDoNotCorrupt) {
  EventLoop loop;
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe2(out, O_NONBLOCK), 0);
  StdioOptions opts;
  opts.in_fd = in[0];
  opts.out_fd = out[1];
  StdioChardev chr(loop, opts);
  std::string all;
  std::thread reader([&] {
    char buf[4096];
    while (all.size() < 2 * 1000 * 6) {
      pollfd p{out[0], POLLIN, 0};
      poll(&p, 1, 1000);
      ssize_t n = read(out[0], buf, sizeof(buf));
      if (n > 0) all.append(buf, n);
    }
  });
  std::thread a([&] { for (int i = 0; i < 1000; ++i) chr.write("AAAAA\n"); });
  std::thread b([&] { for (int i = 0; i < 1000; ++i) chr.write("BBBBB\n"); });
  a.join();
  b.join();
  reader.join();
  std::istringstream lines(all);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(line == "AAAAA" || line == "BBBBB") << line;
    ++count;
  }
  EXPECT_EQ(count, 2000);
  for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
}

// ---- file ------------------------------------------------------------------------

TEST(FileChardevTest, WritesAndTruncates) {
  std::string dir = temp_dir();
  std::string path = dir + "/out.txt";
  {
    std::ofstream(path) << "old contents";
  }
  std::string error;
  auto chr = FileChardev::open(path, &error);
  ASSERT_TRUE(chr) << error;
  chr->write("guest says hi\n");
  chr.reset();
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "guest says hi\n");
  unlink(path.c_str());
  rmdir(dir.c_str());

  EXPECT_FALSE(FileChardev::open("/nonexistent-dir/x", &error));
  EXPECT_NE(error.find("could not open '/nonexistent-dir/x'"), std::string::npos);
}

// ---- socket ---------------------------------------------------------------------

TEST(SocketChardevTest, UnixServerServesSequentialClients) {
  EventLoop loop;
  std::string dir = temp_dir();
  std::string path = dir + "/s.sock";
  std::string error;
  auto spec = parse_chardev_spec("unix:" + path + ",server=on,wait=off", &error);
  ASSERT_TRUE(spec);
  auto chr = SocketChardev::create(loop, *spec, &error);
  ASSERT_TRUE(chr) << error;
  EXPECT_FALSE(chr->is_open());

  std::string got;
  int opened = 0, closed = 0;
  chr->set_handlers({[&](const uint8_t* d, size_t n) { got.append((const char*)d, n); },
                     [&](ChardevEvent e) {
                       if (e == ChardevEvent::kOpened) ++opened;
                       if (e == ChardevEvent::kClosed) ++closed;
                     }});
  chr->write("dropped: nobody connected");

  for (int round = 1; round <= 2; ++round) {
    int client = connect_unix(path);
    ASSERT_GE(client, 0);
    ASSERT_TRUE(pump(loop, [&] { return opened == round; }));
    EXPECT_TRUE(chr->is_open());
    ASSERT_EQ(write(client, "ping", 4), 4);
    ASSERT_TRUE(pump(loop, [&] { return got == "ping"; }));
    chr->write("pong");
    pollfd p{client, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 1000), 1);
    EXPECT_EQ(read_available(client), "pong");
    close(client);
    ASSERT_TRUE(pump(loop, [&] { return closed == round; }));
    EXPECT_FALSE(chr->is_open());
    got.clear();
  }
  chr.reset();
  EXPECT_NE(access(path.c_str(), F_OK), 0);  // socket file removed
  rmdir(dir.c_str());
}

TEST(SocketChardevTest, SecondClientWaitsForTheFirst) {
  EventLoop loop;
  std::string dir = temp_dir();
  std::string path = dir + "/s.sock";
  std::string error;
  auto chr = SocketChardev::create(loop, *parse_chardev_spec("unix:" + path + ",server,nowait", &error),
                                   &error);
  ASSERT_TRUE(chr) << error;
  int opened = 0;
  chr->set_handlers({nullptr, [&](ChardevEvent e) { opened += e == ChardevEvent::kOpened; }});
  int a = connect_unix(path);
  ASSERT_TRUE(pump(loop, [&] { return opened == 1; }));
  int b = connect_unix(path);  // sits in the backlog
  ASSERT_GE(b, 0);
  loop.run_once(50);
  EXPECT_EQ(opened, 1);
  close(a);
  ASSERT_TRUE(pump(loop, [&] { return opened == 2; }));
  close(b);
  chr.reset();
  rmdir(dir.c_str());
}

TEST(SocketChardevTest, TcpServerOnEphemeralPort) {
  EventLoop loop;
  std::string error;
  auto chr = SocketChardev::create(
      loop, *parse_chardev_spec("tcp:127.0.0.1:0,server,nowait", &error), &error);
  ASSERT_TRUE(chr) << error;
  int port = chr->local_port();
  ASSERT_GT(port, 0);
  std::string client_spec = "tcp:127.0.0.1:" + std::to_string(port);
  std::string got;
  chr->set_handlers({[&](const uint8_t* d, size_t n) { got.append((const char*)d, n); }, nullptr});
  // A ferry client chardev talks to the server chardev.
  auto client = SocketChardev::create(loop, *parse_chardev_spec(client_spec, &error), &error);
  ASSERT_TRUE(client) << error;
  EXPECT_TRUE(client->is_open());
  client->write("over tcp");
  ASSERT_TRUE(pump(loop, [&] { return got == "over tcp"; }));
}

TEST(SocketChardevTest, ReceivesFileDescriptors) {
  EventLoop loop;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto chr = SocketChardev::adopt(loop, sv[0], "socketpair");
  std::string got;
  chr->set_handlers({[&](const uint8_t* d, size_t n) { got.append((const char*)d, n); }, nullptr});

  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  char data = 'x';
  iovec iov{&data, 1};
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
  std::memcpy(CMSG_DATA(c), &pipefd[1], sizeof(int));
  ASSERT_EQ(sendmsg(sv[1], &msg, 0), 1);

  ASSERT_TRUE(pump(loop, [&] { return got == "x"; }));
  std::vector<int> fds = chr->take_received_fds();
  ASSERT_EQ(fds.size(), 1u);
  ASSERT_EQ(write(fds[0], "via-fd", 6), 6);  // the passed pipe end works
  char buf[8] = {};
  ASSERT_EQ(read(pipefd[0], buf, sizeof(buf)), 6);
  EXPECT_STREQ(buf, "via-fd");
  EXPECT_TRUE(chr->take_received_fds().empty());
  close(fds[0]);
  close(pipefd[0]);
  close(pipefd[1]);
  close(sv[1]);
}

TEST(SocketChardevTest, LargeOutputIsQueuedAndDelivered) {
  EventLoop loop;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto chr = SocketChardev::adopt(loop, sv[0], "socketpair");
  std::string big(1 << 20, 'z');
  std::thread writer([&] { chr->write(big); });  // from another thread
  writer.join();
  std::string got;
  ASSERT_TRUE(pump(loop, [&] {
    got += read_available(sv[1]);
    return got.size() == big.size();
  }, 5000));
  EXPECT_EQ(got, big);
  close(sv[1]);
}

TEST(SocketChardevTest, ConnectFailureNamesTheSocket) {
  EventLoop loop;
  std::string error;
  auto spec = parse_chardev_spec("unix:/nonexistent-dir/nothing.sock", &error);
  ASSERT_TRUE(spec);
  EXPECT_FALSE(create_chardev(*spec, loop, StdioOptions{}, &error));
  EXPECT_NE(error.find("/nonexistent-dir/nothing.sock"), std::string::npos) << error;
}

// ---- mux -------------------------------------------------------------------------

class FakeBackend : public Chardev {
 public:
  void write(const uint8_t* d, size_t n) override { out.append((const char*)d, n); }
  using Chardev::write;
  bool is_open() const override { return true; }
  std::string label() const override { return "fake"; }
  void type(const std::string& s) { deliver_input((const uint8_t*)s.data(), s.size()); }
  std::string out;
};

struct MuxFixture {
  FakeBackend* backend = new FakeBackend;
  MuxChardev mux{std::unique_ptr<Chardev>(backend)};
  std::string serial_in, monitor_in;
  std::vector<std::string> serial_events, monitor_events;
  MuxFixture() {
    Chardev& serial = mux.add_frontend();
    Chardev& monitor = mux.add_frontend();
    serial.set_handlers({[&](const uint8_t* d, size_t n) { serial_in.append((const char*)d, n); },
                         [&](ChardevEvent e) { serial_events.push_back(name(e)); }});
    monitor.set_handlers({[&](const uint8_t* d, size_t n) { monitor_in.append((const char*)d, n); },
                          [&](ChardevEvent e) { monitor_events.push_back(name(e)); }});
  }
  static std::string name(ChardevEvent e) {
    switch (e) {
      case ChardevEvent::kOpened: return "opened";
      case ChardevEvent::kClosed: return "closed";
      case ChardevEvent::kFocusIn: return "in";
      case ChardevEvent::kFocusOut: return "out";
    }
    return "?";
  }
};

TEST(MuxChardevTest, RoutesInputToFocusAndSwitchesWithCtrlAC) {
  MuxFixture f;
  EXPECT_EQ(f.mux.focus(), 0u);
  EXPECT_TRUE(f.mux.frontend(0).has_focus());
  EXPECT_FALSE(f.mux.frontend(1).has_focus());
  f.backend->type("ls\r");
  EXPECT_EQ(f.serial_in, "ls\r");
  f.backend->type("\x01" "c");
  EXPECT_EQ(f.mux.focus(), 1u);
  EXPECT_EQ(f.serial_events.back(), "out");
  EXPECT_EQ(f.monitor_events.back(), "in");
  f.backend->type("info status\r");
  EXPECT_EQ(f.monitor_in, "info status\r");
  EXPECT_EQ(f.serial_in, "ls\r");
  f.backend->type("\x01");  // escape split across reads
  f.backend->type("c");
  EXPECT_EQ(f.mux.focus(), 0u);
}

TEST(MuxChardevTest, CtrlACtrlASendsOneCtrlA) {
  MuxFixture f;
  f.backend->type("a\x01\x01" "b");
  EXPECT_EQ(f.serial_in, std::string("a\x01" "b"));
}

TEST(MuxChardevTest, CtrlAXQuits) {
  MuxFixture f;
  int quits = 0;
  f.mux.set_quit_handler([&] { ++quits; });
  f.backend->type("\x01x");
  EXPECT_EQ(quits, 1);
  EXPECT_NE(f.backend->out.find("ferry: terminated"), std::string::npos);
  EXPECT_EQ(f.serial_in, "");
}

TEST(MuxChardevTest, CtrlAHPrintsHelpAndUnknownEscapesAreDropped) {
  MuxFixture f;
  f.backend->type("\x01h");
  EXPECT_NE(f.backend->out.find("C-a x    exit emulator"), std::string::npos);
  EXPECT_NE(f.backend->out.find("C-a c    switch between console and monitor"),
            std::string::npos);
  f.backend->type("\x01zq");
  EXPECT_EQ(f.serial_in, "q");
}

TEST(MuxChardevTest, OutputFromAllFrontendsReachesTheBackend) {
  MuxFixture f;
  f.mux.frontend(0).write("guest ");
  f.mux.frontend(1).write("monitor");
  EXPECT_EQ(f.backend->out, "guest monitor");
  EXPECT_EQ(f.mux.frontend(1).label(), "mon:fake");
}

// ---- serial console --------------------------------------------------------------

TEST(SerialConsoleTest, BuffersUntilFlushAndDeliversInput) {
  FakeBackend backend;
  SerialConsole console(&backend);
  const uint8_t hello[] = {'h', 'i'};
  console.write_bytes(hello, 2);
  EXPECT_EQ(backend.out, "");
  console.flush();
  EXPECT_EQ(backend.out, "hi");
  std::string big(SerialConsole::kBufferSize + 10, 'q');
  console.write_bytes(reinterpret_cast<const uint8_t*>(big.data()), big.size());
  EXPECT_EQ(backend.out.size(), 2 + big.size());

  std::string typed;
  console.set_input_handler([&](const uint8_t* d, size_t n) { typed.append((const char*)d, n); });
  backend.type("key");
  EXPECT_EQ(typed, "key");
}

TEST(SerialConsoleTest, NullChardevDiscards) {
  SerialConsole console(nullptr);
  const uint8_t b = 'x';
  console.write_bytes(&b, 1);
  console.flush();
  console.set_input_handler([](const uint8_t*, size_t) {});
  SUCCEED();
}

}  // namespace
}  // namespace ferry
