// SlirpBackend: the user-mode network (-netdev user): libslirp's TCP/IP
// stack inside the process gives the guest a NATed network (a gateway, DHCP,
// a DNS relay) and forwards host ports to it (hostfwd=), with no privileges.
// IPv6 is on, with QEMU's defaults: fec0::/64, host fec0::2, DNS fec0::3.
//
// Frames without a vnet header. libslirp emits frames whenever it runs: in
// handle_poll, but also inside send() (an ARP reply, a DHCP offer) and from
// its timers. A frame that finds no sink at hand, or a sink without room,
// waits in a queue for the next handle_poll (add_pollfds then asks for no
// wait); beyond kMaxQueuedFrames frames are dropped, as libslirp allows (the
// guest's TCP retransmits).
//
// Migration state is libslirp's own (slirp_state_save): the IP id counter
// and the DHCP leases. Host sockets are not part of it: hostfwd listeners are
// opened again from the configuration by the destination's back end (on one
// host, not while the source still holds the port), and the connections open
// in the source process (NATed or forwarded) cannot follow: the destination's
// libslirp answers the guest's next segment on such a connection with a reset.
//
// Threads: as NetBackend. libslirp keeps one process-wide, unlocked cache of
// the host's DNS server address (get_dns_addr), shared by all instances: two
// user networks driven from two threads at once race on it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "net/net_backend.h"
#include "net/netdev_config.h"
#include "net/slirp_addresses.h"
#include "net/slirp_timers.h"

struct Slirp;

namespace ferry {

class SlirpBackend : public NetBackend {
 public:
  static constexpr size_t kMaxQueuedFrames = 512;

  // Throws std::runtime_error for a bad option, or a hostfwd rule that can't
  // be set up (a host port in use).
  explicit SlirpBackend(const NetdevConfig& config);
  ~SlirpBackend() override;
  SlirpBackend(const SlirpBackend&) = delete;
  SlirpBackend& operator=(const SlirpBackend&) = delete;

  std::string kind() const override { return "user"; }
  const std::string& id() const override { return config_.id; }
  std::string describe() const override;

  bool send(const struct iovec* iov, int iovcnt) override;

  void add_pollfds(std::vector<pollfd>& fds, int* timeout_ms, bool want_frames) override;
  void handle_poll(const std::vector<pollfd>& fds, size_t first, bool poll_failed,
                   FrameSink& sink) override;

  bool has_state() const override { return true; }
  // slirp_state_version() (4 bytes, little-endian), then slirp_state_save's bytes.
  std::vector<uint8_t> save_state() override;
  // Throws std::runtime_error("user-mode network 'ID': ..."); the back end's
  // state is then as it was before the call.
  void load_state(const std::vector<uint8_t>& state) override;

  size_t queued_frames() const { return queue_.size(); }
  uint64_t dropped_frames() const { return dropped_frames_; }

 private:
  struct Callbacks;  // libslirp's SlirpCb, in the .cc
  struct SlirpDeleter {
    void operator()(Slirp* slirp) const;
  };

  void add_host_forward(const HostForward& rule);
  void emit(const uint8_t* frame, size_t len);
  void flush_queue();
  [[noreturn]] void state_error(const std::string& why) const;

  NetdevConfig config_;
  SlirpAddresses addresses_;
  std::vector<uint8_t> frame_buf_;
  std::deque<std::vector<uint8_t>> queue_;
  uint64_t dropped_frames_ = 0;
  FrameSink* sink_ = nullptr;  // during handle_poll
  bool filled_ = false;        // add_pollfds ran since the last handle_poll
  // Declared after what libslirp's callbacks use: slirp_cleanup calls them.
  SlirpTimers timers_;
  std::unique_ptr<Slirp, SlirpDeleter> slirp_;
};

}  // namespace ferry
