// VirtioNet on the virtio-mmio transport, driven as a guest driver would
// (registers, split rings in guest RAM, notifies) over a fake back end the
// card's I/O thread polls: feature negotiation, the configuration space,
// transmit and receive (mergeable buffers, waiting for buffers), the run
// state, the migration state, the announce and the link.
#include "devices/virtio/virtio_net.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "memory/address_space.h"
#include "net/announce.h"
#include "state_roundtrip.h"
#include "virtqueue_driver.h"

namespace ferry {
namespace {

using test_util::MmioDriver;
using test_util::VirtqueueDriver;
using test_util::wait_for;
using Frame = std::vector<uint8_t>;

constexpr uint64_t kBase = 0x80000000, kRamSize = 1 << 20;
constexpr uint64_t kRxRings = kBase + 0x1000, kTxRings = kBase + 0x4000,
                   kCtrlRings = kBase + 0x7000;
constexpr uint64_t kRxBuffers = kBase + 0x10000;  // one page per rx descriptor
constexpr uint64_t kTxBuffers = kBase + 0x40000;
constexpr uint64_t kCtrlBuffers = kBase + 0x60000;
constexpr uint16_t kQueueSize = 16;

constexpr uint64_t kCsum = 1ull << 0, kGuestCsum = 1ull << 1, kMac = 1ull << 5,
                   kGuestTso4 = 1ull << 7, kGuestTso6 = 1ull << 8, kGuestEcn = 1ull << 9,
                   kHostTso4 = 1ull << 11, kHostTso6 = 1ull << 12, kHostEcn = 1ull << 13,
                   kMrgRxbuf = 1ull << 15, kStatus = 1ull << 16, kCtrlVq = 1ull << 17,
                   kGuestAnnounce = 1ull << 21, kIndirectDesc = 1ull << 28,
                   kEventIdx = 1ull << 29, kVersion1 = 1ull << 32;
constexpr uint64_t kOffloads = kCsum | kGuestCsum | kGuestTso4 | kGuestTso6 | kGuestEcn |
                               kHostTso4 | kHostTso6 | kHostEcn;
constexpr uint64_t kDriverFeatures =
    kVersion1 | kMac | kStatus | kMrgRxbuf | kCtrlVq | kGuestAnnounce;
constexpr size_t kHdr = 12;  // virtio_net_hdr_v1
constexpr uint32_t kLinkUp = 1, kAnnounce = 2;
constexpr uint32_t kUsedIrq = 1, kConfigIrq = 2;

constexpr MacAddress kCardMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

// A back end the card's thread polls like a tap: an eventfd readable while
// frames wait; frames the card can't take stay first in line. Records what
// the card sends and the offloads it asks for.
class FakeBackend : public NetBackend {
 public:
  explicit FakeBackend(bool vnet_header) : vnet_(vnet_header) {
    efd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~FakeBackend() override { close(efd_); }

  std::string kind() const override { return "fake"; }
  const std::string& id() const override { return id_; }
  std::string describe() const override { return "fake"; }
  bool has_vnet_header() const override { return vnet_; }
  void set_offloads(const NetOffloads& o) override {
    std::lock_guard<std::mutex> l(m_);
    offloads_ = o;
    ++offload_calls_;
  }
  bool send(const struct iovec* iov, int iovcnt) override {
    Frame f;
    for (int i = 0; i < iovcnt; ++i) {
      const uint8_t* p = static_cast<const uint8_t*>(iov[i].iov_base);
      f.insert(f.end(), p, p + iov[i].iov_len);
    }
    std::lock_guard<std::mutex> l(m_);
    sent_.push_back(std::move(f));
    send_times_.push_back(std::chrono::steady_clock::now());
    return true;
  }
  void add_pollfds(std::vector<pollfd>& fds, int* timeout_ms, bool want_frames) override {
    polled_ = want_frames;
    if (!want_frames) return;
    fds.push_back({efd_, POLLIN, 0});
    std::lock_guard<std::mutex> l(m_);
    if (!pending_.empty()) *timeout_ms = 0;
  }
  void handle_poll(const std::vector<pollfd>& fds, size_t first, bool poll_failed,
                   FrameSink& sink) override {
    if (!polled_ || poll_failed || first >= fds.size()) return;
    uint64_t count;
    ssize_t n = read(efd_, &count, sizeof count);
    (void)n;
    for (;;) {
      Frame f;
      {
        std::lock_guard<std::mutex> l(m_);
        if (pending_.empty()) return;
        f = pending_.front();
      }
      if (!sink.deliver_frame(f.data(), f.size())) {
        std::lock_guard<std::mutex> l(m_);
        ++refused_;
        return;
      }
      std::lock_guard<std::mutex> l(m_);
      pending_.pop_front();
    }
  }
  bool has_state() const override { return !state_.empty(); }
  std::vector<uint8_t> save_state() override { return state_; }
  void load_state(const std::vector<uint8_t>& state) override { loaded_ = state; }

  // --- the test's side ---
  void inject(Frame f) {
    {
      std::lock_guard<std::mutex> l(m_);
      pending_.push_back(std::move(f));
    }
    const uint64_t one = 1;
    ssize_t n = write(efd_, &one, sizeof one);
    (void)n;
  }
  std::vector<Frame> sent() {
    std::lock_guard<std::mutex> l(m_);
    return sent_;
  }
  size_t sent_count() {
    std::lock_guard<std::mutex> l(m_);
    return sent_.size();
  }
  std::vector<std::chrono::steady_clock::time_point> send_times() {
    std::lock_guard<std::mutex> l(m_);
    return send_times_;
  }
  size_t pending() {
    std::lock_guard<std::mutex> l(m_);
    return pending_.size();
  }
  int refused() {
    std::lock_guard<std::mutex> l(m_);
    return refused_;
  }
  NetOffloads offloads() {
    std::lock_guard<std::mutex> l(m_);
    return offloads_;
  }
  int offload_calls() {
    std::lock_guard<std::mutex> l(m_);
    return offload_calls_;
  }

  std::vector<uint8_t> state_;   // has_state() when not empty
  std::vector<uint8_t> loaded_;  // what load_state was given

 private:
  const bool vnet_;
  const std::string id_ = "fake0";
  int efd_ = -1;
  bool polled_ = false;  // the I/O thread only
  std::mutex m_;
  std::deque<Frame> pending_;
  std::vector<Frame> sent_;
  std::vector<std::chrono::steady_clock::time_point> send_times_;
  NetOffloads offloads_;
  int offload_calls_ = 0;
  int refused_ = 0;
};

// An Ethernet frame to the card of `len` bytes, its payload numbered from `seed`.
Frame eth_frame(size_t len, uint8_t seed) {
  Frame f(len);
  std::memcpy(f.data(), kCardMac.data(), 6);
  const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x99};
  std::memcpy(f.data() + 6, src, 6);
  f[12] = 0x08, f[13] = 0x00;
  for (size_t i = 14; i < len; ++i) f[i] = static_cast<uint8_t>(seed + i * 13);
  return f;
}

Frame with_header(const Frame& frame, uint8_t flags = 0) {
  Frame f(kHdr, 0);
  f[0] = flags;
  f.insert(f.end(), frame.begin(), frame.end());
  return f;
}

class VirtioNetTest : public ::testing::Test {
 protected:
  VirtioNetTest() : ram_(kBase, kRamSize), bus_(ram_) { bus_.set_device_lock(&device_lock_); }
  ~VirtioNetTest() override {
    if (net_) net_->vm_state_changed(false);
  }

