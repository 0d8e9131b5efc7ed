// The migration core with devices the board does not have: several
// instances of one type, DMA from a thread of its own, a migration that
// holds the run state during stop-and-copy, and the hand-over's deadlines.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "migration/migration_manager.h"
#include "migration_fixtures.h"
#include "test_devices.h"
#include "vm/vm.h"

namespace ferry {
namespace {

using test_util::CounterDevice;
using test_util::DmaDevice;
using test_util::GateDevice;

class MigrationCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { image_ = write_dirtier_image(); }
  void TearDown() override { unlink(image_.c_str()); }
  VmConfig destination_config(uint64_t ram = 16ull << 20) {
    VmConfig c = config(image_, ram);
    c.incoming = "defer";
    c.start_paused = true;
    return c;
  }
  // Migrates src into dst over a socket pair; returns how dst ended.
  int migrate(MigrationManager& msrc, Vm& dst) {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    incoming_ = std::make_unique<Incoming>(dst, "fd:" + std::to_string(sv[1]));
    EXPECT_TRUE(incoming_->started) << incoming_->error;
    std::string err;
    EXPECT_TRUE(msrc.start("fd:" + std::to_string(sv[0]), nullptr, &err)) << err;
    close(sv[0]);
    close(sv[1]);
    return incoming_->wait();
  }
  std::string image_;
  std::unique_ptr<Incoming> incoming_;
};

TEST_F(MigrationCoreTest, TwoDevicesOfOneTypeKeepTheirOwnState) {
  Vm src(config(image_), nullptr, nullptr);
  CounterDevice s0, s1;
  s0.value = 100;
  s0.entries = {{0x10, 1}};
  s1.value = 200;
  s1.entries = {{0x20, 2}, {0x30, 3}};
  s1.extra = 5;
  src.state_registry().add_device(s0, state_order::kDevice);
  src.state_registry().add_device(s1, state_order::kDevice);
  src.start();
  Vm dst(destination_config(), nullptr, nullptr);
  CounterDevice d0, d1;
  dst.state_registry().add_device(d0, state_order::kDevice);
  dst.state_registry().add_device(d1, state_order::kDevice);
  dst.start();
  MigrationManager msrc(src, nullptr);
  ASSERT_EQ(migrate(msrc, dst), 1) << incoming_->message;
  EXPECT_EQ(d0.value, 100u);
  EXPECT_EQ(d0.entries, s0.entries);
  EXPECT_EQ(d1.value, 200u);
  EXPECT_EQ(d1.entries, s1.entries);
  EXPECT_EQ(d1.extra, 5u);
  EXPECT_EQ(d0.extra, 0u);
  // Hooks: stopped, snapshotted, loaded.
  EXPECT_EQ(s0.stops, 1);
  EXPECT_EQ(s0.pre_saves, 1);
  EXPECT_EQ(d1.post_loads, 1);
  src.join();
  dst.join();
}

TEST_F(MigrationCoreTest, ADestinationWithoutTheDeviceRefusesTheStreamByName) {
  Vm src(config(image_), nullptr, nullptr);
  CounterDevice s0, s1;
  src.state_registry().add_device(s0, state_order::kDevice);
  src.state_registry().add_device(s1, state_order::kDevice);
  src.start();
  Vm dst(destination_config(), nullptr, nullptr);
  CounterDevice d0;  // only one
  dst.state_registry().add_device(d0, state_order::kDevice);
  dst.start();
  MigrationManager msrc(src, nullptr);
  ASSERT_EQ(migrate(msrc, dst), 2);
  EXPECT_NE(incoming_->message.find("unknown section 'test-counter' instance 1"),
            std::string::npos) << incoming_->message;
  EXPECT_EQ(dst.run_state(), RunState::kInMigrate);
  ASSERT_TRUE(wait_for([&] { return src.run_state() == RunState::kRunning; }));
  src.join();
  dst.join();
}

TEST_F(MigrationCoreTest, AnUnknownOptionalSubsectionIsRefusedWithTheSectionName) {
  Vm src(config(image_), nullptr, nullptr);
  CounterDevice newer(true);
  newer.extra = 3;
  src.state_registry().add_device(newer, state_order::kDevice);
  src.start();
  Vm dst(destination_config(), nullptr, nullptr);
  CounterDevice older(false);
  dst.state_registry().add_device(older, state_order::kDevice);
  dst.start();
  MigrationManager msrc(src, nullptr);
  ASSERT_EQ(migrate(msrc, dst), 2);
  EXPECT_NE(incoming_->message.find("section 'test-counter': unknown subsection 'extra'"),
            std::string::npos) << incoming_->message;
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kFailed; }));
  EXPECT_NE(msrc.query()["error-desc"].get<std::string>().find("unknown subsection"),
            std::string::npos);
  ASSERT_TRUE(wait_for([&] { return src.run_state() == RunState::kRunning; }));
  src.join();
  dst.join();
}

