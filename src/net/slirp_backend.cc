#include "net/slirp_backend.h"

#include <libslirp.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ferry {
namespace {

// Above any frame a virtio-net card sends without segmentation offloads.
constexpr size_t kMaxFrameBytes = 65536 + 64;

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}
int64_t now_ms() { return now_ns() / 1000000; }

in6_addr ipv6(const char* text) {
  in6_addr a{};
  inet_pton(AF_INET6, text, &a);
  return a;
}

// What slirp_pollfds_fill / slirp_pollfds_poll carry to the poll callbacks.
struct PollFill {
  std::vector<pollfd>* fds;
  size_t first;
};
struct PollResult {
  const std::vector<pollfd>* fds;  // null: no fill before this poll, report nothing
  size_t first;
};

int add_poll(int fd, int events, void* opaque) {
  auto* fill = static_cast<PollFill*>(opaque);
  short ev = 0;
  if (events & SLIRP_POLL_IN) ev |= POLLIN;
  if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
  if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
  if (events & SLIRP_POLL_ERR) ev |= POLLERR;
  if (events & SLIRP_POLL_HUP) ev |= POLLHUP;
  fill->fds->push_back(pollfd{fd, ev, 0});
  return static_cast<int>(fill->fds->size() - 1 - fill->first);
}

int get_revents(int idx, void* opaque) {
  auto* result = static_cast<PollResult*>(opaque);
  if (!result->fds || idx < 0) return 0;
  const size_t i = result->first + static_cast<size_t>(idx);
  if (i >= result->fds->size()) return 0;
  const short rev = (*result->fds)[i].revents;
  int events = 0;
  if (rev & POLLIN) events |= SLIRP_POLL_IN;
  if (rev & POLLOUT) events |= SLIRP_POLL_OUT;
  if (rev & POLLPRI) events |= SLIRP_POLL_PRI;
  if (rev & POLLERR) events |= SLIRP_POLL_ERR;
  if (rev & POLLHUP) events |= SLIRP_POLL_HUP;
  return events;
}

ssize_t append_state(const void* buf, size_t len, void* opaque) {
  auto* out = static_cast<std::vector<uint8_t>*>(opaque);
  const auto* p = static_cast<const uint8_t*>(buf);
  out->insert(out->end(), p, p + len);
  return static_cast<ssize_t>(len);
}

// libslirp reads a short stream as zeros and reports success: the reader
// notes it, so that a truncated state is refused.
struct StateReader {
  const uint8_t* p;
  size_t left;
  bool short_read = false;
};

ssize_t read_state(void* buf, size_t len, void* opaque) {
  auto* r = static_cast<StateReader*>(opaque);
  const size_t n = std::min(len, r->left);
  std::memcpy(buf, r->p, n);
  r->p += n, r->left -= n;
  if (n < len) r->short_read = true;
  return static_cast<ssize_t>(n);
}

}  // namespace

struct SlirpBackend::Callbacks {
  static SlirpBackend* self(void* opaque) { return static_cast<SlirpBackend*>(opaque); }

  static ssize_t send_packet(const void* buf, size_t len, void* opaque) {
    self(opaque)->emit(static_cast<const uint8_t*>(buf), len);
    return static_cast<ssize_t>(len);
  }
  static void guest_error(const char* msg, void* opaque) {
    std::fprintf(stderr, "ferry: user-mode network '%s': %s\n", self(opaque)->id().c_str(), msg);
  }
  static int64_t clock_get_ns(void*) { return now_ns(); }
  static void* timer_new(SlirpTimerCb cb, void* cb_opaque, void* opaque) {
    return self(opaque)->timers_.create([cb, cb_opaque] { cb(cb_opaque); });
  }
  static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    SlirpBackend* backend = self(opaque);
    return backend->timers_.create(
        [backend, id, cb_opaque] { slirp_handle_timer(backend->slirp_.get(), id, cb_opaque); });
  }
  static void timer_free(void* timer, void* opaque) { self(opaque)->timers_.destroy(timer); }
  static void timer_mod(void* timer, int64_t expire_ms, void* opaque) {
    self(opaque)->timers_.arm(timer, expire_ms);
  }
  // The descriptors are gathered anew at each add_pollfds, and the poll
  // loop runs on this back end's own thread: nothing to register or kick.
  static void register_poll_fd(int, void*) {}
  static void unregister_poll_fd(int, void*) {}
  static void notify(void*) {}

  static constexpr SlirpCb kTable = {
      .send_packet = send_packet,
      .guest_error = guest_error,
      .clock_get_ns = clock_get_ns,
      .timer_new = timer_new,
      .timer_free = timer_free,
      .timer_mod = timer_mod,
      .register_poll_fd = register_poll_fd,
      .unregister_poll_fd = unregister_poll_fd,
      .notify = notify,
      .init_completed = nullptr,
      .timer_new_opaque = timer_new_opaque,
  };
};

