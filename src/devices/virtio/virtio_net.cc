#include "devices/virtio/virtio_net.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "devices/virtio/chain_view.h"

namespace ferry {
namespace {

constexpr uint64_t kFeatureCsum = 1ull << 0, kFeatureGuestCsum = 1ull << 1,
                   kFeatureMac = 1ull << 5, kFeatureGuestTso4 = 1ull << 7,
                   kFeatureGuestTso6 = 1ull << 8, kFeatureGuestEcn = 1ull << 9,
                   kFeatureHostTso4 = 1ull << 11, kFeatureHostTso6 = 1ull << 12,
                   kFeatureHostEcn = 1ull << 13, kFeatureMrgRxbuf = 1ull << 15,
                   kFeatureStatus = 1ull << 16, kFeatureCtrlVq = 1ull << 17,
                   kFeatureGuestAnnounce = 1ull << 21;
constexpr uint64_t kOffloadFeatures = kFeatureCsum | kFeatureGuestCsum | kFeatureGuestTso4 |
                                      kFeatureGuestTso6 | kFeatureGuestEcn | kFeatureHostTso4 |
                                      kFeatureHostTso6 | kFeatureHostEcn;
constexpr uint16_t kStatusLinkUp = 1, kStatusAnnounce = 2;
constexpr unsigned kRxQueue = 0, kTxQueue = 1, kCtrlQueue = 2;
constexpr size_t kHeaderSize = 12;  // virtio_net_hdr_v1 (VERSION_1: num_buffers always there)
constexpr size_t kMaxTxFrame = kHeaderSize + 65536 + 14;  // a 64 KiB GSO frame and its header
constexpr unsigned kTxBatch = 64;
constexpr unsigned kTxChainsPerPass = 256;  // then receive gets its turn
constexpr uint8_t kCtrlOk = 0, kCtrlErr = 1;
constexpr uint8_t kCtrlClassAnnounce = 3, kCtrlAnnounceAck = 0;
// The back end's migration state: libslirp's is 135 bytes (ip_id and the
// DHCP leases; guestfwd connections, which would add their socket buffers,
// are refused), a tap has none. 1 MiB, as ferry-stream's limit for a byte
// string, leaves room to spare.
constexpr size_t kMaxBackendState = 1u << 20;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t mac_to_u64(const MacAddress& mac) {
  uint64_t v = 0;
  for (uint8_t b : mac) v = v << 8 | b;
  return v;
}

MacAddress mac_from_u64(uint64_t v) {
  MacAddress mac;
  for (int i = 5; i >= 0; --i, v >>= 8) mac[i] = static_cast<uint8_t>(v);
  return mac;
}

}  // namespace

VirtioNet::VirtioNet(AddressSpace& bus, GuestRam& ram, IrqLine* irq,
                     std::unique_ptr<NetBackend> backend, const NicConfig& config)
    : VirtioMmio(ram, irq, 3), bus_(bus), backend_(std::move(backend)), config_(config) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("virtio-net: eventfd: " + std::string(strerror(errno)));
  thread_ = std::thread([this] { io_main(); });
}

VirtioNet::~VirtioNet() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake();
  thread_.join();
  close(wake_fd_);
}

void VirtioNet::wake() {
  const uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);
  (void)n;  // a full counter still wakes the thread
}

uint64_t VirtioNet::device_features() const {
  uint64_t f = kFeatureMac | kFeatureStatus | kFeatureMrgRxbuf | kFeatureCtrlVq |
               kFeatureGuestAnnounce;
  if (backend_->has_vnet_header()) f |= kOffloadFeatures;
  return f;
}

uint64_t VirtioNet::config_read(uint64_t offset, unsigned size) {
  uint8_t c[10] = {};
  std::memcpy(c, config_.mac.data(), 6);
  c[6] = static_cast<uint8_t>(status_), c[7] = static_cast<uint8_t>(status_ >> 8);
  c[8] = 1;  // max_virtqueue_pairs
  if (offset >= sizeof c || size > sizeof c - offset) return 0;
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint64_t{c[offset + i]} << (8 * i);
  return v;
}