// A device thread keeps writing guest RAM (beside the guest's own stores)
// all through pre-copy, at a link slow enough for several passes: every
// write must be on the destination, byte for byte.
TEST_F(MigrationCoreTest, DmaFromAnotherThreadDuringPrecopyIsAllFound) {
  constexpr uint64_t kDmaBase = ferry::kRamBase + (4ull << 20);
  constexpr uint64_t kDmaPages = 1024;
  Vm src(config(image_), nullptr, nullptr);
  DmaDevice dma(src.board().ram(), kDmaBase, kDmaPages);
  src.state_registry().add_device(dma, state_order::kDevice);
  src.start();
  dma.vm_state_changed(true);  // the VM started running before it was registered
  Vm dst(destination_config(), nullptr, nullptr);
  DmaDevice dst_dma(dst.board().ram(), kDmaBase, kDmaPages);
  dst.state_registry().add_device(dst_dma, state_order::kDevice);
  dst.start();
  ASSERT_TRUE(wait_for([&] { return dma.writes.load() > 10000; }));
  MigrationManager msrc(src, nullptr);
  std::string err;
  ASSERT_TRUE(msrc.set_parameters({{"max-bandwidth", 48 << 20}}, &err)) << err;
  const uint64_t before = dma.writes.load();
  ASSERT_EQ(migrate(msrc, dst), 1) << incoming_->message;
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCompleted; }));
  const auto info = msrc.query();
  EXPECT_GE(info["ram"]["dirty-sync-count"].get<uint64_t>(), 3u) << info.dump();
  EXPECT_GT(dma.writes.load() - before, 10000u);  // it really wrote during the migration
  EXPECT_EQ(dst_dma.writes_saved, dma.writes.load());
  const GuestRam& a = src.board().ram();
  const GuestRam& b = dst.board().ram();
  size_t differing = 0;
  for (uint64_t p = 0; p < a.page_count(); ++p)
    if (std::memcmp(a.host() + p * kPageSize, b.host() + p * kPageSize, kPageSize) != 0)
      ++differing;
  EXPECT_EQ(differing, 0u);
  src.join();
  dst.join();
}

TEST_F(MigrationCoreTest, StopContAndResetAreRefusedDuringStopAndCopy) {
  Vm src(config(image_), nullptr, nullptr);
  GateDevice gate;
  src.state_registry().add_device(gate, state_order::kDevice);
  src.start();
  MigrationManager msrc(src, nullptr);
  char path[] = "/tmp/ferry-migration-gate-XXXXXX";
  close(mkstemp(path));
  std::string err;
  ASSERT_TRUE(msrc.start(std::string("file:") + path, nullptr, &err)) << err;
  ASSERT_TRUE(gate.wait_entered(std::chrono::seconds(30)));
  for (auto [name, command] : {std::pair<const char*, std::function<void()>>{"cont", [&] { src.cont(); }},
                               {"stop", [&] { src.stop(); }},
                               {"system_reset", [&] { src.system_reset(); }}}) {
    try {
      command();
      ADD_FAILURE() << name << " was accepted during stop-and-copy";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("migration"), std::string::npos) << e.what();
    }
  }
  gate.open();
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCompleted; }))
      << msrc.query().dump();
  EXPECT_EQ(src.run_state(), RunState::kPostMigrate);
  // The run state is free again: cont after a completed migration is the
  // operator's call (the destination is gone), and works.
  EXPECT_NO_THROW(src.cont());
  // Every step of the pause is recorded.
  const auto steps = msrc.query()[MigrationManager::kStepsMember];
  ASSERT_TRUE(steps.is_array()) << msrc.query().dump();
  std::vector<std::string> names;
  for (const auto& s : steps) names.push_back(s["step"]);
  EXPECT_EQ(names, (std::vector<std::string>{"stop-requested", "harts-stopped",
                                             "live-state-written", "devices-snapshotted",
                                             "stream-sent"}));
  unlink(path);
  src.join();
}

