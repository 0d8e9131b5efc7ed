// Qcow2Image against the images qemu-img makes and checks: what ferry writes
// must read back, convert to the same bytes with qemu-img, and pass
// `qemu-img check` — also after the writer is killed mid-way.
#include "block/qcow2_image.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "block/image_probe.h"
#include "block/qcow2_format.h"
#include "devices/virtio/virtio_blk.h"
#include "memory/address_space.h"
#include "memory/guest_ram.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ferry-qcow2-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs a shell command; its exit code, and its output in `out`.
int run(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  const int rc = pclose(p);
  if (out) *out = text;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void qemu_img_create(const std::string& path, const std::string& size,
                     const std::string& options = "") {
  std::string out;
  ASSERT_EQ(run("qemu-img create -f qcow2 " + options + " " + path + " " + size, &out), 0) << out;
}

// `qemu-img check`'s exit code (0 clean, 2 corrupt, 3 leaks only), output on failure.
int qemu_img_check(const std::string& path, std::string* out) {
  return run("qemu-img check " + path, out);
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// The image checks clean and converts to exactly `reference`.
void expect_qemu_sees(const std::string& image, const std::vector<uint8_t>& reference,
                      const TempDir& dir) {
  std::string out;
  EXPECT_EQ(qemu_img_check(image, &out), 0) << out;
  const std::string raw = dir.file("converted.raw");
  ASSERT_EQ(run("qemu-img convert -O raw " + image + " " + raw, &out), 0) << out;
  const std::vector<uint8_t> bytes = read_file(raw);
  ASSERT_EQ(bytes.size(), reference.size());
  size_t first_diff = 0;
  while (first_diff < bytes.size() && bytes[first_diff] == reference[first_diff]) ++first_diff;
  EXPECT_EQ(first_diff, bytes.size()) << "first difference at byte " << first_diff;
  fs::remove(raw);
}

void expect_reads(Qcow2Image& img, const std::vector<uint8_t>& reference) {
  std::vector<uint8_t> got(reference.size());
  img.read(0, got.data(), got.size());
  EXPECT_TRUE(got == reference);
}

// Random writes, unaligned and crossing clusters, mirrored into `reference`.
void scatter_writes(Qcow2Image& img, std::vector<uint8_t>& reference, std::mt19937_64& rng,
                    int count, size_t max_len) {
  for (int i = 0; i < count; ++i) {
    const size_t len = 1 + rng() % max_len;
    const uint64_t off = rng() % (reference.size() - len);
    const auto data = random_bytes(rng, len);
    img.write(off, data.data(), len);
    std::memcpy(&reference[off], data.data(), len);
  }
}

std::string open_error(const std::string& path, bool read_only = true) {
  try {
    Qcow2Image::open(path, read_only);
  } catch (const BlockError& e) {
    return e.what();
  }
  return "(opened)";
}

void patch(const std::string& path, uint64_t offset, const std::vector<uint8_t>& bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> be(uint64_t v, int bytes) {
  std::vector<uint8_t> b(bytes);
  for (int i = 0; i < bytes; ++i) b[i] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
  return b;
}

TEST(Qcow2Image, FreshImageReadsZeros) {
  TempDir dir;
  const std::string f = dir.file("a.qcow2");
  qemu_img_create(f, "64M");
  auto img = Qcow2Image::open(f, false);
  EXPECT_EQ(img->format(), "qcow2");
  EXPECT_EQ(img->size(), 64u << 20);
  EXPECT_EQ(img->cluster_size(), 65536u);
  std::vector<uint8_t> buf(1 << 20, 0xaa);
  img->read(63u << 20, buf.data(), buf.size());
  EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_TRUE(img->allocated_extents().empty());
  EXPECT_THROW(img->read((64u << 20) - 10, buf.data(), 11), BlockError);
}

class Qcow2ClusterSizes : public testing::TestWithParam<int> {};

TEST_P(Qcow2ClusterSizes, ScatteredWritesMatchQemu) {
  TempDir dir;
  const std::string f = dir.file("a.qcow2");
  qemu_img_create(f, "24M", "-o cluster_size=" + std::to_string(GetParam()));
  std::vector<uint8_t> reference(24u << 20, 0);
  std::mt19937_64 rng(GetParam());
  {
    auto img = Qcow2Image::open(f, false);
    scatter_writes(*img, reference, rng, 150, 200000);
    // A write spanning several L2 tables (one maps 2 MiB with 4 KiB clusters).
    const auto big = random_bytes(rng, 5 << 20);
    img->write(3000, big.data(), big.size());
    std::memcpy(&reference[3000], big.data(), big.size());
    expect_reads(*img, reference);
    img->flush();
  }
  {
    auto img = Qcow2Image::open(f, true);
    expect_reads(*img, reference);
  }
  expect_qemu_sees(f, reference, dir);
}

INSTANTIATE_TEST_SUITE_P(Qcow2, Qcow2ClusterSizes, testing::Values(4096, 65536, 2 << 20));

TEST(Qcow2Image, GrowsRefcountTableWithSmallClusters) {
  // 512-byte clusters: a refcount block covers 128 KiB and the first refcount
  // table 8 MiB of file, so 20 MiB of data needs many blocks and a larger table.
  TempDir dir;
  const std::string f = dir.file("small.qcow2");
  qemu_img_create(f, "32M", "-o cluster_size=512");
  std::vector<uint8_t> reference(32u << 20, 0);
  std::mt19937_64 rng(7);
  {
    auto img = Qcow2Image::open(f, false);
    const auto data = random_bytes(rng, 20 << 20);
    img->write(1 << 20, data.data(), data.size());
    std::memcpy(&reference[1 << 20], data.data(), data.size());
    scatter_writes(*img, reference, rng, 100, 5000);
  }
  const auto header = read_file(f);
  EXPECT_GT(qcow2::get_be32(&header[56]), 1u) << "the refcount table did not grow";
  expect_qemu_sees(f, reference, dir);
  auto img = Qcow2Image::open(f, true);
  expect_reads(*img, reference);
}

TEST(Qcow2Image, WriteZeroesAndDiscard) {
  TempDir dir;
  const std::string f = dir.file("z.qcow2");
  qemu_img_create(f, "8M");
  std::vector<uint8_t> reference(8u << 20, 0);
  std::mt19937_64 rng(3);
  {
    auto img = Qcow2Image::open(f, false);
    const auto data = random_bytes(rng, 1 << 20);
    img->write(0, data.data(), data.size());
    std::memcpy(reference.data(), data.data(), data.size());
    // Unaligned: partial clusters are written as zeros, whole ones flagged zero.
    img->write_zeroes(1000, 300000);
    std::memset(&reference[1000], 0, 300000);
    img->discard(400000, 200000);  // whole clusters inside go, the edges stay
    std::memset(&reference[458752], 0, 131072);
    img->write_zeroes(6u << 20, 65536);  // never written: stays unallocated
    expect_reads(*img, reference);
    const auto extents = img->allocated_extents();
    ASSERT_EQ(extents.size(), 2u);
    EXPECT_EQ(extents[0].offset, 0u);
    EXPECT_EQ(extents[0].length, 458752u);
    EXPECT_EQ(extents[1].offset, 589824u);
    EXPECT_EQ(extents[1].length, (1u << 20) - 589824u);
    // A write into a zero-flagged cluster keeps zeros around it.
    const auto small = random_bytes(rng, 100);
    img->write(70000, small.data(), small.size());
    std::memcpy(&reference[70000], small.data(), small.size());
    expect_reads(*img, reference);
  }
  expect_qemu_sees(f, reference, dir);
}

TEST(Qcow2Image, RawBackingFileAndCopyOnWrite) {
  TempDir dir;
  std::mt19937_64 rng(11);
  std::vector<uint8_t> reference = random_bytes(rng, 3u << 20);
  write_file(dir.file("base.raw"), reference);
  reference.resize(6u << 20, 0);  // beyond the backing file: zeros
  std::string out;
  ASSERT_EQ(run("cd " + dir.path() +
                    " && qemu-img create -f qcow2 -b base.raw -F raw top.qcow2 6M",
                &out),
            0)
      << out;
  const std::string top = dir.file("top.qcow2");
  {
    auto img = Qcow2Image::open(top, false);
    expect_reads(*img, reference);
    EXPECT_TRUE(img->allocated_extents().empty());
    // Copy-on-write: a partial write keeps the backing data around it.
    const auto data = random_bytes(rng, 100);
    img->write(70000, data.data(), data.size());
    std::memcpy(&reference[70000], data.data(), data.size());
    // Across the end of the backing file.
    const auto tail = random_bytes(rng, 90000);
    img->write((3u << 20) - 40000, tail.data(), tail.size());
    std::memcpy(&reference[(3u << 20) - 40000], tail.data(), tail.size());
    // Zeros hide the backing file; a discard shows it again.
    img->write_zeroes(2u << 20, 131072);
    std::memset(&reference[2u << 20], 0, 131072);
    img->write(200000, data.data(), data.size());
    img->discard(196608, 65536);
    expect_reads(*img, reference);
    const auto extents = img->allocated_extents();
    ASSERT_EQ(extents.size(), 3u);
    EXPECT_EQ(extents[0].offset, 65536u);
    EXPECT_EQ(extents[0].length, 65536u);
    EXPECT_EQ(extents[1].offset, 2u << 20);
    EXPECT_EQ(extents[1].length, 131072u);
    EXPECT_EQ(extents[2].offset, (3u << 20) - 65536);
    EXPECT_EQ(extents[2].length, 131072u);
  }
  // The base is untouched.
  EXPECT_EQ(read_file(dir.file("base.raw")).size(), 3u << 20);
  expect_qemu_sees(top, reference, dir);
}

TEST(Qcow2Image, Qcow2BackingChain) {
  TempDir dir;
  std::mt19937_64 rng(12);
  std::vector<uint8_t> reference(4u << 20, 0);
  const std::string base = dir.file("base.qcow2");
  qemu_img_create(base, "4M", "-o cluster_size=4096");
  {
    auto img = Qcow2Image::open(base, false);
    scatter_writes(*img, reference, rng, 40, 100000);
  }
  std::string out;
  ASSERT_EQ(run("cd " + dir.path() +
                    " && qemu-img create -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2 4M"
                    " && qemu-img create -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 4M",
                &out),
            0)
      << out;
  const std::string top = dir.file("top.qcow2");
  {
    auto img = Qcow2Image::open(top, false);
    expect_reads(*img, reference);
    scatter_writes(*img, reference, rng, 40, 10000);
    expect_reads(*img, reference);
  }
  expect_qemu_sees(top, reference, dir);
  fs::remove(dir.file("mid.qcow2"));
  EXPECT_NE(open_error(top).find("backing file mid.qcow2"), std::string::npos) << open_error(top);
}

TEST(Qcow2Image, CompressedClustersReadAndRewrite) {
  TempDir dir;
  std::mt19937_64 rng(5);
  std::vector<uint8_t> reference(2u << 20, 0);
  for (size_t i = 0; i < reference.size(); ++i) reference[i] = static_cast<uint8_t>((i / 7) * (i % 251));
  write_file(dir.file("src.raw"), reference);
  const std::string f = dir.file("c.qcow2");
  std::string out;
  ASSERT_EQ(run("qemu-img convert -c -O qcow2 " + dir.file("src.raw") + " " + f, &out), 0) << out;
  {
    auto img = Qcow2Image::open(f, false);
    expect_reads(*img, reference);
    scatter_writes(*img, reference, rng, 20, 3000);
    img->write_zeroes(1u << 20, 65536);
    std::memset(&reference[1u << 20], 0, 65536);
    expect_reads(*img, reference);
  }
  expect_qemu_sees(f, reference, dir);
}

TEST(Qcow2Image, Version2Images) {
  TempDir dir;
  const std::string f = dir.file("v2.qcow2");
  qemu_img_create(f, "4M", "-o compat=0.10");
  std::vector<uint8_t> reference(4u << 20, 0);
  std::mt19937_64 rng(9);
  {
    auto img = Qcow2Image::open(f, false);
    scatter_writes(*img, reference, rng, 30, 50000);
    img->write_zeroes(0, 1u << 20);
    std::memset(reference.data(), 0, 1u << 20);
    expect_reads(*img, reference);
  }
  expect_qemu_sees(f, reference, dir);
}

TEST(Qcow2Image, DropCachesRereadsWhatAnotherWriterWrote) {
  TempDir dir;
  const std::string f = dir.file("a.qcow2");
  qemu_img_create(f, "4M");
  auto reader = Qcow2Image::open(f, true);
  std::vector<uint8_t> buf(4096);
  reader->read(0, buf.data(), buf.size());
  const std::vector<uint8_t> data(4096, 0x5a);
  {
    auto writer = Qcow2Image::open(f, false);
    writer->write(0, data.data(), data.size());
  }
  reader->drop_caches();
  reader->read(0, buf.data(), buf.size());
  EXPECT_EQ(buf, data);
}

TEST(Qcow2Image, RefusesCorruptAndUnsupportedImages) {
  TempDir dir;
  const std::string good = dir.file("good.qcow2");
  qemu_img_create(good, "64M");
  auto variant = [&](const std::string& name) {
    const std::string f = dir.file(name);
    fs::copy_file(good, f);
    return f;
  };
  auto expect_error = [&](const std::string& f, const std::string& text, bool ro = true) {
    const std::string e = open_error(f, ro);
    EXPECT_NE(e.find(f), std::string::npos) << e;  // the message names the image
    EXPECT_NE(e.find(text), std::string::npos) << e;
  };

  const std::string truncated = variant("truncated.qcow2");
  fs::resize_file(truncated, 50);
  expect_error(truncated, "qcow2 header truncated (50 of 104 bytes)");

  const std::string l1_beyond = variant("l1-beyond.qcow2");
  patch(l1_beyond, 40, be(1ull << 40, 8));
  expect_error(l1_beyond, "L1 table at 1099511627776 lies beyond the end of the file");

  const std::string huge_l1 = variant("huge-l1.qcow2");
  patch(huge_l1, 36, be(0xffffffff, 4));
  expect_error(huge_l1, "L1 table of 4294967295 entries is too large");

  const std::string unknown = variant("unknown.qcow2");
  patch(unknown, 72, be(1u << 10, 8));
  expect_error(unknown, "unsupported qcow2 incompatible feature(s): unknown feature bit 10");

  const std::string data_file = variant("data-file.qcow2");
  patch(data_file, 72, be(1u << 2, 8));
  expect_error(data_file, "external data file (bit 2)");

  const std::string l2_beyond = variant("l2-beyond.qcow2");
  patch(l2_beyond, 0x30000, be(1ull << 30, 8));
  expect_error(l2_beyond, "L1 entry 0 points to an L2 table at 1073741824 beyond the end");

  const std::string rc_beyond = variant("rc-beyond.qcow2");
  patch(rc_beyond, 48, be(1ull << 30, 8));
  expect_error(rc_beyond, "refcount table at 1073741824 lies beyond the end of the file");

  const std::string bad_cluster = variant("bad-cluster.qcow2");
  patch(bad_cluster, 20, be(30, 4));
  expect_error(bad_cluster, "unsupported qcow2 cluster size 2^30");

  const std::string dirty = variant("dirty.qcow2");
  patch(dirty, 72, be(1, 8));
  expect_error(dirty, "run 'qemu-img check -r all", false);
  EXPECT_NO_THROW(Qcow2Image::open(dirty, true));

  const std::string raw = dir.file("raw.img");
  write_file(raw, std::vector<uint8_t>(4096, 0));
  expect_error(raw, "not a qcow2 image (bad magic)");
  expect_error(dir.file("missing.qcow2"), "Could not open");
}

// A child writes random clusters until it is killed; whatever moment that
// hits, qemu-img check may find leaks (exit 3) but never corruption.
void killed_writer_round(const std::string& image, uint64_t seed, int ms) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      auto img = Qcow2Image::open(image, false);
      std::mt19937_64 rng(seed);
      std::vector<uint8_t> data(200000);
      for (auto& b : data) b = static_cast<uint8_t>(rng());
      const uint64_t size = img->size();
      for (uint64_t i = 0;; ++i) {
        const size_t len = 1 + rng() % 100000;
        const uint64_t off = rng() % (size - len);
        switch (i % 16) {
          case 13: img->write_zeroes(off, len); break;
          case 14: img->discard(off, len); break;
          case 15: img->flush(); break;
          default: img->write(off, data.data() + rng() % 1000, len);
        }
      }
    } catch (...) {
      _exit(2);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself: " << status;
  std::string out;
  const int rc = qemu_img_check(image, &out);
  EXPECT_TRUE(rc == 0 || rc == 3) << "qemu-img check exit " << rc << "\n" << out;
}

TEST(Qcow2Image, KilledWriterLeavesNoCorruption) {
  TempDir dir;
  const std::string big = dir.file("big.qcow2");
  const std::string small = dir.file("small.qcow2");
  qemu_img_create(big, "256M");
  qemu_img_create(small, "64M", "-o cluster_size=512");
  for (int round = 0; round < 3; ++round) {
    killed_writer_round(big, 100 + round, 150 + 100 * round);
    killed_writer_round(small, 200 + round, 150 + 100 * round);
  }
  // Still usable after the kills.
  auto img = Qcow2Image::open(small, false);
  const std::vector<uint8_t> data(1000, 1);
  img->write(12345, data.data(), data.size());
}

// A block migration's destination: its image opened inactive, the source's
// chunks written through migration_write (which takes the image at the first
// one), then the hand-over's take_storage. The image was this VM's already:
// re-reading its metadata there forgot the clusters reserved for allocation,
// and qemu-img check found them leaked.
TEST(Qcow2Image, BlockMigrationDestinationLeaksNothingAtTheHandOver) {
  struct NoIrq : IrqLine {
    void set_level(bool) override {}
  };
  TempDir dir;
  const std::string path = dir.file("dst.qcow2");
  qemu_img_create(path, "16M");
  {
    GuestRam ram(0x80000000, 1 << 20);
    AddressSpace bus(ram);
    NoIrq irq;
    VirtioBlkConfig config;
    config.incoming = true;
    VirtioBlk blk(bus, ram, &irq, Qcow2Image::open(path, false, true), config);
    const std::vector<uint8_t> chunk(VirtioBlk::kChunk, 0x5a);
    blk.migration_write(3 * VirtioBlk::kChunk, chunk.data(), chunk.size(), false);
    blk.take_storage();
    blk.migration_write(5 * VirtioBlk::kChunk, chunk.data(), chunk.size(), false);
  }
  std::vector<uint8_t> want(16 << 20, 0);
  std::fill(want.begin() + 3 * VirtioBlk::kChunk, want.begin() + 4 * VirtioBlk::kChunk, 0x5a);
  std::fill(want.begin() + 5 * VirtioBlk::kChunk, want.begin() + 6 * VirtioBlk::kChunk, 0x5a);
  expect_qemu_sees(path, want, dir);
}

TEST(ImageProbe, Formats) {
  TempDir dir;
  const std::string q = dir.file("a.qcow2");
  qemu_img_create(q, "1M");
  EXPECT_EQ(probe_image_format(q), "qcow2");
  const std::string raw = dir.file("a.raw");
  write_file(raw, std::vector<uint8_t>(512, 0));
  EXPECT_EQ(probe_image_format(raw), "raw");
  const std::string tiny = dir.file("tiny");
  write_file(tiny, {'Q', 'F'});
  EXPECT_EQ(probe_image_format(tiny), "raw");
  EXPECT_THROW(probe_image_format(dir.file("missing")), BlockError);
}

}  // namespace
}  // namespace ferry
