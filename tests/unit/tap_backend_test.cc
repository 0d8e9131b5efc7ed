// TapBackend: the errors it names without any privilege, and, where the
// test may make a network namespace of its own (root), a real tap in it:
// frames both ways (with and without the virtio-net header) checked through
// a packet socket on the tap's interface, the frame a full card leaves
// first in line, and opening by name. Without the privilege those skip.
#include "net/tap_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ferry {
namespace {

using Frame = std::vector<uint8_t>;

constexpr uint16_t kTestEthertype = 0x88b5;  // IEEE local experimental
constexpr size_t kVnetHeader = 12;

// The back end, or null with the reason in *error.
std::unique_ptr<TapBackend> open_backend(const NetdevConfig& c, std::string* error) {
  try {
    return std::make_unique<TapBackend>(c);
  } catch (const std::runtime_error& e) {
    *error = e.what();
    return nullptr;
  }
}

std::string construct_error(const NetdevConfig& c) {
  std::string error;
  open_backend(c, &error);
  return error;
}

NetdevConfig tap_config() {
  NetdevConfig c;
  c.id = "t0";
  c.type = "tap";
  return c;
}

TEST(TapBackendErrorsTest, NamesTheProblem) {
  NetdevConfig c = tap_config();
  c.ifname = "nosuchtap9";
  EXPECT_EQ(construct_error(c),
            "-netdev tap,id=t0: there is no tap device 'nosuchtap9' (create it first, e.g. ip "
            "tuntap add nosuchtap9 mode tap, and attach it to a bridge)");
  c.ifname = "a-name-far-too-long-for-linux";
  EXPECT_EQ(construct_error(c),
            "-netdev tap,id=t0: interface name 'a-name-far-too-long-for-linux' is too long");
  c.ifname = "";
  EXPECT_EQ(construct_error(c),
            "-netdev tap,id=t0: a tap needs ifname=TAP or fd=N (ferry runs no scripts)");

  // An fd that is no tap at all.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  c.fd = p[0];
  const std::string e = construct_error(c);
  EXPECT_EQ(e.rfind("-netdev tap,id=t0: fd=" + std::to_string(p[0]) + " is not a tap device (", 0),
            0u)
      << e;
  EXPECT_NE(fcntl(p[0], F_GETFD), -1);  // still the caller's, still open
  close(p[0]);
  close(p[1]);
}

// A network namespace of the test's own, entered by the threads that need it
// (a thread's namespace is its own: the rest of the process stays put).
class Netns {
 public:
  Netns() {
    run([this] {
      if (unshare(CLONE_NEWNET) != 0) {
        error_ = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
        return;
      }
      fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) error_ = "no /proc/thread-self/ns/net";
      // No IPv6 chatter (router solicitations, DAD) on the test's wire.
      for (const char* conf : {"all", "default"}) {
        const std::string path = std::string("/proc/sys/net/ipv6/conf/") + conf + "/disable_ipv6";
        const int f = open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (f >= 0) {
          ssize_t n = write(f, "1", 1);
          (void)n;
          close(f);
        }
      }
    }, false);
  }
  ~Netns() {
    if (fd_ >= 0) close(fd_);
  }
  const std::string& error() const { return error_; }
  // Runs `fn` on a thread inside the namespace.
  void run(const std::function<void()>& fn, bool enter = true) {
    std::thread([&] {
      if (enter && setns(fd_, CLONE_NEWNET) != 0) {
        error_ = std::string("setns: ") + std::strerror(errno);
        return;
      }
      fn();
    }).join();
  }

 private:
  int fd_ = -1;
  std::string error_;
};

struct RecordingSink : FrameSink {
  bool deliver_frame(const uint8_t* frame, size_t len) override {
    offered.emplace_back(frame, frame + len);
    if (refuse > 0) {
      --refuse;
      return false;
    }
    frames.emplace_back(frame, frame + len);
    return true;
  }
  int refuse = 0;
  std::vector<Frame> offered, frames;
};

Frame test_frame(uint8_t seed, size_t len = 100) {
  Frame f(len);
  for (size_t i = 0; i < 6; ++i) f[i] = 0xff;
  const uint8_t src[6] = {0x02, 0, 0, 0, 0x11, seed};
  std::memcpy(&f[6], src, 6);
  f[12] = kTestEthertype >> 8, f[13] = kTestEthertype & 0xff;
  for (size_t i = 14; i < len; ++i) f[i] = static_cast<uint8_t>(seed * 31 + i);
  return f;
}