void VirtioNet::queue_notify(unsigned index) {
  if (index == kCtrlQueue) {
    serve_control();
    return;
  }
  if (index == kRxQueue) rx_blocked_.store(false);
  wake();
}

void VirtioNet::device_reset() {
  ++generation_;
  status_ = link_up_.load() ? kStatusLinkUp : 0;
  rx_blocked_.store(false);
  backend_->set_offloads({});
}

void VirtioNet::status_written() {
  if (!driver_ok()) return;
  apply_offloads();
  wake();
}

void VirtioNet::apply_offloads() {
  const uint64_t f = driver_features();
  NetOffloads o;
  o.csum = f & kFeatureGuestCsum;
  o.tso4 = f & kFeatureGuestTso4;
  o.tso6 = f & kFeatureGuestTso6;
  o.ecn = f & kFeatureGuestEcn;
  std::lock_guard<std::mutex> lock(backend_mutex_);  // the I/O thread uses the back end too
  backend_->set_offloads(o);
}

void VirtioNet::vm_state_changed(bool running) {
  std::unique_lock<std::mutex> lock(mutex_);
  running_ = running;
  wake();
  if (!running) idle_.wait(lock, [this] { return !busy_; });
}

void VirtioNet::post_load() {
  VirtioMmio::post_load();
  rx_blocked_.store(false);
  if (driver_ok()) apply_offloads();
}

void VirtioNet::announce(const AnnounceParams& params) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    announce_.start(params, now_ms());
  }
  wake();
}

void VirtioNet::set_link(bool up) {
  link_up_.store(up);
  std::lock_guard<std::mutex> device(*bus_.device_lock());
  const uint16_t before = status_;
  status_ = up ? (status_ | kStatusLinkUp) : (status_ & ~kStatusLinkUp);
  if (status_ != before && (driver_features() & kFeatureStatus)) notify_config_change();
}

NetStats VirtioNet::stats() const {
  return {rx_frames_.load(), tx_frames_.load(), rx_dropped_.load(), tx_dropped_.load(),
          announces_.load()};
}

void VirtioNet::visit_device_state(StateVisitor& v) {
  uint64_t mac = mac_to_u64(config_.mac);
  v.field("mac", mac);
  uint32_t status = status_;
  v.field("status", status);
  std::vector<uint8_t> backend_state;
  if (!v.loading() && backend_->has_state()) {
    std::lock_guard<std::mutex> lock(backend_mutex_);
    backend_state = backend_->save_state();
  }
  v.bytes("backend", backend_state, kMaxBackendState);
  if (!v.loading()) return;
  // The guest keeps the address it read at probe time: it travels. So
  // does the link state, as in QEMU: the guest's driver saw it and hears of
  // a change only through a configuration interrupt.
  config_.mac = mac_from_u64(mac);
  status_ = static_cast<uint16_t>(status & (kStatusAnnounce | kStatusLinkUp));
  link_up_.store((status & kStatusLinkUp) != 0);
  const uint64_t missing = driver_features() & kOffloadFeatures & ~device_features();
  if (missing)
    throw std::runtime_error("virtio-net: the guest uses checksum and segmentation offloads, which "
                             "the back end here ('" + backend_->kind() + "' " + backend_->id() +
                             ") can't do (a tap with vnet_hdr can)");
  if (!backend_state.empty() && backend_->has_state()) {
    std::lock_guard<std::mutex> lock(backend_mutex_);
    backend_->load_state(backend_state);
  }
}

void VirtioNet::serve_control() {
  for (;;) {
    std::optional<VirtqueueChain> chain;
    try {
      chain = queue(kCtrlQueue).pop(ram_, event_idx());
    } catch (const VirtqueueError&) {
      set_needs_reset();
      return;
    }
    // With EVENT_IDX the driver kicks again only once avail_event says so.
    if (!chain && queue(kCtrlQueue).enable_notification(ram_, event_idx())) continue;
    if (!chain) return;
    ChainView view(ram_, *chain);
    uint8_t ack = kCtrlErr;
    uint8_t command[2];
    if (view.in_len() >= 2 && view.out_len() >= 1) {
      view.read(0, command, 2);
      if (command[0] == kCtrlClassAnnounce && command[1] == kCtrlAnnounceAck) {
        status_ &= ~kStatusAnnounce;
        ack = kCtrlOk;
      }
    }
    if (view.out_len() >= 1) view.write(ram_, view.out_len() - 1, &ack, 1);
    queue(kCtrlQueue).push(ram_, chain->head, view.out_len() >= 1 ? 1 : 0);
    if (queue(kCtrlQueue).should_interrupt(ram_, event_idx())) interrupt_used();
  }
}