  // The card on a fake back end, the VM running.
  void create(bool vnet_header = false, MacAddress mac = kCardMac) {
    auto backend = std::make_unique<FakeBackend>(vnet_header);
    backend_ = backend.get();
    NicConfig config;
    config.id = "nic0";
    config.netdev = "fake0";
    config.mac = mac;
    net_ = std::make_unique<VirtioNet>(bus_, ram_, &irq_, std::move(backend), config);
    drv_ = std::make_unique<MmioDriver>(*net_, device_lock_);
    net_->vm_state_changed(true);
  }
  // Features, the three queues, DRIVER_OK.
  void bring_up(uint64_t features = kDriverFeatures) {
    ASSERT_TRUE(drv_->negotiate(features));
    rx_ = std::make_unique<VirtqueueDriver>(ram_, kRxRings, kQueueSize);
    tx_ = std::make_unique<VirtqueueDriver>(ram_, kTxRings, kQueueSize);
    ctrl_ = std::make_unique<VirtqueueDriver>(ram_, kCtrlRings, kQueueSize);
    rx_->attach(*drv_, 0);
    tx_->attach(*drv_, 1);
    ctrl_->attach(*drv_, 2);
    drv_->set_driver_ok();
    next_rx_ = next_tx_ = 0;
  }

  // Receive buffers of `len` bytes each (one writable descriptor per chain;
  // descriptor i's buffer at kRxBuffers + i pages), then a notify.
  void post_rx(int count, uint32_t len, bool notify = true) {
    for (int i = 0; i < count; ++i) {
      const uint16_t d = next_rx_++;
      rx_->desc(d, rx_buffer(d), len, VirtqueueDriver::kWrite);
      rx_->publish(d);
    }
    if (notify) drv_->notify(0);
  }
  static uint64_t rx_buffer(uint16_t desc) { return kRxBuffers + 0x1000ull * desc; }
  Frame read_ram(uint64_t gpa, size_t len) {
    Frame f(len);
    ram_.read(gpa, f.data(), len);
    return f;
  }
  // The `n`th received chain's frame, after the header (a frame in one buffer).
  Frame payload(uint16_t n) {
    const Frame got = received(n);
    return got.size() < kHdr ? Frame{} : Frame(got.begin() + kHdr, got.end());
  }
  // The `n`th received chain's bytes, as the used ring says.
  Frame received(uint16_t n) {
    const auto e = rx_->used(n);
    return read_ram(rx_buffer(static_cast<uint16_t>(e.id)), e.len);
  }