bool is_test_frame(const Frame& f, size_t offset = 0) {
  return f.size() >= offset + 14 && f[offset + 12] == (kTestEthertype >> 8) &&
         f[offset + 13] == (kTestEthertype & 0xff);
}

class TapBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    netns_ = std::make_unique<Netns>();
    if (!netns_->error().empty()) GTEST_SKIP() << "no network namespace: " << netns_->error();
    const int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tun < 0) GTEST_SKIP() << "/dev/net/tun: " << std::strerror(errno);
    close(tun);
  }
  void TearDown() override {
    if (packet_ >= 0) close(packet_);
  }

  // A tap "ftap0" in the namespace, up, with a packet socket on it; its fd.
  int make_tap(bool vnet_hdr, bool persist = false) {
    int fd = -1;
    std::string error;
    netns_->run([&] {
      fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        error = std::string("/dev/net/tun: ") + std::strerror(errno);
        return;
      }
      ifreq ifr{};
      std::strcpy(ifr.ifr_name, "ftap0");
      ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
      if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error = std::string("TUNSETIFF: ") + std::strerror(errno);
        return;
      }
      if (persist) ioctl(fd, TUNSETPERSIST, 1);
      const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ifreq up{};
      std::strcpy(up.ifr_name, "ftap0");
      ioctl(s, SIOCGIFFLAGS, &up);
      up.ifr_flags |= IFF_UP;
      if (ioctl(s, SIOCSIFFLAGS, &up) < 0) error = std::string("up: ") + std::strerror(errno);
      close(s);
      packet_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(ETH_P_ALL);
      sll.sll_ifindex = static_cast<int>(if_nametoindex("ftap0"));
      ifindex_ = sll.sll_ifindex;
      if (packet_ < 0 || bind(packet_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
        error = std::string("packet socket: ") + std::strerror(errno);
    });
    EXPECT_EQ(error, "");
    return fd;
  }

  // Sends `f` out of the interface: it comes up the tap to the back end.
  void wire_send(const Frame& f) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex_;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, f.data(), 6);
    ASSERT_EQ(sendto(packet_, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(f.size()))
        << std::strerror(errno);
  }
  // The next test frame the interface received from the back end.
  Frame wire_receive() {
    Frame buf(70000);
    for (int i = 0; i < 50; ++i) {
      pollfd p{packet_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      const ssize_t n =
          recvfrom(packet_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
      Frame f(buf.begin(), buf.begin() + n);
      if (is_test_frame(f)) return f;
    }
    return {};
  }
  // Runs the card's poll loop until `done` or 2 s.
  void poll_until(TapBackend& tap, RecordingSink& sink, const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done() && std::chrono::steady_clock::now() < until) {
      std::vector<pollfd> fds;
      int timeout = 50;
      tap.add_pollfds(fds, &timeout, true);
      const int n = poll(fds.data(), fds.size(), timeout);
      tap.handle_poll(fds, 0, n < 0, sink);
    }
  }
  static bool send(TapBackend& tap, const Frame& f) {
    iovec iov[2] = {{const_cast<uint8_t*>(f.data()), 20},
                    {const_cast<uint8_t*>(f.data()) + 20, f.size() - 20}};
    return tap.send(iov, 2);
  }

  std::unique_ptr<Netns> netns_;
  int packet_ = -1;
  int ifindex_ = 0;
};

TEST_F(TapBackendTest, PlainFramesBothWays) {
  const int fd = make_tap(false);
  ASSERT_GE(fd, 0);
  NetdevConfig c = tap_config();
  c.fd = fd;
  TapBackend tap(c);  // takes the fd
  EXPECT_EQ(tap.kind(), "tap");
  EXPECT_EQ(tap.id(), "t0");
  EXPECT_FALSE(tap.has_vnet_header());
  EXPECT_EQ(tap.describe(), "tap: ifname=ftap0 vnet_hdr=off");

  const Frame out = test_frame(1);
  ASSERT_TRUE(send(tap, out));
  EXPECT_EQ(wire_receive(), out);

  const Frame in = test_frame(2, 300);
  wire_send(in);
  RecordingSink sink;
  poll_until(tap, sink, [&] { return !sink.frames.empty(); });
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0], in);
}

