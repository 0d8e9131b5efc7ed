// VirtioBlk on the virtio-mmio transport, driven as a guest driver would:
// registers, a split ring in guest RAM, notifies; the I/O thread serves the
// requests. Also what a driver can get wrong (a descriptor out of range, a
// loop, a buffer outside RAM, a request beyond the disk) and the state.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "block/raw_image.h"
#include "devices/virtio/virtio_blk.h"
#include "memory/address_space.h"
#include "state_roundtrip.h"
#include "test_files.h"
#include "virtqueue_driver.h"

namespace ferry {
namespace {

constexpr uint64_t kBase = 0x80000000;
constexpr uint64_t kRings = kBase + 0x1000;
constexpr uint64_t kHeader = kBase + 0x4000, kData = kBase + 0x5000, kStatus = kBase + 0x9000;
constexpr uint16_t kQueueSize = 8;

using test_util::MmioDriver;
using test_util::VirtqueueDriver;

class VirtioBlkTest : public ::testing::Test {
 protected:
  VirtioBlkTest() : disk_(pattern()), ram_(kBase, 1 << 20), bus_(ram_) {
    bus_.set_device_lock(&device_lock_);
    blk_ = std::make_unique<VirtioBlk>(bus_, ram_, &irq_, RawImage::open(disk_.path(), false),
                                       VirtioBlkConfig{"SERIAL-7", false});
    drv_ = std::make_unique<MmioDriver>(*blk_, device_lock_);
    blk_->vm_state_changed(true);
  }
  ~VirtioBlkTest() override { blk_->vm_state_changed(false); }

  static std::vector<uint8_t> pattern() {
    std::vector<uint8_t> d(64 * 512);
    for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 7 + i / 512);
    return d;
  }
  uint32_t reg(uint64_t off) { return drv_->reg(off); }
  void set(uint64_t off, uint32_t v) { drv_->set(off, v); }
  // The driver's side of the handshake, one queue.
  void bring_up() {
    ASSERT_TRUE(drv_->negotiate(1ull << 32));  // VIRTIO_F_VERSION_1
    ASSERT_EQ(reg(0x34), 256u);
    vq_ = std::make_unique<VirtqueueDriver>(ram_, kRings, kQueueSize);
    vq_->attach(*drv_, 0);
    drv_->set_driver_ok();
  }
  void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    vq_->desc(i, addr, len, flags, next);
  }
  // Header, data, status as a chain from descriptor 0.
  void request(uint32_t type, uint64_t sector, uint32_t data_len, bool device_writes_data) {
    uint8_t h[16] = {};
    std::memcpy(h, &type, 4);
    std::memcpy(h + 8, &sector, 8);
    ram_.write(kHeader, h, 16);
    desc(0, kHeader, 16, 1, 1);
    desc(1, kData, data_len, static_cast<uint16_t>(1 | (device_writes_data ? 2 : 0)), 2);
    desc(2, kStatus, 1, 2, 0);
    ram_.fill_zero(kStatus, 1);
    publish(0);
  }
  void publish(uint16_t head) {
    vq_->publish(head);
    drv_->notify(0);
  }
  // Waits for the device to return `count` chains in all.
  bool wait_used(uint16_t count) { return vq_->wait_used(count); }
  uint8_t status() {
    uint8_t s;
    ram_.read(kStatus, &s, 1);
    return s;
  }

  test_util::TempFile disk_;
  GuestRam ram_;
  AddressSpace bus_;
  std::mutex device_lock_;
  test_util::RecordingIrq irq_;
  std::unique_ptr<VirtioBlk> blk_;
  std::unique_ptr<MmioDriver> drv_;
  std::unique_ptr<VirtqueueDriver> vq_;
};

TEST_F(VirtioBlkTest, IdentifiesAndNegotiates) {
  EXPECT_EQ(reg(0x000), 0x74726976u);
  EXPECT_EQ(reg(0x004), 2u);
  EXPECT_EQ(reg(0x008), 2u);  // block device
  set(0x14, 1);
  EXPECT_EQ(reg(0x10) & 1, 1u);  // VERSION_1 offered
  EXPECT_EQ(reg(0x100), 64u);    // capacity in sectors
  // Without VERSION_1, FEATURES_OK does not stick.
  set(0x70, 1 | 2 | 8);
  EXPECT_EQ(reg(0x70) & 8, 0u);
}