  // `bytes` (header and frame) on the transmit queue, cut into buffers
  // of the given sizes (the rest in one last buffer); no notify.
  uint16_t put_tx(const Frame& bytes, std::vector<size_t> cuts = {}) {
    const uint16_t head = next_tx_;
    size_t at = 0;
    cuts.push_back(bytes.size());
    for (size_t i = 0; i < cuts.size(); ++i) {
      const size_t len = std::min(cuts[i], bytes.size() - at);
      const uint16_t d = next_tx_++;
      const uint64_t gpa = kTxBuffers + 0x1000ull * d;
      ram_.write(gpa, bytes.data() + at, len);
      const bool last = i + 1 == cuts.size();
      tx_->desc(d, gpa, static_cast<uint32_t>(len), last ? 0 : VirtqueueDriver::kNext,
                last ? 0 : static_cast<uint16_t>(d + 1));
      at += len;
    }
    tx_->publish(head);
    return head;
  }

  // A control command (class, command) with its ack byte; returns the ack.
  uint8_t control(uint8_t cls, uint8_t cmd) {
    const uint8_t command[2] = {cls, cmd};
    const uint8_t unset = 0xee;
    ram_.write(kCtrlBuffers, command, 2);
    ram_.write(kCtrlBuffers + 0x100, &unset, 1);
    ctrl_->desc(0, kCtrlBuffers, 2, VirtqueueDriver::kNext, 1);
    ctrl_->desc(1, kCtrlBuffers + 0x100, 1, VirtqueueDriver::kWrite);
    const uint16_t before = ctrl_->used_idx();
    ctrl_->publish(0);
    drv_->notify(2);  // served on the notify itself
    EXPECT_EQ(ctrl_->used_idx(), before + 1);
    uint8_t ack;
    ram_.read(kCtrlBuffers + 0x100, &ack, 1);
    return ack;
  }

