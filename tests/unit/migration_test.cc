// Migration between two VMs in one process, over a socket pair: the
// destination's RAM and CPU state equal the source's after a live migration
// of a guest that keeps dirtying memory; failures resume the source.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <thread>

#include "migration/migration_manager.h"
#include "migration/stream_config.h"
#include "migration_fixtures.h"
#include "rv_asm.h"
#include "test_files.h"
#include "vm/vm.h"

namespace ferry {
namespace {

using namespace rv;

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override { image_ = write_dirtier_image(); }
  void TearDown() override { unlink(image_.c_str()); }
  std::string image_;
};

TEST_F(MigrationTest, LiveMigrationCopiesRamAndCpuExactly) {
  Vm src(config(image_), nullptr, nullptr);
  src.start();
  VmConfig dcfg = config(image_);
  dcfg.incoming = "defer";
  dcfg.start_paused = true;
  Vm dst(dcfg, nullptr, nullptr);
  dst.start();
  MigrationManager msrc(src, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it dirty

  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::string err;
  Incoming in(dst, "fd:" + std::to_string(sv[1]));
  ASSERT_TRUE(in.started) << in.error;
  ASSERT_TRUE(msrc.start("fd:" + std::to_string(sv[0]), nullptr, &err)) << err;
  close(sv[0]);
  close(sv[1]);
  ASSERT_EQ(in.wait(), 1) << in.message << msrc.query().dump();
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCompleted; }))
      << msrc.query().dump();

  EXPECT_EQ(src.run_state(), RunState::kPostMigrate);
  EXPECT_EQ(dst.run_state(), RunState::kPaused);  // -S
  const nlohmann::json info = msrc.query();
  EXPECT_EQ(info["status"], "completed");
  EXPECT_GT(info["ram"]["transferred"].get<uint64_t>(), kRegionPages * 4096u);
  EXPECT_GE(info["ram"]["dirty-sync-count"].get<uint64_t>(), 1u);
  EXPECT_TRUE(info.contains("downtime"));

  // Both are stopped: every byte of RAM and the CPU state must match.
  GuestRam& a = src.board().ram();
  GuestRam& b = dst.board().ram();
  EXPECT_EQ(std::memcmp(a.host(), b.host(), a.size()), 0);
  EXPECT_EQ(src.board().hart().pc(), dst.board().hart().pc());
  for (unsigned r = 1; r < 32; ++r)
    EXPECT_EQ(src.board().hart().reg(r), dst.board().hart().reg(r)) << "x" << r;
  EXPECT_EQ(src.board().clint().mtimecmp(), dst.board().clint().mtimecmp());
  EXPECT_LE(src.board().clock().ticks(), dst.board().clock().ticks());

  // The destination runs on from there.
  const uint64_t counter_before = dst.board().hart().reg(6);
  dst.cont();
  EXPECT_TRUE(wait_for([&] {
    uint64_t v = 0;
    dst.run_on_vcpu([&] { v = dst.board().hart().reg(6); });
    return v > counter_before + 1000;
  }));
  src.join();
  dst.join();
}

// The destination loads its own -kernel/-initrd/-dtb when it is built, but
// after the migration its RAM is the source's: pages the source wrote come
// from the stream, and pages the stream says were never written are zero.
TEST_F(MigrationTest, DestinationRamDoesNotDependOnTheImagesItLoaded) {
  test_util::TempFile src_initrd(std::vector<uint8_t>(20000, 'a'));
  test_util::TempFile dst_initrd(std::vector<uint8_t>(300000, 'b'));
  VmConfig scfg = config(image_);
  scfg.initrd = src_initrd.path();
  scfg.append = "source";
  Vm src(scfg, nullptr, nullptr);
  src.start();
  VmConfig dcfg = config(image_);
  dcfg.initrd = dst_initrd.path();
  dcfg.append = "a different command line on the destination";
  dcfg.incoming = "defer";
  dcfg.start_paused = true;
  Vm dst(dcfg, nullptr, nullptr);
  dst.start();
  ASSERT_NE(std::memcmp(src.board().ram().host(), dst.board().ram().host(),
                        src.board().ram().size()),
            0);
  MigrationManager msrc(src, nullptr);

  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::string err;
  Incoming in(dst, "fd:" + std::to_string(sv[1]));
  ASSERT_TRUE(in.started) << in.error;
  ASSERT_TRUE(msrc.start("fd:" + std::to_string(sv[0]), nullptr, &err)) << err;
  close(sv[0]);
  close(sv[1]);
  ASSERT_EQ(in.wait(), 1) << in.message;
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCompleted; }));

  GuestRam& a = src.board().ram();
  GuestRam& b = dst.board().ram();
  EXPECT_EQ(std::memcmp(a.host(), b.host(), a.size()), 0);
  const uint64_t initrd = src.board().initrd_start();
  EXPECT_EQ(initrd, dst.board().initrd_start());
  EXPECT_EQ(*b.host_at(initrd), 'a');
  EXPECT_EQ(*b.host_at(initrd + 100000), 0);  // the destination's own initrd is gone
  src.join();
  dst.join();
}