TEST_F(TapBackendTest, VnetHeaderFramesBothWays) {
  const int fd = make_tap(true);
  ASSERT_GE(fd, 0);
  NetdevConfig c = tap_config();
  c.fd = fd;
  TapBackend tap(c);
  EXPECT_TRUE(tap.has_vnet_header());
  EXPECT_EQ(tap.describe(), "tap: ifname=ftap0 vnet_hdr=on");
  tap.set_offloads({true, true, true, false});

  // Out: the header first (no offload asked), then the frame.
  const Frame frame = test_frame(3);
  Frame out(kVnetHeader, 0);
  out.insert(out.end(), frame.begin(), frame.end());
  ASSERT_TRUE(send(tap, out));
  EXPECT_EQ(wire_receive(), frame);

  // In: the frame behind the header the kernel wrote.
  const Frame in = test_frame(4, 200);
  wire_send(in);
  RecordingSink sink;
  poll_until(tap, sink, [&] { return !sink.frames.empty(); });
  ASSERT_EQ(sink.frames.size(), 1u);
  ASSERT_EQ(sink.frames[0].size(), kVnetHeader + in.size());
  EXPECT_EQ(Frame(sink.frames[0].begin() + kVnetHeader, sink.frames[0].end()), in);
}

TEST_F(TapBackendTest, AFrameTheCardRefusedComesFirstNextTime) {
  const int fd = make_tap(false);
  ASSERT_GE(fd, 0);
  NetdevConfig c = tap_config();
  c.fd = fd;
  TapBackend tap(c);
  const Frame a = test_frame(5), b = test_frame(6);
  wire_send(a);
  wire_send(b);
  RecordingSink sink;
  sink.refuse = 1;
  poll_until(tap, sink, [&] { return !sink.offered.empty(); });
  ASSERT_EQ(sink.offered.size(), 1u);  // refused: the back end stops there
  EXPECT_TRUE(sink.frames.empty());
  // While the card has no room, the back end doesn't even watch the tap.
  std::vector<pollfd> fds;
  int timeout = -1;
  tap.add_pollfds(fds, &timeout, false);
  EXPECT_TRUE(fds.empty());
  tap.handle_poll(fds, 0, false, sink);
  EXPECT_EQ(sink.offered.size(), 1u);
  // With room again: the kept frame at once (no wait), then the next.
  tap.add_pollfds(fds, &timeout, true);
  EXPECT_EQ(timeout, 0);
  poll_until(tap, sink, [&] { return sink.frames.size() >= 2; });
  ASSERT_EQ(sink.frames.size(), 2u);
  EXPECT_EQ(sink.frames[0], a);
  EXPECT_EQ(sink.frames[1], b);
}

TEST_F(TapBackendTest, OpensAnExistingTapByName) {
  const int fd = make_tap(false, /*persist=*/true);
  ASSERT_GE(fd, 0);
  // Busy while another fd holds it: the message says so.
  NetdevConfig c = tap_config();
  c.ifname = "ftap0";
  std::string busy;
  netns_->run([&] { busy = construct_error(c); });
  EXPECT_NE(busy.find("could not open tap 'ftap0'"), std::string::npos) << busy;
  EXPECT_NE(busy.find("(in use, or not a tap)"), std::string::npos) << busy;
  close(fd);  // persistent: the tap stays, free

  std::unique_ptr<TapBackend> tap;
  std::string error;
  c.vnet_hdr = false;
  netns_->run([&] { tap = open_backend(c, &error); });
  ASSERT_TRUE(tap) << error;
  EXPECT_FALSE(tap->has_vnet_header());  // vnet_hdr=off
  const Frame out = test_frame(7);
  ASSERT_TRUE(send(*tap, out));
  EXPECT_EQ(wire_receive(), out);
  tap.reset();
  // vnet_hdr (the default): the header when the kernel has it.
  c.vnet_hdr = true;
  c.vnet_hdr_required = true;
  netns_->run([&] { tap = open_backend(c, &error); });
  ASSERT_TRUE(tap) << error;
  EXPECT_TRUE(tap->has_vnet_header());
  tap.reset();
  netns_->run([&] {
    const int f = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "ftap0");
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(f, TUNSETIFF, &ifr) == 0) ioctl(f, TUNSETPERSIST, 0);
    close(f);
  });
}

TEST_F(TapBackendTest, VnetHdrOnRefusesATapWithoutIt) {
  const int fd = make_tap(false);
  ASSERT_GE(fd, 0);
  NetdevConfig c = tap_config();
  c.fd = fd;
  c.vnet_hdr_required = true;
  EXPECT_EQ(construct_error(c),
            "-netdev tap,id=t0: vnet_hdr=on: tap 'ftap0' has no virtio-net header support");
  EXPECT_NE(fcntl(fd, F_GETFD), -1);  // a refused fd stays the caller's
  close(fd);
}

}  // namespace
}  // namespace ferry
