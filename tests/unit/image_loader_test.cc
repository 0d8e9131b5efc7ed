#include "loader/image_loader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_files.h"

namespace ferry {
namespace {

using test_util::linux_image;
using test_util::pattern;
using test_util::TempFile;

constexpr uint64_t kBase = 0x80000000;
constexpr uint64_t kMiB = 1ull << 20;

std::string load_error(const std::string& path, const GuestRam& ram, uint64_t addr) {
  try {
    load_image(path, ram, addr);
  } catch (const LoadError& e) {
    return e.what();
  }
  return "";
}

TEST(ImageLoaderTest, ParsesTheRiscvImageHeader) {
  auto h = parse_linux_image_header(linux_image(4096, 0x1e6c000));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->text_offset, 0x200000u);
  EXPECT_EQ(h->image_size, 0x1e6c000u);
  EXPECT_EQ(h->flags, 0u);
  EXPECT_EQ(h->version, 2u);

  std::vector<uint8_t> not_image(4096, 0);
  EXPECT_FALSE(parse_linux_image_header(not_image));
  EXPECT_FALSE(parse_linux_image_header(std::vector<uint8_t>(63, 0)));
}

TEST(ImageLoaderTest, LinuxImageWithEfiStubLoadsAtTheLoadAddress) {
  const auto bytes = linux_image(64 * 1024, 3 * kMiB);
  TempFile f(bytes);
  GuestRam ram(kBase, 16 * kMiB);
  LoadedImage image = load_image(f.path(), ram, kBase + 2 * kMiB);
  EXPECT_EQ(image.format, ImageFormat::kLinuxImage);
  EXPECT_EQ(image.entry, kBase + 2 * kMiB);
  EXPECT_EQ(image.lowest, kBase + 2 * kMiB);
  // The header's image_size (text + data + bss) is what the kernel occupies.
  EXPECT_EQ(image.highest, kBase + 5 * kMiB);
  image.apply(ram);
  EXPECT_EQ(std::memcmp(ram.host_at(kBase + 2 * kMiB), bytes.data(), bytes.size()), 0);
  EXPECT_TRUE(ram.ever_written((2 * kMiB) >> kPageShift));
}

TEST(ImageLoaderTest, LinuxImageWithoutImageSizeUsesTheFileSize) {
  TempFile f(linux_image(8192, 0, /*efi=*/false));
  GuestRam ram(kBase, 16 * kMiB);
  LoadedImage image = load_image(f.path(), ram, kBase);
  EXPECT_EQ(image.format, ImageFormat::kLinuxImage);
  EXPECT_EQ(image.highest, kBase + 8192);
}

TEST(ImageLoaderTest, LinuxImageThatDoesNotFitNamesTheProblem) {
  // The file fits, its bss doesn't.
  TempFile f(linux_image(64 * 1024, 20 * kMiB));
  GuestRam ram(kBase, 16 * kMiB);
  const std::string e = load_error(f.path(), ram, kBase + 2 * kMiB);
  EXPECT_NE(e.find("Linux Image '" + f.path() + "'"), std::string::npos) << e;
  EXPECT_NE(e.find("outside RAM 0x80000000-0x81000000"), std::string::npos) << e;
  EXPECT_NE(e.find("-m 16M"), std::string::npos) << e;
}

TEST(ImageLoaderTest, BigEndianLinuxImageIsRefused) {
  TempFile f(linux_image(4096, 4096, true, /*flags=*/1));
  GuestRam ram(kBase, 16 * kMiB);
  EXPECT_NE(load_error(f.path(), ram, kBase).find("big-endian"), std::string::npos);
}

TEST(ImageLoaderTest, ForeignFormatsAreRefusedByName) {
  GuestRam ram(kBase, 16 * kMiB);
  struct Case {
    std::vector<uint8_t> head;
    size_t offset;
    const char* what;
  };
  const Case cases[] = {
      {{0x1f, 0x8b, 0x08, 0x00}, 0, "gzip-compressed"},
      {{0xfd, '7', 'z', 'X', 'Z', 0}, 0, "xz-compressed"},
      {{0x28, 0xb5, 0x2f, 0xfd}, 0, "zstd-compressed"},
      {{0x27, 0x05, 0x19, 0x56}, 0, "uImage"},
      {{'A', 'R', 'M', 0x64}, 0x38, "arm64 Linux Image"},
      {{'H', 'd', 'r', 'S'}, 0x202, "x86 Linux bzImage"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bytes(4096, 0);
    std::copy(c.head.begin(), c.head.end(), bytes.begin() + static_cast<long>(c.offset));
    TempFile f(bytes);
    const std::string e = load_error(f.path(), ram, kBase);
    EXPECT_NE(e.find(c.what), std::string::npos) << e;
    EXPECT_NE(e.find(f.path()), std::string::npos) << e;
  }
}

TEST(ImageLoaderTest, RawBinaryStillLoads) {
  const auto bytes = pattern(10000, 1);
  TempFile f(bytes);
  GuestRam ram(kBase, 16 * kMiB);
  LoadedImage image = load_image(f.path(), ram, kBase);
  EXPECT_EQ(image.format, ImageFormat::kRaw);
  EXPECT_EQ(image.entry, kBase);
  EXPECT_EQ(image.highest, kBase + 10000);
}

TEST(ImageLoaderTest, MissingAndEmptyFiles) {
  GuestRam ram(kBase, 16 * kMiB);
  EXPECT_NE(load_error("/nonexistent/kernel", ram, kBase).find("No such file"),
            std::string::npos);
  TempFile empty(std::vector<uint8_t>{});
  EXPECT_NE(load_error(empty.path(), ram, kBase).find("file is empty"), std::string::npos);
}

TEST(ImageLoaderTest, InitrdIsCopiedAsItIs) {
  // Compressed data is fine in an initrd: the kernel unpacks it.
  auto bytes = pattern(100000, 5);
  bytes[0] = 0x1f;
  bytes[1] = 0x8b;
  TempFile f(bytes);
  GuestRam ram(kBase, 16 * kMiB);
  LoadedImage image = load_initrd(f.path(), ram, kBase + 8 * kMiB);
  EXPECT_EQ(image.lowest, kBase + 8 * kMiB);
  EXPECT_EQ(image.highest, kBase + 8 * kMiB + 100000);
  image.apply(ram);
  EXPECT_EQ(std::memcmp(ram.host_at(kBase + 8 * kMiB), bytes.data(), bytes.size()), 0);
}

TEST(ImageLoaderTest, InitrdThatDoesNotFitSaysSo) {
  TempFile f(pattern(9 * kMiB, 3));
  GuestRam ram(kBase, 16 * kMiB);
  try {
    load_initrd(f.path(), ram, kBase + 8 * kMiB);
    FAIL() << "no error";
  } catch (const LoadError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("initrd '" + f.path() + "' does not fit in RAM"), std::string::npos) << m;
    EXPECT_NE(m.find("0x80800000"), std::string::npos) << m;
    EXPECT_NE(m.find("end of RAM at 0x81000000"), std::string::npos) << m;
    EXPECT_NE(m.find("-m 16M"), std::string::npos) << m;
  }
  TempFile empty(std::vector<uint8_t>{});
  EXPECT_THROW(load_initrd(empty.path(), ram, kBase), LoadError);
  EXPECT_THROW(load_initrd("/nonexistent/initrd", ram, kBase), LoadError);
}

TEST(ImageLoaderTest, InitrdAddressAsQemu) {
  // Less than 256 MiB: halfway into RAM; more: 128 MiB after the kernel.
  EXPECT_EQ(initrd_address(0x80200000, 128 * kMiB), 0x84200000u);
  EXPECT_EQ(initrd_address(0x80200000, 256 * kMiB), 0x88200000u);
  EXPECT_EQ(initrd_address(0x80200000, 512 * kMiB), 0x88200000u);
  EXPECT_EQ(initrd_address(0x80000000, 16 * kMiB), 0x80800000u);
}

}  // namespace
}  // namespace ferry