TEST_F(MigrationTest, StreamOfAnotherCpuIsRefusedByName) {
  Vm dst(config(image_), nullptr, nullptr);
  StreamConfig c = stream_config_of(dst, true, 1000);
  EXPECT_EQ(c.cpu, "rv64imafdc_zicbom_zicboz_zicsr_zifencei_zba_zbb_zbs_sstc");
  std::string error;
  EXPECT_TRUE(check_stream_config(c, dst, &error)) << error;
  c.cpu = "rv64imac_zicbom_zicboz_zicsr_zifencei_sstc";  // a build without F and D
  EXPECT_FALSE(check_stream_config(c, dst, &error));
  EXPECT_EQ(error,
            "CPU mismatch: the stream is for 'rv64imac_zicbom_zicboz_zicsr_zifencei_sstc', "
            "this VM has 'rv64imafdc_zicbom_zicboz_zicsr_zifencei_zba_zbb_zbs_sstc'");
}

TEST_F(MigrationTest, RamSizeMismatchFailsAndTheSourceResumes) {
  Vm src(config(image_), nullptr, nullptr);
  src.start();
  VmConfig dcfg = config(image_, 32ull << 20);
  dcfg.incoming = "defer";
  Vm dst(dcfg, nullptr, nullptr);
  dst.start();
  MigrationManager msrc(src, nullptr);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::string err;
  Incoming in(dst, "fd:" + std::to_string(sv[1]));
  ASSERT_TRUE(in.started) << in.error;
  ASSERT_TRUE(msrc.start("fd:" + std::to_string(sv[0]), nullptr, &err)) << err;
  close(sv[0]);
  close(sv[1]);
  EXPECT_EQ(in.wait(), 2);
  EXPECT_NE(in.message.find("RAM size mismatch"), std::string::npos) << in.message;
  EXPECT_EQ(dst.run_state(), RunState::kInMigrate);  // never started
  ASSERT_TRUE(wait_for([&] {
    return msrc.status() == MigrationStatus::kFailed;
  })) << msrc.query().dump();
  EXPECT_TRUE(msrc.query().contains("error-desc"));
  ASSERT_TRUE(wait_for([&] { return src.run_state() == RunState::kRunning; }));
  src.join();
  dst.join();
}

