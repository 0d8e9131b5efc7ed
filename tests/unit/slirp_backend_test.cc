// SlirpBackend driven as a virtio-net card's I/O thread drives it: guest
// frames in through send(), the poll loop run with a deadline, frames out to
// a sink. ARP, DHCP, a host forward end to end, the option checks, the
// migration state and the queue of frames kept for a sink without room.
#include "net/slirp_backend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>

#include "eth_frames.h"

namespace ferry {
namespace {

using test_util::ArpView;
using test_util::DhcpView;
using test_util::Frame;
using test_util::ipv4;
using test_util::kGuestMac;
using test_util::Mac;
using test_util::TcpView;

constexpr uint32_t kGateway = ipv4(10, 0, 2, 2), kGuestIp = ipv4(10, 0, 2, 15);
constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr Mac kOtherMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};

struct RecordingSink : FrameSink {
  bool deliver_frame(const uint8_t* frame, size_t len) override {
    if (!accept) {
      ++refused;
      return false;
    }
    frames.emplace_back(frame, frame + len);
    return true;
  }
  bool accept = true;
  int refused = 0;
  std::vector<Frame> frames;
};

NetdevConfig user_config() {
  NetdevConfig c;
  c.id = "net0";
  c.type = "user";
  return c;
}

void send_frame(SlirpBackend& backend, const Frame& frame) {
  iovec iov[2] = {{const_cast<uint8_t*>(frame.data()), 10},
                  {const_cast<uint8_t*>(frame.data()) + 10, frame.size() - 10}};
  EXPECT_TRUE(backend.send(iov, 2));
}

// Runs the poll loop until `done()` or `ms` have passed. The back end's
// descriptors follow one of the card's own (here a placeholder), as in a card.
bool drive(SlirpBackend& backend, FrameSink& sink, int ms, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    if (done()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    std::vector<pollfd> fds = {{-1, 0, 0}};
    int timeout = -1;
    backend.add_pollfds(fds, &timeout, true);
    const int wait = static_cast<int>(timeout < 0 ? left : std::min<int64_t>(timeout, left));
    const int n = poll(fds.data(), fds.size(), std::min(wait, 50));
    backend.handle_poll(fds, 1, n < 0, sink);
  }
}

// The first frame in `frames` that `match` accepts, or null.
template <typename View>
const Frame* find(const std::vector<Frame>& frames, bool (*read)(const Frame&, View*),
                  const std::function<bool(const View&)>& match, View* view) {
  for (const Frame& f : frames)
    if (read(f, view) && match(*view)) return &f;
  return nullptr;
}

bool is_arp_reply_to_guest(const ArpView& a) {
  return a.op == 2 && a.sender_ip == kGateway && a.target_ip == kGuestIp &&
         a.target_mac == kGuestMac;
}

Frame arp_who_has_gateway() {
  return test_util::arp(1, kBroadcast, kGuestMac, kGuestIp, Mac{}, kGateway);
}

// A TCP port on 127.0.0.1 nobody listens on now.
uint16_t free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(s);
  return ntohs(a.sin_port);
}

// The address a DHCPDISCOVER from `mac` is offered (0 if none within 2 s).
uint32_t offered_address(SlirpBackend& backend, const Mac& mac, uint32_t xid) {
  RecordingSink sink;
  send_frame(backend, test_util::dhcp_discover(mac, xid));
  DhcpView d{};
  auto offer = [&](const DhcpView& v) { return v.xid == xid && v.message_type == 2; };
  drive(backend, sink, 2000, [&] {
    return find<DhcpView>(sink.frames, test_util::read_dhcp_reply, offer, &d) != nullptr;
  });
  return find<DhcpView>(sink.frames, test_util::read_dhcp_reply, offer, &d) ? d.yiaddr : 0;
}