void VirtioNet::io_main() {
  std::vector<pollfd> fds;
  bool tx_more = false;
  for (;;) {
    fds.assign(1, {wake_fd_, POLLIN, 0});
    int timeout = -1;
    bool running;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (quit_) return;
      running = running_;
      if (running && announce_.active())
        timeout = static_cast<int>(std::max<int64_t>(0, announce_.due_ms() - now_ms()));
    }
    if (running && tx_more) timeout = 0;
    {
      std::lock_guard<std::mutex> lock(backend_mutex_);
      backend_->add_pollfds(fds, &timeout, running && !rx_blocked_.load());
    }
    const int n = poll(fds.data(), fds.size(), timeout);
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      ssize_t r = read(wake_fd_, &count, sizeof count);
      (void)r;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (quit_) return;
      busy_ = running_;
    }
    active_ = busy_;
    tx_more = false;
    if (active_) {
      transmit();
      tx_more = tx_more_;
      bool due;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        due = announce_.active() && announce_.due_ms() <= now_ms();
      }
      if (due) send_announce_round();
    }
    {
      std::lock_guard<std::mutex> lock(backend_mutex_);
      backend_->handle_poll(fds, 1, n < 0, *this);
    }
    active_ = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
    }
    idle_.notify_all();
  }
}

void VirtioNet::transmit() {
  std::mutex& device_lock = *bus_.device_lock();
  const bool vnet = backend_->has_vnet_header();
  tx_more_ = false;
  std::vector<VirtqueueChain> chains;
  std::vector<Virtqueue::Used> used;
  std::vector<iovec> iov;
  for (unsigned sent = 0; sent < kTxChainsPerPass;) {
    chains.clear();
    uint64_t generation;
    {
      std::lock_guard<std::mutex> device(device_lock);
      if (!driver_ok()) return;
      try {
        while (chains.size() < kTxBatch) {
          std::optional<VirtqueueChain> chain = queue(kTxQueue).pop(ram_, event_idx());
          if (chain) {
            chains.push_back(std::move(*chain));
          } else if (!chains.empty() || !queue(kTxQueue).enable_notification(ram_, event_idx())) {
            break;
          }
        }
      } catch (const VirtqueueError&) {
        set_needs_reset();
        return;
      }
      if (chains.empty()) return;
      generation = generation_;
    }
    used.clear();
    for (const VirtqueueChain& chain : chains) {
      // The frame, straight from guest RAM: the header (kept for a back end
      // that takes it), then the packet.
      iov.clear();
      uint64_t skip = vnet ? 0 : kHeaderSize, total = 0;
      for (const VirtqueueBuffer& b : chain.buffers) {
        if (b.device_writes) continue;
        total += b.len;
        if (skip >= b.len) {
          skip -= b.len;
          continue;
        }
        iov.push_back({const_cast<uint8_t*>(ram_.host_at(b.gpa + skip)), b.len - skip});
        skip = 0;
      }
      bool ok = total > kHeaderSize && total <= kMaxTxFrame && link_up_.load();
      if (ok) {
        std::lock_guard<std::mutex> lock(backend_mutex_);
        ok = backend_->send(iov.data(), static_cast<int>(iov.size()));
      }
      ++(ok ? tx_frames_ : tx_dropped_);
      used.push_back({chain.head, 0});
    }
    sent += static_cast<unsigned>(chains.size());
    std::lock_guard<std::mutex> device(device_lock);
    if (generation != generation_) return;  // the driver reset the card meanwhile
    queue(kTxQueue).push_all(ram_, used);
    if (queue(kTxQueue).should_interrupt(ram_, event_idx())) interrupt_used();
  }
  tx_more_ = true;  // more may wait: come back after receive had its turn
}