TEST_F(MigrationTest, CancelResumesTheSourceAndARetryWorks) {
  Vm src(config(image_, 64ull << 20), nullptr, nullptr);
  src.start();
  MigrationManager msrc(src, nullptr);
  std::string err;
  ASSERT_TRUE(msrc.set_parameters({{"max-bandwidth", 1 << 20}}, &err)) << err;
  // A slow sink: the first migration goes to a file through a throttled link.
  char path[] = "/tmp/ferry-migration-cancel-XXXXXX";
  close(mkstemp(path));
  ASSERT_TRUE(msrc.start(std::string("file:") + path, nullptr, &err)) << err;
  EXPECT_FALSE(msrc.start(std::string("file:") + path, nullptr, &err));
  EXPECT_EQ(err, "There's a migration process in progress");
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kActive; }));
  msrc.cancel();
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCancelled; }))
      << msrc.query().dump();
  EXPECT_EQ(src.run_state(), RunState::kRunning);
  // Retry, unthrottled, into a file: completes, and the source stays stopped.
  ASSERT_TRUE(msrc.set_parameters({{"max-bandwidth", 0}}, &err));
  ASSERT_TRUE(msrc.start(std::string("file:") + path, nullptr, &err)) << err;
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCompleted; }))
      << msrc.query().dump();
  EXPECT_EQ(src.run_state(), RunState::kPostMigrate);

  // Nothing the guest wrote while the cancelled migration ran was lost: the
  // saved VM, loaded into a fresh one, equals the stopped source exactly.
  VmConfig dcfg = config(image_, 64ull << 20);
  dcfg.incoming = "defer";
  dcfg.start_paused = true;
  Vm dst(dcfg, nullptr, nullptr);
  dst.start();
  Incoming in(dst, std::string("file:") + path);
  ASSERT_TRUE(in.started) << in.error;
  ASSERT_EQ(in.wait(), 1) << in.message;
  EXPECT_EQ(std::memcmp(src.board().ram().host(), dst.board().ram().host(),
                        src.board().ram().size()),
            0);
  EXPECT_EQ(src.board().hart().pc(), dst.board().hart().pc());
  unlink(path);
  src.join();
  dst.join();
}

// The connection is cut by the destination at different points: during
// the header, in the middle of RAM, and after the whole stream arrived but
// before the destination confirmed it. Each time the source must fail with
// a reason and run its guest again.
TEST_F(MigrationTest, ConnectionCutAtEachPhaseResumesTheSource) {
  Vm src(config(image_), nullptr, nullptr);
  src.start();
  MigrationManager msrc(src, nullptr);
  // Bytes the fake destination reads before it hangs up (~0 = the whole stream).
  for (const uint64_t cut : {uint64_t{6}, uint64_t{300000}, ~uint64_t{0}}) {
    SCOPED_TRACE(cut);
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    std::thread fake_destination([fd = sv[1], cut] {
      uint8_t buf[65536];
      uint64_t total = 0;
      while (total < cut) {
        const ssize_t n = read(fd, buf, std::min<uint64_t>(sizeof buf, cut - total));
        if (n <= 0) break;
        total += static_cast<uint64_t>(n);
        // The whole stream ends with the end marker; stop there, no READY.
        if (cut == ~uint64_t{0} && buf[n - 1] == 0x06) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          uint8_t probe;
          if (recv(fd, &probe, 1, MSG_DONTWAIT) <= 0) break;
        }
      }
      close(fd);
    });
    std::string err;
    ASSERT_TRUE(msrc.start("fd:" + std::to_string(sv[0]), nullptr, &err)) << err;
    close(sv[0]);
    ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kFailed; }))
        << msrc.query().dump();
    fake_destination.join();
    EXPECT_FALSE(msrc.query().value("error-desc", "").empty()) << msrc.query().dump();
    ASSERT_TRUE(wait_for([&] { return src.run_state() == RunState::kRunning; }));
    // And the guest really runs on.
    uint64_t before = 0, after = 0;
    src.run_on_vcpu([&] { before = src.board().hart().reg(6); });
    ASSERT_TRUE(wait_for([&] {
      src.run_on_vcpu([&] { after = src.board().hart().reg(6); });
      return after > before + 1000;
    }));
  }
  src.join();
}

TEST_F(MigrationTest, TruncatedStreamFailsWithAMessage) {
  Vm src(config(image_), nullptr, nullptr);
  src.start();
  MigrationManager msrc(src, nullptr);
  char path[] = "/tmp/ferry-migration-trunc-XXXXXX";
  close(mkstemp(path));
  std::string err;
  ASSERT_TRUE(msrc.start(std::string("file:") + path, nullptr, &err)) << err;
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCompleted; }));
  ASSERT_EQ(truncate(path, 4000), 0);
  VmConfig dcfg = config(image_);
  dcfg.incoming = "defer";
  Vm dst(dcfg, nullptr, nullptr);
  dst.start();
  Incoming in(dst, std::string("file:") + path);
  ASSERT_TRUE(in.started) << in.error;
  EXPECT_EQ(in.wait(), 2);
  EXPECT_NE(in.message.find("ended early"), std::string::npos) << in.message;
  EXPECT_EQ(dst.run_state(), RunState::kInMigrate);
  unlink(path);
  src.join();
  dst.join();
}