void SlirpBackend::SlirpDeleter::operator()(Slirp* slirp) const { slirp_cleanup(slirp); }

SlirpBackend::SlirpBackend(const NetdevConfig& config)
    : config_(config), addresses_(resolve_slirp_addresses(config)) {
  SlirpConfig cfg{};
  cfg.version = 4;
  cfg.restricted = config_.restrict ? 1 : 0;
  cfg.in_enabled = true;
  cfg.vnetwork = SlirpAddresses::to_in_addr(addresses_.net);
  cfg.vnetmask = SlirpAddresses::to_in_addr(addresses_.mask);
  cfg.vhost = SlirpAddresses::to_in_addr(addresses_.host);
  cfg.vdhcp_start = SlirpAddresses::to_in_addr(addresses_.dhcp_start);
  cfg.vnameserver = SlirpAddresses::to_in_addr(addresses_.dns);
  cfg.in6_enabled = true;
  cfg.vprefix_addr6 = ipv6("fec0::");
  cfg.vprefix_len = 64;
  cfg.vhost6 = ipv6("fec0::2");
  cfg.vnameserver6 = ipv6("fec0::3");
  cfg.vhostname = config_.hostname.empty() ? nullptr : config_.hostname.c_str();
  slirp_.reset(slirp_new(&cfg, &Callbacks::kTable, this));
  if (!slirp_)
    throw std::runtime_error("user-mode network '" + id() + "': libslirp failed to start");
  for (const HostForward& rule : config_.hostfwd) add_host_forward(rule);
}

SlirpBackend::~SlirpBackend() = default;

void SlirpBackend::add_host_forward(const HostForward& rule) {
  const std::string text = format_hostfwd(rule);
  in_addr host{htonl(INADDR_ANY)};
  if (!rule.host_addr.empty() && inet_aton(rule.host_addr.c_str(), &host) == 0)
    throw std::runtime_error("Invalid host forwarding rule '" + text + "' (bad host address)");
  // No guest address: the first DHCP address, as QEMU.
  in_addr guest = SlirpAddresses::to_in_addr(addresses_.dhcp_start);
  if (!rule.guest_addr.empty() && inet_aton(rule.guest_addr.c_str(), &guest) == 0)
    throw std::runtime_error("Invalid host forwarding rule '" + text + "' (bad guest address)");
  errno = 0;
  if (slirp_add_hostfwd(slirp_.get(), rule.udp ? 1 : 0, host, rule.host_port, guest,
                        rule.guest_port) < 0) {
    const int err = errno;
    throw std::runtime_error("Could not set up host forwarding rule '" + text + "'" +
                             (err ? std::string(": ") + std::strerror(err) : ""));
  }
}

std::string SlirpBackend::describe() const {
  std::string line = "user: net=" + addresses_.network_text();
  if (config_.restrict) line += " restrict=on";
  for (const HostForward& rule : config_.hostfwd) line += " hostfwd=" + format_hostfwd(rule);
  return line;
}

bool SlirpBackend::send(const struct iovec* iov, int iovcnt) {
  frame_buf_.clear();
  for (int i = 0; i < iovcnt; ++i) {
    const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
    if (iov[i].iov_len > kMaxFrameBytes - frame_buf_.size())
      return true;  // dropped, as a wire would
    frame_buf_.insert(frame_buf_.end(), p, p + iov[i].iov_len);
  }
  if (frame_buf_.empty()) return true;
  slirp_input(slirp_.get(), frame_buf_.data(), static_cast<int>(frame_buf_.size()));
  return true;
}