  uint32_t net_status() { return static_cast<uint32_t>(drv_->config(6, 2)); }
  MacAddress config_mac() {
    MacAddress m;
    for (unsigned i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(drv_->config(i, 1));
    return m;
  }
  // Whether any RAM page was written since the last call.
  bool ram_written() {
    std::vector<uint64_t> dirty;
    ram_.harvest_dirty(dirty);
    for (uint64_t w : dirty)
      if (w) return true;
    return false;
  }

  GuestRam ram_;
  AddressSpace bus_;
  std::mutex device_lock_;
  test_util::RecordingIrq irq_;
  FakeBackend* backend_ = nullptr;  // owned by net_
  std::unique_ptr<VirtioNet> net_;
  std::unique_ptr<MmioDriver> drv_;
  std::unique_ptr<VirtqueueDriver> rx_, tx_, ctrl_;
  uint16_t next_rx_ = 0, next_tx_ = 0;
};

// ---- identity, features, configuration space ---------------------------------------

TEST_F(VirtioNetTest, OffersNetworkFeaturesWithoutOffloadsOnAPlainBackEnd) {
  create(false);
  EXPECT_EQ(drv_->reg(0x000), 0x74726976u);  // "virt"
  EXPECT_EQ(drv_->reg(0x004), 2u);
  EXPECT_EQ(drv_->reg(MmioDriver::kDeviceId), 1u);  // network card
  const uint64_t f = drv_->device_features();
  for (uint64_t want : {kMac, kStatus, kMrgRxbuf, kCtrlVq, kGuestAnnounce, kVersion1,
                        kIndirectDesc, kEventIdx})
    EXPECT_EQ(f & want, want) << std::hex << want;
  EXPECT_EQ(f & kOffloads, 0u);  // no vnet header: the card can't pass them on
  // Three queues, none beyond.
  for (unsigned q = 0; q < 3; ++q) {
    drv_->set(MmioDriver::kQueueSel, q);
    EXPECT_EQ(drv_->reg(MmioDriver::kQueueNumMax), 256u) << q;
  }
  drv_->set(MmioDriver::kQueueSel, 3);
  EXPECT_EQ(drv_->reg(MmioDriver::kQueueNumMax), 0u);
}

TEST_F(VirtioNetTest, OffersOffloadsWhenTheBackEndHasAVnetHeader) {
  create(true);
  EXPECT_EQ(drv_->device_features() & kOffloads, kOffloads);
  // What the driver takes of them goes to the back end at DRIVER_OK ...
  bring_up(kDriverFeatures | kCsum | kGuestCsum | kGuestTso4 | kGuestEcn);
  NetOffloads o = backend_->offloads();
  EXPECT_TRUE(o.csum);
  EXPECT_TRUE(o.tso4);
  EXPECT_FALSE(o.tso6);
  EXPECT_TRUE(o.ecn);
  // ... and a reset takes them back.
  drv_->set(MmioDriver::kStatus, 0);
  o = backend_->offloads();
  EXPECT_FALSE(o.csum || o.tso4 || o.tso6 || o.ecn);
  // A driver without offloads asks for none.
  bring_up(kDriverFeatures);
  o = backend_->offloads();
  EXPECT_FALSE(o.csum || o.tso4 || o.tso6 || o.ecn);
}

TEST_F(VirtioNetTest, ConfigSpaceHasTheMacAndTheLinkStatus) {
  create(false, {0x02, 0x11, 0x22, 0x33, 0x44, 0x55});
  EXPECT_EQ(config_mac(), (MacAddress{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}));
  EXPECT_EQ(drv_->config(0, 4), 0x33221102u);  // little-endian, any width
  EXPECT_EQ(drv_->config(4, 2), 0x5544u);
  EXPECT_EQ(net_status(), kLinkUp);
  EXPECT_EQ(drv_->config(8, 2), 1u);  // max_virtqueue_pairs
  EXPECT_EQ(drv_->config(10, 2), 0u);  // past the fields: zero
  EXPECT_EQ(drv_->config(9, 4), 0u);   // straddling the end: zero
}

// ---- transmit --------------------------------------------------------------------

TEST_F(VirtioNetTest, TransmitStripsTheHeaderForAPlainBackEnd) {
  create(false);
  bring_up();
  const Frame a = eth_frame(60, 1), b = eth_frame(1514, 2), c = eth_frame(200, 3);
  // Cleared first: the card's thread may send the chains as soon as they are put.
  drv_->take_interrupts();
  put_tx(with_header(a));                 // header and frame in one buffer
  put_tx(with_header(b), {kHdr, 100});    // header, then the frame in two
  put_tx(with_header(c), {5, 7 + 20});    // the header itself cut in two
  drv_->notify(1);
  ASSERT_TRUE(tx_->wait_used(3));
  ASSERT_TRUE(wait_for([&] { return backend_->sent_count() == 3; }));
  const std::vector<Frame> sent = backend_->sent();
  EXPECT_EQ(sent[0], a);
  EXPECT_EQ(sent[1], b);
  EXPECT_EQ(sent[2], c);
  // Each chain back, nothing written into it.
  EXPECT_EQ(tx_->used(0).id, 0u);
  EXPECT_EQ(tx_->used(1).id, 1u);
  EXPECT_EQ(tx_->used(2).id, 4u);
  for (uint16_t i = 0; i < 3; ++i) EXPECT_EQ(tx_->used(i).len, 0u);
  EXPECT_TRUE(wait_for([&] { return (drv_->reg(MmioDriver::kInterruptStatus) & kUsedIrq) != 0; }));
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(net_->stats().tx_frames, 3u);
}

TEST_F(VirtioNetTest, TransmitPassesTheHeaderToAVnetBackEnd) {
  create(true);
  bring_up(kDriverFeatures | kCsum | kHostTso4);
  Frame bytes = with_header(eth_frame(300, 4), 1);  // NEEDS_CSUM
  bytes[1] = 1;                                     // GSO_TCPV4
  bytes[6] = 34, bytes[8] = 16;                     // csum_start, csum_offset
  put_tx(bytes, {kHdr});
  drv_->notify(1);
  ASSERT_TRUE(wait_for([&] { return backend_->sent_count() == 1; }));
  EXPECT_EQ(backend_->sent()[0], bytes);  // header and all, as the driver wrote it
}

TEST_F(VirtioNetTest, TransmitDropsAChainWithoutAFrameButReturnsIt) {
  create(false);
  bring_up();
  put_tx(Frame(kHdr, 0));  // a header, no frame
  put_tx(with_header(eth_frame(64, 5)));
  drv_->notify(1);
  ASSERT_TRUE(tx_->wait_used(2));
  ASSERT_TRUE(wait_for([&] { return net_->stats().tx_frames == 1; }));
  EXPECT_EQ(net_->stats().tx_dropped, 1u);
  EXPECT_EQ(backend_->sent_count(), 1u);
  EXPECT_EQ(backend_->sent()[0], eth_frame(64, 5));
}

TEST_F(VirtioNetTest, ABrokenTransmitChainAsksForAReset) {
  create(false);
  bring_up();
  tx_->desc(0, kTxBuffers, 64, VirtqueueDriver::kNext, 0);  // 0 -> 0: a loop
  tx_->publish(0);
  drv_->notify(1);
  ASSERT_TRUE(wait_for([&] { return (drv_->reg(MmioDriver::kStatus) & MmioDriver::kNeedsReset) != 0; }));
  EXPECT_NE(drv_->reg(MmioDriver::kInterruptStatus) & kConfigIrq, 0u);
  EXPECT_EQ(tx_->used_idx(), 0u);
  EXPECT_EQ(backend_->sent_count(), 0u);
}

// ---- receive ---------------------------------------------------------------------

TEST_F(VirtioNetTest, ReceiveWritesHeaderAndFrameIntoAPostedBuffer) {
  create(false);
  bring_up();
  post_rx(2, 2048);
  drv_->take_interrupts();
  const Frame f = eth_frame(100, 6);
  backend_->inject(f);
  ASSERT_TRUE(rx_->wait_used(1));
  EXPECT_EQ(rx_->used(0).id, 0u);
  EXPECT_EQ(rx_->used(0).len, kHdr + f.size());
  const Frame got = received(0);
  Frame header(got.begin(), got.begin() + kHdr);
  Frame want_header(kHdr, 0);
  want_header[10] = 1;  // num_buffers
  EXPECT_EQ(header, want_header);
  EXPECT_EQ(Frame(got.begin() + kHdr, got.end()), f);
  EXPECT_TRUE(wait_for([&] { return (drv_->reg(MmioDriver::kInterruptStatus) & kUsedIrq) != 0; }));
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(net_->stats().rx_frames, 1u);

  // The next frame takes the next buffer.
  backend_->inject(eth_frame(70, 7));
  ASSERT_TRUE(rx_->wait_used(2));
  EXPECT_EQ(rx_->used(1).id, 1u);
  EXPECT_EQ(payload(1), eth_frame(70, 7));
}

TEST_F(VirtioNetTest, ABigFrameSpansSeveralMergeableBuffers) {
  create(false);
  bring_up();
  post_rx(4, 1000);
  const Frame f = eth_frame(2500, 8);  // 2512 bytes with the header: 1000 + 1000 + 512
  backend_->inject(f);
  ASSERT_TRUE(rx_->wait_used(3));
  EXPECT_EQ(rx_->used(0).len, 1000u);
  EXPECT_EQ(rx_->used(1).len, 1000u);
  EXPECT_EQ(rx_->used(2).len, 512u);
  Frame all;
  for (uint16_t i = 0; i < 3; ++i) {
    const Frame part = received(i);
    all.insert(all.end(), part.begin(), part.end());
  }
  EXPECT_EQ(all[10] | all[11] << 8, 3);  // num_buffers in the first buffer's header
  EXPECT_EQ(Frame(all.begin() + kHdr, all.end()), f);
  // The fourth buffer is still the driver's: the next frame goes there.
  backend_->inject(eth_frame(60, 9));
  ASSERT_TRUE(rx_->wait_used(4));
  EXPECT_EQ(rx_->used(3).id, 3u);
}

TEST_F(VirtioNetTest, WithoutMergeableBuffersAFrameTooBigForTheBufferIsDropped) {
  create(false);
  bring_up(kDriverFeatures & ~kMrgRxbuf);
  post_rx(1, 64);
  backend_->inject(eth_frame(200, 10));  // 212 bytes for a 64-byte buffer
  ASSERT_TRUE(wait_for([&] { return net_->stats().rx_dropped == 1; }));
  EXPECT_EQ(rx_->used_idx(), 0u);  // the buffer stays the driver's
  backend_->inject(eth_frame(52, 11));  // 64 bytes with the header: fits
  ASSERT_TRUE(rx_->wait_used(1));
  const Frame got = received(0);
  EXPECT_EQ(got.size(), 64u);
  EXPECT_EQ(got[10], 1);  // num_buffers is 1 without MRG_RXBUF too (VERSION_1)
  EXPECT_EQ(Frame(got.begin() + kHdr, got.end()), eth_frame(52, 11));
}

TEST_F(VirtioNetTest, ReceiveWithoutBuffersWaitsForTheDriver) {
  create(false);
  bring_up();
  const Frame f = eth_frame(300, 12);
  backend_->inject(f);
  ASSERT_TRUE(wait_for([&] { return backend_->refused() >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(backend_->pending(), 1u);  // held, not dropped
  EXPECT_EQ(net_->stats().rx_dropped, 0u);
  EXPECT_EQ(rx_->used_idx(), 0u);
  post_rx(1, 2048);
  ASSERT_TRUE(rx_->wait_used(1));
  EXPECT_EQ(payload(0), f);
  EXPECT_EQ(backend_->pending(), 0u);
}

TEST_F(VirtioNetTest, AFrameBiggerThanThePostedBuffersWaitsWithoutHoldingTheDeviceLock) {
  // Mergeable buffers too small together for the frame: the card must wait
  // for more (the thread asleep, the device lock free), not spin looking
  // at the same buffers.
  create(false);
  bring_up();
  post_rx(1, 256);
  const Frame f = eth_frame(1000, 13);
  backend_->inject(f);
  EXPECT_TRUE(wait_for([&] { return backend_->refused() >= 1; }, 500));
  bool lock_free = false;
  for (int i = 0; i < 200 && !lock_free; ++i) {
    if (device_lock_.try_lock()) {
      device_lock_.unlock();
      lock_free = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  EXPECT_TRUE(lock_free) << "the I/O thread keeps the device lock while waiting for buffers";
  // More buffers (a driver would notify; spinning, the card finds them anyway).
  for (int i = 0; i < 3; ++i) {
    const uint16_t d = next_rx_++;
    rx_->desc(d, rx_buffer(d), 256, VirtqueueDriver::kWrite);
    rx_->publish(d);
  }
  if (lock_free) drv_->notify(0);
  ASSERT_TRUE(rx_->wait_used(4));
  Frame all;
  for (uint16_t i = 0; i < 4; ++i) {
    const Frame part = received(i);
    all.insert(all.end(), part.begin(), part.end());
  }
  EXPECT_EQ(rx_->used(3).len, 1012u - 3 * 256);
  EXPECT_EQ(all[10], 4);
  EXPECT_EQ(Frame(all.begin() + kHdr, all.end()), f);
}

TEST_F(VirtioNetTest, WaitingWithEventIdxAsksForANotifyPastTheBuffersItHas) {
  create(false);
  bring_up(kDriverFeatures | kEventIdx);
  post_rx(2, 256);
  backend_->inject(eth_frame(1000, 14));
  EXPECT_TRUE(wait_for([&] { return backend_->refused() >= 1; }, 500));
  // avail_event: the driver notifies when its avail index passes it. At 2
  // (the buffers posted so far) the next buffer brings a notify; anything
  // lower, the driver has passed already and stays quiet.
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(rx_->avail_event(), 2u);
  post_rx(2, 256);
  ASSERT_TRUE(rx_->wait_used(4));
  EXPECT_EQ(received(0)[10], 4);
}

TEST_F(VirtioNetTest, AFrameNoRingCouldHoldIsDropped) {
  create(false);
  bring_up();
  post_rx(kQueueSize, 64);  // 16 x 64 bytes: 1024 in all
  backend_->inject(eth_frame(1500, 15));
  ASSERT_TRUE(wait_for([&] { return net_->stats().rx_dropped == 1; }, 1000));
  EXPECT_EQ(rx_->used_idx(), 0u);
  // The buffers are still there for the next frame.
  backend_->inject(eth_frame(100, 16));
  ASSERT_TRUE(rx_->wait_used(2));
  EXPECT_EQ(received(0)[10], 2);
}

TEST_F(VirtioNetTest, ReceiveClearsChecksumFlagsUnlessTheDriverTookGuestCsum) {
  create(true);
  bring_up();  // no GUEST_CSUM
  post_rx(2, 2048);
  const Frame f = eth_frame(80, 17);
  backend_->inject(with_header(f, 1));  // the tap's header: NEEDS_CSUM
  ASSERT_TRUE(rx_->wait_used(1));
  Frame got = received(0);
  EXPECT_EQ(got[0], 0);  // flags gone: the driver can't take them
  EXPECT_EQ(Frame(got.begin() + kHdr, got.end()), f);

  bring_up(kDriverFeatures | kGuestCsum);
  post_rx(1, 2048);
  backend_->inject(with_header(f, 1));
  ASSERT_TRUE(rx_->wait_used(1));
  got = received(0);
  EXPECT_EQ(got[0], 1);  // kept
  EXPECT_EQ(got[10], 1);
  EXPECT_EQ(Frame(got.begin() + kHdr, got.end()), f);
}

// ---- run state ----------------------------------------------------------------------

TEST_F(VirtioNetTest, AStoppedVmGetsNothingWrittenAndSendsNothing) {
  create(false);
  bring_up();
  post_rx(2, 2048);
  net_->vm_state_changed(false);
  put_tx(with_header(eth_frame(60, 18)));  // the guest's last writes
  ram_written();  // from here on, no writes
  backend_->inject(eth_frame(90, 19));
  drv_->notify(1);
  drv_->notify(0);
  net_->announce(AnnounceParams{1, 1, 1, 1});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(ram_written());
  EXPECT_EQ(rx_->used_idx(), 0u);
  EXPECT_EQ(tx_->used_idx(), 0u);
  EXPECT_EQ(backend_->sent_count(), 0u);  // neither the guest's frame nor a RARP
  EXPECT_EQ(backend_->pending(), 1u);     // the frame is held for later
  EXPECT_EQ(net_->stats().rx_dropped, 0u);

  net_->vm_state_changed(true);
  ASSERT_TRUE(rx_->wait_used(1));
  ASSERT_TRUE(tx_->wait_used(1));
  EXPECT_EQ(payload(0), eth_frame(90, 19));
  EXPECT_TRUE(ram_written());  // (the check above sees writes when there are some)
  ASSERT_TRUE(wait_for([&] { return backend_->sent_count() == 2; }));
  const std::vector<Frame> sent = backend_->sent();
  const Frame rarp = make_announce_frame(kCardMac);
  EXPECT_TRUE((sent[0] == eth_frame(60, 18) && sent[1] == rarp) ||
              (sent[1] == eth_frame(60, 18) && sent[0] == rarp));
}

// ---- migration state ------------------------------------------------------------------

TEST_F(VirtioNetTest, StateRoundTripRestoresMacStatusAndQueues) {
  create(false);
  bring_up();
  post_rx(4, 2048);
  backend_->inject(eth_frame(100, 20));
  ASSERT_TRUE(rx_->wait_used(1));
  put_tx(with_header(eth_frame(60, 21)));
  drv_->notify(1);
  ASSERT_TRUE(tx_->wait_used(1));
  net_->announce(AnnounceParams{1, 1, 1, 1});  // sets VIRTIO_NET_S_ANNOUNCE
  ASSERT_TRUE(wait_for([&] { return (net_status() & kAnnounce) != 0; }));
  net_->vm_state_changed(false);

  // The destination's card was made with another address: the guest's travels.
  test_util::RecordingIrq irq2;
  auto backend2 = std::make_unique<FakeBackend>(false);
  FakeBackend* b2 = backend2.get();
  NicConfig config;
  config.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x99};
  VirtioNet copy(bus_, ram_, &irq2, std::move(backend2), config);
  ASSERT_EQ(test_util::round_trip(*net_, copy), "");
  EXPECT_EQ(test_util::save_state(*net_), test_util::save_state(copy));
  MmioDriver drv2(copy, device_lock_);
  for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(drv2.config(i, 1), kCardMac[i]) << i;
  EXPECT_EQ(drv2.config(6, 2), uint64_t{kLinkUp | kAnnounce});
  EXPECT_EQ(drv2.reg(MmioDriver::kStatus) & MmioDriver::kDriverOk, MmioDriver::kDriverOk);

  // The queues carry on where they were: the next frame in the second buffer,
  // the next transmit chain from the second avail entry.
  copy.vm_state_changed(true);
  b2->inject(eth_frame(80, 22));
  ASSERT_TRUE(rx_->wait_used(2));
  EXPECT_EQ(rx_->used(1).id, 1u);
  EXPECT_EQ(payload(1), eth_frame(80, 22));
  put_tx(with_header(eth_frame(61, 23)));
  drv2.notify(1);
  ASSERT_TRUE(tx_->wait_used(2));
  ASSERT_TRUE(wait_for([&] { return b2->sent_count() == 1; }));
  EXPECT_EQ(b2->sent()[0], eth_frame(61, 23));
  // The ANNOUNCE bit is acknowledged on the destination.
  {
    const uint8_t command[2] = {3, 0};
    ram_.write(kCtrlBuffers, command, 2);
    ctrl_->desc(0, kCtrlBuffers, 2, VirtqueueDriver::kNext, 1);
    ctrl_->desc(1, kCtrlBuffers + 0x100, 1, VirtqueueDriver::kWrite);
    ctrl_->publish(0);
    drv2.notify(2);
  }
  EXPECT_EQ(drv2.config(6, 2), uint64_t{kLinkUp});
  copy.vm_state_changed(false);
}

TEST_F(VirtioNetTest, LinkStateTravelsWithTheState) {
  // The guest saw its link go down; on the destination it must still be
  // down (the driver learns of a change only through an interrupt), and a
  // set_link up there must tell it.
  create(false);
  bring_up();
  net_->set_link(false);
  net_->vm_state_changed(false);
  test_util::RecordingIrq irq2;
  VirtioNet copy(bus_, ram_, &irq2, std::make_unique<FakeBackend>(false), NicConfig{});
  ASSERT_EQ(test_util::round_trip(*net_, copy), "");
  MmioDriver drv2(copy, device_lock_);
  EXPECT_EQ(drv2.config(6, 2) & kLinkUp, 0u);
  EXPECT_FALSE(copy.link_up());
  drv2.take_interrupts();
  copy.set_link(true);
  EXPECT_EQ(drv2.config(6, 2) & kLinkUp, uint64_t{kLinkUp});
  EXPECT_NE(drv2.reg(MmioDriver::kInterruptStatus) & kConfigIrq, 0u);
}

TEST_F(VirtioNetTest, StateCarriesTheBackEndsStateAndRefusesMissingOffloads) {
  create(true);
  backend_->state_ = {1, 2, 3, 4};
  bring_up(kDriverFeatures | kGuestCsum);
  net_->vm_state_changed(false);
  // A destination with a vnet header takes it, the back end's state with it.
  auto with_vnet = std::make_unique<FakeBackend>(true);
  FakeBackend* b2 = with_vnet.get();
  b2->state_ = {9};  // has_state()
  VirtioNet good(bus_, ram_, nullptr, std::move(with_vnet), NicConfig{});
  ASSERT_EQ(test_util::round_trip(*net_, good), "");
  EXPECT_EQ(b2->loaded_, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_TRUE(b2->offloads().csum);  // post_load applies the driver's offloads
  // One without can't give the guest the checksum offload it relies on.
  VirtioNet plain(bus_, ram_, nullptr, std::make_unique<FakeBackend>(false), NicConfig{});
  const std::string error = test_util::round_trip(*net_, plain);
  EXPECT_NE(error.find("offloads"), std::string::npos) << error;
}

// ---- announce ---------------------------------------------------------------------------

TEST_F(VirtioNetTest, AnnounceSendsRarpAndAsksTheGuestToAnnounce) {
  create(false);
  bring_up();  // with CTRL_VQ and GUEST_ANNOUNCE
  drv_->take_interrupts();
  const uint32_t generation = drv_->reg(MmioDriver::kConfigGeneration);
  net_->announce(AnnounceParams{50, 550, 1, 100});
  ASSERT_TRUE(wait_for([&] { return (net_status() & kAnnounce) != 0; }));
  ASSERT_TRUE(wait_for([&] { return backend_->sent_count() == 1; }));
  EXPECT_EQ(backend_->sent()[0], make_announce_frame(kCardMac));
  EXPECT_EQ(net_status(), kLinkUp | kAnnounce);
  EXPECT_NE(drv_->reg(MmioDriver::kInterruptStatus) & kConfigIrq, 0u);
  EXPECT_TRUE(irq_.level());
  EXPECT_NE(drv_->reg(MmioDriver::kConfigGeneration), generation);
  EXPECT_EQ(net_->stats().announces, 1u);

  // The driver's VIRTIO_NET_CTRL_ANNOUNCE_ACK clears the bit.
  EXPECT_EQ(control(3, 0), 0);  // VIRTIO_NET_OK
  EXPECT_EQ(net_status(), kLinkUp);
  EXPECT_EQ(ctrl_->used(0).len, 1u);
  // Anything else is refused.
  EXPECT_EQ(control(0, 0), 1);  // VIRTIO_NET_ERR (rx mode: not offered)
}

TEST_F(VirtioNetTest, WithoutGuestAnnounceOnlyTheRarpGoes) {
  create(true);
  bring_up(kDriverFeatures & ~kGuestAnnounce);
  drv_->take_interrupts();
  net_->announce(AnnounceParams{50, 550, 1, 100});
  ASSERT_TRUE(wait_for([&] { return backend_->sent_count() == 1; }));
  // A vnet back end gets the frame behind an empty header.
  EXPECT_EQ(backend_->sent()[0], with_header(make_announce_frame(kCardMac)));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(net_status(), kLinkUp);
  EXPECT_EQ(drv_->reg(MmioDriver::kInterruptStatus) & kConfigIrq, 0u);
}

TEST_F(VirtioNetTest, AnnounceRoundsFollowTheSchedule) {
  create(false);
  bring_up();
  const auto start = std::chrono::steady_clock::now();
  net_->announce(AnnounceParams{40, 1000, 3, 30});  // at once, +40 ms, +70 ms
  ASSERT_TRUE(wait_for([&] { return backend_->sent_count() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(backend_->sent_count(), 3u);  // no fourth round
  EXPECT_EQ(net_->stats().announces, 3u);
  const auto t = backend_->send_times();
  using std::chrono::milliseconds;
  EXPECT_LT(t[0] - start, milliseconds(500));
  EXPECT_GE(t[1] - t[0], milliseconds(39));
  EXPECT_GE(t[2] - t[1], milliseconds(69));
  for (const Frame& f : backend_->sent()) EXPECT_EQ(f, make_announce_frame(kCardMac));
}

// ---- link ----------------------------------------------------------------------------------

TEST_F(VirtioNetTest, LinkDownClearsTheStatusBitAndDropsTraffic) {
  create(false);
  bring_up();
  post_rx(2, 2048);
  drv_->take_interrupts();
  net_->set_link(false);
  EXPECT_FALSE(net_->link_up());
  EXPECT_EQ(net_status() & kLinkUp, 0u);
  EXPECT_EQ(drv_->reg(MmioDriver::kInterruptStatus) & kConfigIrq, kConfigIrq);
  EXPECT_TRUE(irq_.level());
  drv_->take_interrupts();
  net_->set_link(false);  // no change, no interrupt
  EXPECT_EQ(drv_->reg(MmioDriver::kInterruptStatus), 0u);

  // Down, the wire takes nothing and gives nothing: transmit chains come back,
  // received frames are dropped, and the announce sends no RARP.
  put_tx(with_header(eth_frame(60, 24)));
  drv_->notify(1);
  ASSERT_TRUE(tx_->wait_used(1));
  backend_->inject(eth_frame(60, 25));
  ASSERT_TRUE(wait_for([&] { return net_->stats().rx_dropped == 1; }));
  net_->announce(AnnounceParams{1, 1, 1, 1});
  ASSERT_TRUE(wait_for([&] { return (net_status() & kAnnounce) != 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(backend_->sent_count(), 0u);
  EXPECT_EQ(net_->stats().tx_dropped, 1u);
  EXPECT_EQ(rx_->used_idx(), 0u);

  drv_->take_interrupts();
  net_->set_link(true);
  EXPECT_EQ(net_status() & kLinkUp, kLinkUp);
  EXPECT_EQ(drv_->reg(MmioDriver::kInterruptStatus) & kConfigIrq, kConfigIrq);
  backend_->inject(eth_frame(60, 26));
  ASSERT_TRUE(rx_->wait_used(1));
}

TEST_F(VirtioNetTest, LinkChangeWithoutTheStatusFeatureRaisesNoInterrupt) {
  create(false);
  bring_up(kDriverFeatures & ~kStatus);
  drv_->take_interrupts();
  net_->set_link(false);
  EXPECT_EQ(net_status() & kLinkUp, 0u);
  EXPECT_EQ(drv_->reg(MmioDriver::kInterruptStatus), 0u);
  // A reset keeps the link as it is.
  drv_->set(MmioDriver::kStatus, 0);
  EXPECT_EQ(net_status() & kLinkUp, 0u);
  net_->set_link(true);
  drv_->set(MmioDriver::kStatus, 0);
  EXPECT_EQ(net_status(), kLinkUp);
}

}  // namespace
}  // namespace ferry