// A guest that dirties memory four times faster than the link carries
// (the link is set from the guest's measured speed, so this holds on any
// host and under sanitizers): without auto-converge the migration keeps
// going and says why; with it, the vCPU is throttled step by step until the
// migration completes.
TEST(MigrationConvergeTest, AutoConvergeThrottlesUntilItCompletes) {
  const std::string image = write_dirtier_image(256, 20000);
  Vm src(config(image, 64ull << 20), nullptr, nullptr);
  src.start();
  MigrationManager msrc(src, nullptr);
  auto counter = [&] {
    uint64_t c = 0;
    src.run_on_vcpu([&] { c = src.board().hart().reg(6); });
    return c;
  };
  const uint64_t c0 = counter();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t dirty_bytes_per_second = (counter() - c0) * 2 * 4096;
  const uint64_t link = std::max<uint64_t>(dirty_bytes_per_second / 4, 16384);
  // The whole working set (256 pages) takes three times the downtime limit to
  // send, whatever the host's speed sets the link to.
  const uint64_t working_set_ms = 256 * 4096 * 1000 / link;
  const uint64_t limit_ms = std::max<uint64_t>(working_set_ms / 3, 1);
  std::string err;
  ASSERT_TRUE(
      msrc.set_parameters({{"max-bandwidth", link}, {"downtime-limit", limit_ms}}, &err))
      << err;
  char path[] = "/tmp/ferry-migration-converge-XXXXXX";
  close(mkstemp(path));
  ASSERT_TRUE(msrc.start(std::string("file:") + path, nullptr, &err)) << err;
  ASSERT_TRUE(wait_for([&] {
    const auto q = msrc.query();
    return q.contains("ram") && q["ram"]["dirty-sync-count"].get<uint64_t>() >= 4;
  }, 120)) << msrc.query().dump();
  nlohmann::json q = msrc.query();
  EXPECT_EQ(q["status"], "active");  // not converging...
  EXPECT_GT(q["expected-downtime"].get<uint64_t>(), limit_ms) << q.dump();  // ...and why
  EXPECT_GT(q["ram"]["dirty-pages-rate"].get<uint64_t>(), 0u);
  EXPECT_FALSE(q.contains("cpu-throttle-percentage"));
  msrc.cancel();
  ASSERT_TRUE(wait_for([&] { return msrc.status() == MigrationStatus::kCancelled; }));

  ASSERT_TRUE(msrc.set_capabilities(
      nlohmann::json::array({{{"capability", "auto-converge"}, {"state", true}}}), &err))
      << err;
  ASSERT_TRUE(msrc.start(std::string("file:") + path, nullptr, &err)) << err;
  bool saw_throttle = false;
  ASSERT_TRUE(wait_for([&] {
    const auto info = msrc.query();
    if (info.contains("cpu-throttle-percentage")) saw_throttle = true;
    return msrc.status() == MigrationStatus::kCompleted;
  }, 120)) << msrc.query().dump();
  EXPECT_TRUE(saw_throttle);
  EXPECT_EQ(src.throttle_percent(), 0u);  // lifted again
  unlink(path);
  unlink(image.c_str());
  src.join();
}

TEST(MigrationUriTest, BadUrisAreRefusedWithAReason) {
  std::string err;
  EXPECT_FALSE(parse_migration_uri("foo:bar", &err));
  EXPECT_NE(err.find("unknown migration protocol"), std::string::npos);
  EXPECT_FALSE(parse_migration_uri("tcp:nohost", &err));
  EXPECT_NE(err.find("tcp:HOST:PORT"), std::string::npos);
  EXPECT_FALSE(parse_migration_uri("tcp:host:port", &err));
  auto u = parse_migration_uri("tcp:[::1]:4444", &err);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "4444");
  EXPECT_TRUE(parse_migration_uri("exec:cat > /dev/null", &err));
  EXPECT_FALSE(parse_migration_uri("unix:", &err));
}

}  // namespace
}  // namespace ferry
