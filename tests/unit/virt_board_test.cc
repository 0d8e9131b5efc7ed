// Where the board puts firmware, kernel, initrd and device tree, and what
// it tells the guest about them: QEMU 7.2's virt layout.
#include "board/virt_board.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "board/fdt_chosen.h"
#include "board/virt_fdt.h"
#include "test_files.h"

namespace ferry {
namespace {

using test_util::linux_image;
using test_util::pattern;
using test_util::TempFile;

constexpr uint64_t kMiB = 1ull << 20;

class NoPower : public PowerControl {
 public:
  void request_poweroff(int) override {}
  void request_reset() override {}
};

struct Board {
  explicit Board(const BoardConfig& c) : board(c, nullptr, power, registry) {}
  NoPower power;
  StateRegistry registry;
  VirtBoard board;
};

std::string chosen(const VirtBoard& b, const char* name) {
  const void* fdt = b.fdt().data();
  int node = fdt_path_offset(fdt, "/chosen");
  int len = 0;
  auto* p = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
  return p ? std::string(p, static_cast<size_t>(len)) : "<none>";
}

// The tree with /chosen/rng-seed zeroed: the board fills it afresh at each reset.
std::vector<uint8_t> without_rng_seed(std::vector<uint8_t> blob) {
  const int node = fdt_path_offset(blob.data(), "/chosen");
  int len = 0;
  if (void* seed = fdt_getprop_w(blob.data(), node, "rng-seed", &len))
    std::memset(seed, 0, static_cast<size_t>(len));
  return blob;
}

std::string cell(uint32_t v) {
  auto b = fdt_initrd_address(v);
  return std::string(b.begin(), b.end());
}

std::string board_error(const BoardConfig& c) {
  try {
    Board b(c);
  } catch (const LoadError& e) {
    return e.what();
  }
  return "";
}

class VirtBoardTest : public ::testing::Test {
 protected:
  // Firmware: 300 KiB of raw bytes at 0x80000000 (like fw_dynamic.bin).
  TempFile firmware_{pattern(300 * 1024, 9)};
  // Debian's kernel in miniature: EFI stub, 30 MiB once running.
  TempFile kernel_{linux_image(256 * 1024, 30 * kMiB)};
  TempFile initrd_{pattern(100000, 77)};