bool VirtioNet::deliver_frame(const uint8_t* frame, size_t len) {
  if (!active_) return false;  // the VM is stopped: not a byte into RAM
  uint8_t header[kHeaderSize] = {};
  if (backend_->has_vnet_header()) {
    if (len < kHeaderSize) return ++rx_dropped_, true;
    std::memcpy(header, frame, kHeaderSize);
    frame += kHeaderSize, len -= kHeaderSize;
  }
  if (!link_up_.load()) return ++rx_dropped_, true;
  std::lock_guard<std::mutex> device(*bus_.device_lock());
  Virtqueue& q = queue(kRxQueue);
  if (!driver_ok() || !q.ready) return ++rx_dropped_, true;
  const uint64_t features = driver_features();
  if (!(features & kFeatureGuestCsum)) header[0] = 0;  // no checksum flags for it
  const bool mergeable = features & kFeatureMrgRxbuf;
  const uint64_t total = kHeaderSize + len;
  std::vector<VirtqueueChain> chains;
  uint64_t room = 0;
  try {
    for (;;) {
      while (room < total) {
        std::optional<VirtqueueChain> chain = q.pop(ram_, event_idx());
        if (!chain) break;
        for (const VirtqueueBuffer& b : chain->buffers)
          if (b.device_writes) room += b.len;
        chains.push_back(std::move(*chain));
        if (!mergeable) break;
      }
      if (room >= total) break;
      // One buffer too small for this frame, or the whole ring too small:
      // no buffer the driver may add makes room for it.
      if ((!mergeable && !chains.empty()) || chains.size() >= q.size) {
        q.unpop(static_cast<uint16_t>(chains.size()));
        return ++rx_dropped_, true;
      }
      // Out of buffers: wait for the driver to add some (and say so), with
      // the chains in hand still taken, so that with EVENT_IDX the driver
      // is asked to notify past them. Some may have come meanwhile: take
      // them too.
      rx_blocked_.store(true);
      if (!q.enable_notification(ram_, event_idx())) {
        q.unpop(static_cast<uint16_t>(chains.size()));
        return false;
      }
      rx_blocked_.store(false);
    }
  } catch (const VirtqueueError&) {
    set_needs_reset();
    return ++rx_dropped_, true;
  }
  const uint16_t buffers = static_cast<uint16_t>(chains.size());
  header[10] = static_cast<uint8_t>(buffers), header[11] = static_cast<uint8_t>(buffers >> 8);
  std::vector<Virtqueue::Used> used;
  uint64_t done = 0;
  for (const VirtqueueChain& chain : chains) {
    ChainView view(ram_, chain);
    const uint64_t n = std::min<uint64_t>(view.out_len(), total - done);
    uint64_t at = 0;
    if (done < kHeaderSize) {
      const uint64_t h = std::min<uint64_t>(n, kHeaderSize - done);
      view.write(ram_, 0, header + done, h);
      at = h;
    }
    if (at < n) view.write(ram_, at, frame + (done + at - kHeaderSize), n - at);
    used.push_back({chain.head, static_cast<uint32_t>(n)});
    done += n;
  }
  q.push_all(ram_, used);
  if (q.should_interrupt(ram_, event_idx())) interrupt_used();
  ++rx_frames_;
  return true;
}

void VirtioNet::send_announce_round() {
  std::vector<uint8_t> frame = make_announce_frame(config_.mac);
  if (backend_->has_vnet_header()) frame.insert(frame.begin(), kHeaderSize, 0);
  iovec iov{frame.data(), frame.size()};
  if (link_up_.load()) {  // a card with its link down sends nothing, as QEMU
    std::lock_guard<std::mutex> lock(backend_mutex_);
    if (backend_->send(&iov, 1)) ++announces_;
  }
  {
    // The guest's own announce (gratuitous ARP and IPv6 neighbour
    // advertisements for every address it has), when its driver offers it.
    std::lock_guard<std::mutex> device(*bus_.device_lock());
    const uint64_t f = driver_features();
    if (driver_ok() && (f & kFeatureGuestAnnounce) && (f & kFeatureCtrlVq) &&
        !(status_ & kStatusAnnounce)) {
      status_ |= kStatusAnnounce;
      notify_config_change();
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  announce_.round_sent(now_ms());
}

}  // namespace ferry