TEST_F(VirtioBlkTest, ReadWriteFlushGetId) {
  bring_up();
  request(0, 2, 1024, true);  // read sectors 2..3
  ASSERT_TRUE(wait_used(1));
  EXPECT_EQ(status(), 0);
  std::vector<uint8_t> got(1024);
  ram_.read(kData, got.data(), got.size());
  const std::vector<uint8_t> want = pattern();
  EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin() + 1024));
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(reg(0x60) & 1, 1u);
  set(0x64, 1);
  EXPECT_FALSE(irq_.level());

  std::vector<uint8_t> data(512, 0xab);
  ram_.write(kData, data.data(), data.size());
  request(1, 5, 512, false);  // write sector 5
  ASSERT_TRUE(wait_used(2));
  EXPECT_EQ(status(), 0);
  request(4, 0, 0, false);  // flush (a zero-length data descriptor)
  ASSERT_TRUE(wait_used(3));
  EXPECT_EQ(status(), 0);
  std::vector<uint8_t> file(512);
  auto image = RawImage::open(disk_.path(), true);
  image->read(5 * 512, file.data(), 512);
  EXPECT_EQ(file, data);

  request(8, 0, 20, true);  // get-id
  ASSERT_TRUE(wait_used(4));
  char id[21] = {};
  ram_.read(kData, id, 20);
  EXPECT_STREQ(id, "SERIAL-7");
}

TEST_F(VirtioBlkTest, RequestsBeyondTheDiskFailWithIoError) {
  bring_up();
  request(0, 63, 1024, true);  // runs past the last sector
  ASSERT_TRUE(wait_used(1));
  EXPECT_EQ(status(), 1);  // VIRTIO_BLK_S_IOERR
  request(0, ~0ull / 2, 512, true);  // sector * 512 would wrap
  ASSERT_TRUE(wait_used(2));
  EXPECT_EQ(status(), 1);
  request(99, 0, 512, true);  // unknown type
  ASSERT_TRUE(wait_used(3));
  EXPECT_EQ(status(), 2);  // VIRTIO_BLK_S_UNSUPP
}

TEST_F(VirtioBlkTest, BrokenChainsAskForAResetAndTouchNothing) {
  bring_up();
  desc(0, kHeader, 16, 1, 0);  // a loop: 0 -> 0
  publish(0);
  for (int i = 0; i < 2000 && !(reg(0x70) & 64); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(reg(0x70) & 64, 64u);  // DEVICE_NEEDS_RESET
  EXPECT_EQ(reg(0x60) & 2, 2u);    // a configuration-change interrupt
  EXPECT_EQ(vq_->used_idx(), 0u);

  // After a reset, a buffer outside RAM is refused the same way.
  bring_up();
  desc(0, kHeader, 16, 1, 1);
  desc(1, kBase + (1 << 20) - 8, 512, 1 | 2, 2);  // runs off the end of RAM
  desc(2, kStatus, 1, 2, 0);
  publish(0);
  for (int i = 0; i < 2000 && !(reg(0x70) & 64); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(reg(0x70) & 64, 64u);
}

TEST_F(VirtioBlkTest, StateRoundTripsAndChecksTheDiskSize) {
  bring_up();
  request(0, 0, 512, true);
  ASSERT_TRUE(wait_used(1));
  blk_->vm_state_changed(false);
  test_util::TempFile other(pattern());
  VirtioBlk copy(bus_, ram_, nullptr, RawImage::open(other.path(), false), VirtioBlkConfig{});
  ASSERT_EQ(test_util::round_trip(*blk_, copy), "");
  EXPECT_EQ(test_util::save_state(*blk_), test_util::save_state(copy));
  // A destination whose disk has another size refuses the state.
  test_util::TempFile small(std::vector<uint8_t>(4096));
  VirtioBlk wrong(bus_, ram_, nullptr, RawImage::open(small.path(), false), VirtioBlkConfig{});
  EXPECT_NE(test_util::round_trip(*blk_, wrong), "");
  blk_->vm_state_changed(true);
}

}  // namespace
}  // namespace ferry