  BoardConfig config(uint64_t ram) const {
    BoardConfig c;
    c.ram_size = ram;
    c.bios = firmware_.path();
    c.kernel = kernel_.path();
    return c;
  }
};

TEST_F(VirtBoardTest, LinuxImageAfterFirmwareWithInitrdAsQemu) {
  BoardConfig c = config(512 * kMiB);
  c.initrd = initrd_.path();
  c.append = "console=ttyS0";
  Board b(c);
  EXPECT_EQ(b.board.kernel_address(), 0x80200000u);
  // QEMU: kernel + min(RAM / 2, 128 MiB); the same numbers as its dumpdtb.
  EXPECT_EQ(b.board.initrd_start(), 0x88200000u);
  EXPECT_EQ(b.board.initrd_end(), 0x88200000u + 100000);
  EXPECT_EQ(b.board.fdt_address(), 0x9fe00000u);
  EXPECT_EQ(chosen(b.board, "linux,initrd-start"), cell(0x88200000));
  EXPECT_EQ(chosen(b.board, "linux,initrd-end"), cell(0x882186a0));
  EXPECT_EQ(chosen(b.board, "bootargs"), std::string("console=ttyS0\0", 14));

  const GuestRam& ram = b.board.ram();
  const auto initrd = pattern(100000, 77);
  EXPECT_EQ(std::memcmp(ram.host_at(0x88200000), initrd.data(), initrd.size()), 0);
  const auto kernel = linux_image(256 * 1024, 30 * kMiB);
  EXPECT_EQ(std::memcmp(ram.host_at(0x80200000), kernel.data(), kernel.size()), 0);
}

TEST_F(VirtBoardTest, SmallRamPutsTheInitrdHalfway) {
  BoardConfig c = config(128 * kMiB);
  c.initrd = initrd_.path();
  Board b(c);
  EXPECT_EQ(b.board.initrd_start(), 0x84200000u);
  EXPECT_EQ(b.board.fdt_address(), 0x87e00000u);
}

TEST_F(VirtBoardTest, NoInitrdNoChosenEntries) {
  Board b(config(128 * kMiB));
  EXPECT_EQ(b.board.initrd_start(), 0u);
  EXPECT_EQ(chosen(b.board, "linux,initrd-start"), "<none>");
  EXPECT_EQ(chosen(b.board, "bootargs"), "<none>");
}

TEST_F(VirtBoardTest, ResetPutsTheInitrdBack) {
  BoardConfig c = config(128 * kMiB);
  c.initrd = initrd_.path();
  Board b(c);
  b.board.ram().fill_zero(0x84200000, 4096);
  b.board.reset();
  const auto initrd = pattern(100000, 77);
  EXPECT_EQ(std::memcmp(b.board.ram().host_at(0x84200000), initrd.data(), initrd.size()), 0);
}

TEST_F(VirtBoardTest, InitrdTooBigForRamSaysSo) {
  TempFile big(pattern(70 * kMiB, 1));
  BoardConfig c = config(128 * kMiB);
  c.initrd = big.path();
  const std::string e = board_error(c);
  EXPECT_NE(e.find("initrd '" + big.path() + "' does not fit in RAM"), std::string::npos) << e;
  EXPECT_NE(e.find("-m 128M"), std::string::npos) << e;
}

TEST_F(VirtBoardTest, InitrdOverTheDeviceTreeSaysSo) {
  // 0x84200000 + 61 MiB runs into the tree at 0x87e00000 but stays in RAM.
  TempFile big(pattern(61 * kMiB, 1));
  BoardConfig c = config(128 * kMiB);
  c.initrd = big.path();
  const std::string e = board_error(c);
  EXPECT_NE(e.find("initrd '" + big.path() + "' at 0x84200000-"), std::string::npos) << e;
  EXPECT_NE(e.find("overlaps the device tree at 0x87e00000"), std::string::npos) << e;
}

TEST_F(VirtBoardTest, KernelBssOverTheInitrdSaysSo) {
  // 64 MiB of RAM: the initrd goes 32 MiB after the kernel, inside its 40 MiB.
  TempFile kernel(linux_image(64 * 1024, 40 * kMiB));
  BoardConfig c = config(64 * kMiB);
  c.kernel = kernel.path();
  c.initrd = initrd_.path();
  const std::string e = board_error(c);
  EXPECT_NE(e.find("kernel '" + kernel.path() + "' at 0x80200000-0x82a00000 overlaps initrd"),
            std::string::npos)
      << e;
}

TEST_F(VirtBoardTest, InitrdNeedsAKernel) {
  BoardConfig c = config(128 * kMiB);
  c.kernel = "";
  c.initrd = initrd_.path();
  EXPECT_EQ(board_error(c), "-initrd only allowed with -kernel option");
}

TEST_F(VirtBoardTest, GivenDeviceTreeIsUsedWithChosenPatched) {
  VirtFdtParams p;
  p.ram_size = 256 * kMiB;  // the file says 256 MiB; -m says 512: the file wins
  p.bootargs = "from the file";
  const std::vector<uint8_t> file = build_virt_fdt(p);
  TempFile dtb(file);
  BoardConfig c = config(512 * kMiB);
  c.initrd = initrd_.path();
  c.append = "from -append";
  c.dtb = dtb.path();
  Board b(c);
  EXPECT_EQ(b.board.fdt_address(),
            virt_fdt_address(0x80000000, 512 * kMiB, virt_fdt_reserve_for_file(file.size())));
  EXPECT_EQ(chosen(b.board, "bootargs"), std::string("from -append\0", 13));
  EXPECT_EQ(chosen(b.board, "linux,initrd-start"), cell(0x88200000));
  FdtChosen expect;
  expect.bootargs = "from -append";
  expect.initrd_start = 0x88200000;
  expect.initrd_end = 0x88200000 + 100000;
  EXPECT_EQ(without_rng_seed(b.board.fdt()), patch_fdt_chosen(file, expect, "t"));
  const auto& fdt = b.board.fdt();
  EXPECT_EQ(std::memcmp(b.board.ram().host_at(b.board.fdt_address()), fdt.data(), fdt.size()), 0);
}

TEST_F(VirtBoardTest, RngSeedIsFreshAtEachReset) {
  Board b(config(128 * kMiB));
  const std::string first = chosen(b.board, "rng-seed");
  ASSERT_EQ(first.size(), kRngSeedBytes);
  EXPECT_NE(first, std::string(kRngSeedBytes, '\0'));
  b.board.reset();
  const std::string second = chosen(b.board, "rng-seed");
  EXPECT_NE(second, first);
  const auto& fdt = b.board.fdt();
  EXPECT_EQ(std::memcmp(b.board.ram().host_at(b.board.fdt_address()), fdt.data(), fdt.size()), 0);
}

TEST_F(VirtBoardTest, BadDeviceTreeFileSaysSo) {
  TempFile junk(pattern(4096, 3));
  BoardConfig c = config(128 * kMiB);
  c.dtb = junk.path();
  const std::string e = board_error(c);
  EXPECT_NE(e.find("device tree '" + junk.path() + "': not a valid device tree blob"),
            std::string::npos)
      << e;
  c.dtb = "/nonexistent/board.dtb";
  EXPECT_NE(board_error(c).find("could not load device tree '/nonexistent/board.dtb'"),
            std::string::npos);
}

TEST_F(VirtBoardTest, RawKernelWithoutFirmwareStartsAtRam) {
  TempFile raw(pattern(4096, 4));
  BoardConfig c;
  c.ram_size = 64 * kMiB;
  c.bios = "none";
  c.kernel = raw.path();
  c.initrd = initrd_.path();
  Board b(c);
  EXPECT_EQ(b.board.kernel_address(), 0x80000000u);
  EXPECT_EQ(b.board.initrd_start(), 0x82000000u);
}

}  // namespace
}  // namespace ferry