TEST(SlirpBackendTest, AnswersAnArpRequestForTheGateway) {
  SlirpBackend backend(user_config());
  EXPECT_EQ(backend.kind(), "user");
  EXPECT_FALSE(backend.has_vnet_header());
  RecordingSink sink;
  send_frame(backend, arp_who_has_gateway());
  ArpView a{};
  ASSERT_TRUE(drive(backend, sink, 2000, [&] {
    return find<ArpView>(sink.frames, test_util::read_arp, is_arp_reply_to_guest, &a) != nullptr;
  }));
  const Frame* reply = find<ArpView>(sink.frames, test_util::read_arp, is_arp_reply_to_guest, &a);
  EXPECT_EQ(test_util::mac_at(*reply, 0), kGuestMac);     // to the guest
  EXPECT_EQ(test_util::mac_at(*reply, 6), a.sender_mac);  // from the gateway's MAC
  EXPECT_NE(a.sender_mac, kGuestMac);
}

TEST(SlirpBackendTest, OffersTheFirstDhcpAddress) {
  SlirpBackend backend(user_config());
  EXPECT_EQ(offered_address(backend, kGuestMac, 0x1234abcd), kGuestIp);
}

TEST(SlirpBackendTest, DhcpStartAndNetworkComeFromTheOptions) {
  NetdevConfig c = user_config();
  c.net = "192.168.76.0/24";
  c.dhcpstart = "192.168.76.9";
  SlirpBackend backend(c);
  EXPECT_EQ(offered_address(backend, kGuestMac, 7), ipv4(192, 168, 76, 9));
}

TEST(SlirpBackendTest, HostForwardReachesTheGuest) {
  const uint16_t port = free_port();
  NetdevConfig c = user_config();
  c.hostfwd.push_back(HostForward{false, "127.0.0.1", port, "", 22});
  SlirpBackend backend(c);
  EXPECT_EQ(backend.describe(),
            "user: net=10.0.2.0/24 hostfwd=tcp:127.0.0.1:" + std::to_string(port) + "-:22");

  const int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);

  // libslirp accepts, and first asks who has the guest's address (the
  // dhcpstart one: the rule names none).
  RecordingSink sink;
  ArpView who{};
  auto who_has_guest = [](const ArpView& v) {
    return v.op == 1 && v.target_ip == kGuestIp && v.sender_ip == kGateway;
  };
  ASSERT_TRUE(drive(backend, sink, 3000, [&] {
    return find<ArpView>(sink.frames, test_util::read_arp, who_has_guest, &who) != nullptr;
  }));

  // The guest answers; the connection's SYN follows, from the gateway.
  send_frame(backend,
             test_util::arp(2, who.sender_mac, kGuestMac, kGuestIp, who.sender_mac, kGateway));
  TcpView syn{};
  auto syn_to_guest = [](const TcpView& t) {
    return t.dst_ip == kGuestIp && t.dst_port == 22 && (t.flags & 0x02);
  };
  ASSERT_TRUE(drive(backend, sink, 3000, [&] {
    return find<TcpView>(sink.frames, test_util::read_tcp, syn_to_guest, &syn) != nullptr;
  }));
  EXPECT_EQ(syn.src_ip, kGateway);
  EXPECT_EQ(
      test_util::mac_at(*find<TcpView>(sink.frames, test_util::read_tcp, syn_to_guest, &syn), 0),
      kGuestMac);
  close(client);
}