void SlirpBackend::add_pollfds(std::vector<pollfd>& fds, int* timeout_ms, bool want_frames) {
  PollFill fill{&fds, fds.size()};
  uint32_t timeout = *timeout_ms < 0 ? UINT32_MAX : static_cast<uint32_t>(*timeout_ms);
  slirp_pollfds_fill(slirp_.get(), &timeout, add_poll, &fill);
  filled_ = true;
  int64_t wait = timeout == UINT32_MAX ? -1 : int64_t{timeout};
  const int64_t timer = timers_.ms_until_next(now_ms());
  if (timer >= 0 && (wait < 0 || timer < wait)) wait = timer;
  if (want_frames && !queue_.empty()) wait = 0;
  *timeout_ms = static_cast<int>(std::min<int64_t>(wait, INT_MAX));
}

void SlirpBackend::handle_poll(const std::vector<pollfd>& fds, size_t first, bool poll_failed,
                               FrameSink& sink) {
  struct SinkScope {
    SlirpBackend* b;
    ~SinkScope() { b->sink_ = nullptr; }
  } scope{this};
  sink_ = &sink;
  flush_queue();  // first, so that frames keep their order
  PollResult result{filled_ ? &fds : nullptr, first};
  filled_ = false;
  slirp_pollfds_poll(slirp_.get(), poll_failed ? 1 : 0, get_revents, &result);
  timers_.run_due(now_ms());
}

void SlirpBackend::emit(const uint8_t* frame, size_t len) {
  if (sink_ && queue_.empty() && sink_->deliver_frame(frame, len)) return;
  if (queue_.size() >= kMaxQueuedFrames) {
    ++dropped_frames_;
    return;
  }
  queue_.emplace_back(frame, frame + len);
}

void SlirpBackend::flush_queue() {
  while (!queue_.empty() && sink_->deliver_frame(queue_.front().data(), queue_.front().size()))
    queue_.pop_front();
}

std::vector<uint8_t> SlirpBackend::save_state() {
  const auto version = static_cast<uint32_t>(slirp_state_version());
  std::vector<uint8_t> state{static_cast<uint8_t>(version), static_cast<uint8_t>(version >> 8),
                             static_cast<uint8_t>(version >> 16),
                             static_cast<uint8_t>(version >> 24)};
  slirp_state_save(slirp_.get(), append_state, &state);
  return state;
}

void SlirpBackend::state_error(const std::string& why) const {
  throw std::runtime_error("user-mode network '" + id() + "': " + why);
}

void SlirpBackend::load_state(const std::vector<uint8_t>& state) {
  if (state.size() < 5) state_error("the saved state is truncated");
  const uint32_t version = state[0] | state[1] << 8 | state[2] << 16 | uint32_t{state[3]} << 24;
  const auto ours = static_cast<uint32_t>(slirp_state_version());
  if (version > ours)
    state_error("the saved state has libslirp state version " + std::to_string(version) +
                ", newer than this libslirp's (" + std::to_string(ours) + ")");
  if (version == 0) state_error("the saved state has an invalid libslirp state version (0)");
  // libslirp's state opens with the sockets of guestfwd= rules, a non-zero
  // byte before each. This network sets up none, so libslirp would refuse
  // any, but only after taking it in: a buffer of the size the stream names
  // and a socket left on its lists. Refuse them here.
  if (state[4] != 0)
    state_error("the saved state holds guestfwd connections, which this network has none of");

  // A refused state may have been taken in part: put back the current one.
  const std::vector<uint8_t> before = save_state();
  auto load = [this](const std::vector<uint8_t>& s, StateReader* reader, uint32_t v) {
    *reader = StateReader{s.data() + 4, s.size() - 4};
    return slirp_state_load(slirp_.get(), static_cast<int>(v), read_state, reader);
  };
  StateReader reader{nullptr, 0};
  const int ret = load(state, &reader, version);
  std::string why;
  if (ret != 0)
    why = "libslirp refused the saved state (" + std::string(std::strerror(ret < 0 ? -ret : ret)) +
          ")";
  else if (reader.short_read)
    why = "the saved state is truncated";
  else if (reader.left)
    why = "the saved state has trailing data (" + std::to_string(reader.left) +
          " bytes past its end)";
  if (why.empty()) return;
  StateReader restore{nullptr, 0};
  load(before, &restore, ours);
  state_error(why);
}

}  // namespace ferry
