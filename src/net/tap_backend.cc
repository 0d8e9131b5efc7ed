#include "net/tap_backend.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ferry {
namespace {

constexpr int kVnetHeaderSize = 12;          // virtio_net_hdr_v1: VERSION_1's header
constexpr size_t kMaxFrame = 65536 + 14 + kVnetHeaderSize;  // a 64 KiB GSO frame
constexpr int kFramesPerPoll = 64;           // then let the card's transmit side run

std::string errno_text() { return std::strerror(errno); }

}  // namespace

TapBackend::TapBackend(const NetdevConfig& config)
    : id_(config.id), ifname_(config.ifname), buffer_(kMaxFrame) {
  const std::string what = "-netdev tap,id=" + id_ + ": ";
  if (config.fd >= 0) {
    fd_ = config.fd;
    ifreq ifr{};
    if (ioctl(fd_, TUNGETIFF, &ifr) < 0)
      throw std::runtime_error(what + "fd=" + std::to_string(fd_) + " is not a tap device (" +
                               errno_text() + ")");
    if (!(ifr.ifr_flags & IFF_TAP))
      throw std::runtime_error(what + "fd=" + std::to_string(fd_) + " is a tun, not a tap");
    ifname_ = ifr.ifr_name;
    vnet_hdr_ = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
  } else {
    if (ifname_.empty())
      throw std::runtime_error(what + "a tap needs ifname=TAP or fd=N (ferry runs no scripts)");
    if (ifname_.size() >= IFNAMSIZ)
      throw std::runtime_error(what + "interface name '" + ifname_ + "' is too long");
    // TUNSETIFF would make a new tap by that name: one nobody attached to
    // anything, where the guest's traffic would go nowhere.
    if (if_nametoindex(ifname_.c_str()) == 0)
      throw std::runtime_error(what + "there is no tap device '" + ifname_ +
                               "' (create it first, e.g. ip tuntap add " + ifname_ +
                               " mode tap, and attach it to a bridge)");
    fd_ = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(what + "could not open /dev/net/tun: " + errno_text());
    unsigned features = 0;
    const bool can_vnet = ioctl(fd_, TUNGETFEATURES, &features) == 0 && (features & IFF_VNET_HDR);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname_.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (config.vnet_hdr && can_vnet ? IFF_VNET_HDR : 0);
    if (ioctl(fd_, TUNSETIFF, &ifr) < 0) {
      const int err = errno;
      close(fd_);
      throw std::runtime_error(what + "could not open tap '" + ifname_ + "': " +
                               std::strerror(err) +
                               (err == EBUSY ? " (in use, or not a tap)" : ""));
    }
    vnet_hdr_ = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
  }
  if (config.vnet_hdr_required && !vnet_hdr_) {
    if (config.fd < 0) close(fd_);
    throw std::runtime_error(what + "vnet_hdr=on: tap '" + ifname_ +
                             "' has no virtio-net header support");
  }
  if (vnet_hdr_) {
    int size = kVnetHeaderSize;
    if (ioctl(fd_, TUNSETVNETHDRSZ, &size) < 0) {
      close(fd_);
      throw std::runtime_error(what + "could not set the tap's header size: " + errno_text());
    }
  }
  const int flags = fcntl(fd_, F_GETFL);
  fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  set_offloads({});
}

TapBackend::~TapBackend() {
  if (fd_ >= 0) close(fd_);
}

std::string TapBackend::describe() const {
  return "tap: ifname=" + ifname_ + (vnet_hdr_ ? " vnet_hdr=on" : " vnet_hdr=off");
}

void TapBackend::set_offloads(const NetOffloads& o) {
  if (!vnet_hdr_) return;
  unsigned flags = 0;
  if (o.csum) {
    flags |= TUN_F_CSUM;  // segmentation offloads need it
    if (o.tso4) flags |= TUN_F_TSO4;
    if (o.tso6) flags |= TUN_F_TSO6;
    if (o.ecn && (o.tso4 || o.tso6)) flags |= TUN_F_TSO_ECN;
  }
  // A kernel that refuses some offload keeps to plain frames; nothing breaks.
  if (ioctl(fd_, TUNSETOFFLOAD, flags) < 0) ioctl(fd_, TUNSETOFFLOAD, 0);
}

bool TapBackend::send(const struct iovec* iov, int iovcnt) {
  for (;;) {
    if (writev(fd_, iov, iovcnt) >= 0) return true;
    if (errno != EINTR) return false;  // a full queue (EAGAIN) or a down link: dropped
  }
}

void TapBackend::add_pollfds(std::vector<pollfd>& fds, int* timeout_ms, bool want_frames) {
  polled_ = want_frames;
  if (!want_frames) return;
  fds.push_back({fd_, POLLIN, 0});
  if (frame_len_) *timeout_ms = 0;  // the frame in hand goes first, now that there is room
}

void TapBackend::handle_poll(const std::vector<pollfd>& fds, size_t first, bool poll_failed,
                             FrameSink& sink) {
  if (!polled_ || poll_failed || first >= fds.size()) return;
  if (frame_len_) {
    if (!sink.deliver_frame(frame_.data(), frame_len_)) return;
    frame_len_ = 0;
  }
  if (!(fds[first].revents & POLLIN)) return;
  for (int i = 0; i < kFramesPerPoll; ++i) {
    const ssize_t n = read(fd_, buffer_.data(), buffer_.size());
    if (n <= 0) return;  // drained (EAGAIN), or the tap went away
    if (!sink.deliver_frame(buffer_.data(), static_cast<size_t>(n))) {
      frame_.assign(buffer_.begin(), buffer_.begin() + n);  // first in line next time
      frame_len_ = static_cast<size_t>(n);
      return;
    }
  }
}

}  // namespace ferry