void expect_error(const NetdevConfig& c, const std::string& text) {
  try {
    SlirpBackend backend(c);
    ADD_FAILURE() << "no error; expected one with '" << text << "'";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(SlirpBackendTest, BadOptionsAreRefusedByName) {
  auto with = [](std::string NetdevConfig::*field, const char* value) {
    NetdevConfig c = user_config();
    c.*field = value;
    return c;
  };
  expect_error(with(&NetdevConfig::net, "10.0.2.0/33"), "Invalid net= parameter '10.0.2.0/33'");
  expect_error(with(&NetdevConfig::net, "ten.0.2.0"), "Invalid net= parameter 'ten.0.2.0'");
  expect_error(with(&NetdevConfig::net, "10.0.2.0/255.0.255.0"), "Invalid net= parameter");
  expect_error(with(&NetdevConfig::host, "10.0.3.2"),
               "Invalid host= parameter '10.0.3.2': not in the network 10.0.2.0/24");
  expect_error(with(&NetdevConfig::dns, "10.0.2.x"), "Invalid dns= parameter '10.0.2.x'");
  expect_error(with(&NetdevConfig::dns, "10.0.2.2"), "Invalid dns= parameter '10.0.2.2'");
  expect_error(with(&NetdevConfig::dhcpstart, "10.9.2.15"),
               "Invalid dhcpstart= parameter '10.9.2.15'");
  // QEMU's defaults fold into any network, and collide in a /30 (.2, .3, .3).
  expect_error(
      with(&NetdevConfig::net, "10.0.2.0/30"),
      "Invalid dhcpstart= parameter '10.0.2.3': the same address as the host or the DNS server");

  NetdevConfig bad_rule = user_config();
  bad_rule.hostfwd.push_back(HostForward{false, "localhost!", 5555, "", 22});
  expect_error(bad_rule, "Invalid host forwarding rule 'tcp:localhost!:5555-:22'");
}

TEST(SlirpBackendTest, HostForwardToABusyPortIsRefused) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(s, 1), 0);
  ASSERT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const uint16_t port = ntohs(a.sin_port);

  NetdevConfig c = user_config();
  c.hostfwd.push_back(HostForward{false, "127.0.0.1", port, "", 22});
  expect_error(c, "Could not set up host forwarding rule 'tcp:127.0.0.1:" + std::to_string(port) +
                      "-:22': Address already in use");
  close(s);

  // As a destination started beside its source on one host would find it:
  // the source's listener holds the port.
  const SlirpBackend source(c);
  expect_error(c, "Could not set up host forwarding rule");
}

TEST(SlirpBackendTest, StateCarriesTheDhcpLeases) {
  SlirpBackend source(user_config());
  ASSERT_EQ(offered_address(source, kGuestMac, 1), kGuestIp);
  const std::vector<uint8_t> state = source.save_state();
  ASSERT_GE(state.size(), 5u);
  EXPECT_EQ(state[0] | state[1] << 8 | state[2] << 16 | state[3] << 24,
            4);  // slirp_state_version()

  // On the destination the first address is taken, so another card gets the next.
  SlirpBackend dest(user_config());
  dest.load_state(state);
  EXPECT_EQ(offered_address(dest, kOtherMac, 2), ipv4(10, 0, 2, 16));
  EXPECT_EQ(offered_address(dest, kGuestMac, 3), kGuestIp);
  // Without the state, it would have been the first.
  SlirpBackend fresh(user_config());
  EXPECT_EQ(offered_address(fresh, kOtherMac, 4), kGuestIp);
}

void expect_refused(SlirpBackend& backend, const std::vector<uint8_t>& state,
                    const std::string& text) {
  try {
    backend.load_state(state);
    ADD_FAILURE() << "state of " << state.size() << " bytes taken; expected '" << text << "'";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("user-mode network 'net0': " + text), std::string::npos)
        << e.what();
  }
}

TEST(SlirpBackendTest, BadStatesAreRefusedAndLeaveTheStateAsItWas) {
  SlirpBackend source(user_config());
  ASSERT_EQ(offered_address(source, kGuestMac, 1), kGuestIp);
  const std::vector<uint8_t> good = source.save_state();

  SlirpBackend dest(user_config());
  expect_refused(dest, {}, "the saved state is truncated");
  expect_refused(dest, std::vector<uint8_t>(good.begin(), good.end() - 1),
                 "the saved state is truncated");
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  expect_refused(dest, longer, "the saved state has trailing data");
  std::vector<uint8_t> newer = good;
  newer[0] = 5;
  expect_refused(dest, newer,
                 "the saved state has libslirp state version 5, newer than this libslirp's (4)");
  std::vector<uint8_t> sockets = good;
  sockets[4] = 42;  // what libslirp writes before a guestfwd socket
  expect_refused(dest, sockets, "the saved state holds guestfwd connections");

  // None of them took the lease in: the first address is still free.
  EXPECT_EQ(offered_address(dest, kOtherMac, 2), kGuestIp);
}