// Two harts, each on its own thread, both storing: stop-and-copy stops both,
// each travels as its own "cpu" instance, and RAM and every hart's state
// arrive exactly.
TEST_F(MigrationCoreTest, EveryHartStopsAndTravelsAsItsOwnInstance) {
  VmConfig scfg = config(image_);
  scfg.smp = 2;
  Vm src(scfg, nullptr, nullptr);
  src.start();
  VmConfig dcfg = destination_config();
  dcfg.smp = 2;
  Vm dst(dcfg, nullptr, nullptr);
  dst.start();
  ASSERT_NE(src.state_registry().find("cpu", 1), nullptr);
  ASSERT_TRUE(wait_for([&] {
    uint64_t a = 0, b = 0;
    src.run_on_vcpu([&] { a = src.board().hart(0).reg(6); b = src.board().hart(1).reg(6); });
    return a > 1000 && b > 1000;  // both harts run
  }));
  MigrationManager msrc(src, nullptr);
  ASSERT_EQ(migrate(msrc, dst), 1) << incoming_->message;
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCompleted; }));
  const GuestRam& a = src.board().ram();
  const GuestRam& b = dst.board().ram();
  EXPECT_EQ(std::memcmp(a.host(), b.host(), a.size()), 0);
  for (unsigned h = 0; h < 2; ++h) {
    EXPECT_EQ(src.board().hart(h).pc(), dst.board().hart(h).pc()) << "hart " << h;
    for (unsigned r = 1; r < 32; ++r)
      EXPECT_EQ(src.board().hart(h).reg(r), dst.board().hart(h).reg(r)) << "hart " << h << " x" << r;
  }
  // The destination runs both harts on.
  const uint64_t before = dst.board().hart(1).reg(6);
  dst.cont();
  EXPECT_TRUE(wait_for([&] {
    uint64_t v = 0;
    dst.run_on_vcpu([&] { v = dst.board().hart(1).reg(6); });
    return v > before + 1000;
  }));
  src.join();
  dst.join();
}

// A destination that takes the whole stream but never confirms: the source
// gives up after confirm-timeout, says so, and runs its guest again.
TEST_F(MigrationCoreTest, NoConfirmationWithinTheDeadlineResumesTheSource) {
  Vm src(config(image_), nullptr, nullptr);
  src.start();
  MigrationManager msrc(src, nullptr);
  std::string err;
  ASSERT_TRUE(msrc.set_parameters({{"confirm-timeout", 300}}, &err)) << err;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::thread silent_destination([fd = sv[1]] {
    uint8_t buf[65536];
    while (read(fd, buf, sizeof buf) > 0) {
    }
  });
  ASSERT_TRUE(msrc.start("fd:" + std::to_string(sv[0]), nullptr, &err)) << err;
  close(sv[0]);
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kFailed; }))
      << msrc.query().dump();
  EXPECT_NE(msrc.query()["error-desc"].get<std::string>().find("confirm-timeout"),
            std::string::npos) << msrc.query().dump();
  ASSERT_TRUE(wait_for([&] { return src.run_state() == RunState::kRunning; }));
  src.join();
  shutdown(sv[1], SHUT_RDWR);
  silent_destination.join();
  close(sv[1]);
}

}  // namespace
}  // namespace ferry