TEST(SlirpBackendTest, GarbageStatesNeverCrash) {
  SlirpBackend backend(user_config());
  uint32_t seed = 12345;
  auto next = [&seed] {
    return seed = seed * 1103515245 + 12345, static_cast<uint8_t>(seed >> 16);
  };
  for (size_t len = 0; len < 300; len += 7) {
    std::vector<uint8_t> garbage(len);
    for (uint8_t& b : garbage) b = next();
    if (len >= 4)
      garbage[0] = static_cast<uint8_t>(1 + len % 4), garbage[1] = garbage[2] = garbage[3] = 0;
    try {
      backend.load_state(garbage);  // a well-formed lease table is any bytes of the right length
    } catch (const std::runtime_error&) {
    }
  }
  // Still a working network.
  RecordingSink sink;
  send_frame(backend, arp_who_has_gateway());
  ArpView a{};
  EXPECT_TRUE(drive(backend, sink, 2000, [&] {
    return find<ArpView>(sink.frames, test_util::read_arp, is_arp_reply_to_guest, &a) != nullptr;
  }));
}

TEST(SlirpBackendTest, FramesWaitForASinkWithRoom) {
  SlirpBackend backend(user_config());
  // The ARP reply is made inside send(), with no sink at hand.
  send_frame(backend, arp_who_has_gateway());
  EXPECT_EQ(backend.queued_frames(), 1u);

  std::vector<pollfd> fds;
  int timeout = -1;
  backend.add_pollfds(fds, &timeout, false);
  EXPECT_NE(timeout, 0);  // the card can't take frames: no reason to hurry
  timeout = -1;
  fds.clear();
  backend.add_pollfds(fds, &timeout, true);
  EXPECT_EQ(timeout, 0);  // it can: come back at once

  RecordingSink full;
  full.accept = false;
  backend.handle_poll(fds, 0, false, full);
  EXPECT_GE(full.refused, 1);
  EXPECT_EQ(backend.queued_frames(), 1u);

  RecordingSink sink;
  fds.clear();
  backend.add_pollfds(fds, &timeout, true);
  backend.handle_poll(fds, 0, false, sink);
  EXPECT_EQ(backend.queued_frames(), 0u);
  ASSERT_EQ(sink.frames.size(), 1u);
  ArpView a{};
  ASSERT_TRUE(test_util::read_arp(sink.frames[0], &a));
  EXPECT_TRUE(is_arp_reply_to_guest(a));
}

TEST(SlirpBackendTest, TheQueueIsBounded) {
  SlirpBackend backend(user_config());
  const size_t extra = 88;
  for (size_t i = 0; i < SlirpBackend::kMaxQueuedFrames + extra; ++i)
    send_frame(backend, arp_who_has_gateway());
  EXPECT_EQ(backend.queued_frames(), SlirpBackend::kMaxQueuedFrames);
  EXPECT_EQ(backend.dropped_frames(), extra);

  RecordingSink sink;
  std::vector<pollfd> fds;
  int timeout = -1;
  backend.add_pollfds(fds, &timeout, true);
  backend.handle_poll(fds, 0, false, sink);
  size_t replies = 0;
  for (const Frame& f : sink.frames) {
    ArpView a{};
    replies += test_util::read_arp(f, &a) && is_arp_reply_to_guest(a);
  }
  EXPECT_EQ(replies, SlirpBackend::kMaxQueuedFrames);
  EXPECT_EQ(backend.queued_frames(), 0u);
}

TEST(SlirpBackendTest, PollTimeoutIsBoundedByLibslirp) {
  SlirpBackend backend(user_config());
  std::vector<pollfd> fds;
  int timeout = -1;
  backend.add_pollfds(fds, &timeout, true);
  EXPECT_GE(timeout, 0);  // libslirp's own timers: at most a second
  EXPECT_LE(timeout, 1000);
  timeout = 5;
  backend.add_pollfds(fds, &timeout, true);
  EXPECT_LE(timeout, 5);  // never raised
}

}  // namespace
}  // namespace ferry
