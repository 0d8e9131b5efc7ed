#include "board/fdt_chosen.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "board/virt_fdt.h"

namespace ferry {
namespace {

std::string prop(const std::vector<uint8_t>& blob, const char* path, const char* name) {
  int node = fdt_path_offset(blob.data(), path);
  if (node < 0) return "<no node>";
  int len = 0;
  auto* p = static_cast<const char*>(fdt_getprop(blob.data(), node, name, &len));
  return p ? std::string(p, static_cast<size_t>(len)) : "<none>";
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string error_of(const std::vector<uint8_t>& blob, const FdtChosen& chosen = {}) {
  try {
    patch_fdt_chosen(blob, chosen, "device tree 'x.dtb'");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(FdtChosenTest, InitrdAddressIsOneCellBelow4GiB) {
  EXPECT_EQ(fdt_initrd_address(0x88200000), (std::vector<uint8_t>{0x88, 0x20, 0, 0}));
  EXPECT_EQ(fdt_initrd_address(0x1'0000'0010),
            (std::vector<uint8_t>{0, 0, 0, 1, 0, 0, 0, 0x10}));
}

TEST(FdtChosenTest, PatchesBootargsAndInitrdAndNothingElse) {
  VirtFdtParams p;
  p.ram_size = 256ull << 20;
  p.bootargs = "old args";
  const std::vector<uint8_t> given = build_virt_fdt(p);
  FdtChosen chosen;
  chosen.bootargs = "console=ttyS0 rdinit=/init";
  chosen.initrd_start = 0x88200000;
  chosen.initrd_end = 0x882186a0;
  const std::vector<uint8_t> out = patch_fdt_chosen(given, chosen, "t");
  ASSERT_EQ(fdt_check_header(out.data()), 0);
  EXPECT_EQ(fdt_totalsize(out.data()), out.size());  // packed
  EXPECT_EQ(prop(out, "/chosen", "bootargs"), std::string("console=ttyS0 rdinit=/init\0", 27));
  EXPECT_EQ(prop(out, "/chosen", "linux,initrd-start"), be32(0x88200000));
  EXPECT_EQ(prop(out, "/chosen", "linux,initrd-end"), be32(0x882186a0));
  EXPECT_EQ(prop(out, "/chosen", "stdout-path"), prop(given, "/chosen", "stdout-path"));
  // -m is not patched into a given tree (QEMU leaves /memory alone too).
  EXPECT_EQ(prop(out, "/memory@80000000", "reg"), prop(given, "/memory@80000000", "reg"));
}

TEST(FdtChosenTest, EmptyBootargsAndNoInitrdLeaveChosenAlone) {
  VirtFdtParams p;
  p.bootargs = "kept";
  const std::vector<uint8_t> given = build_virt_fdt(p);
  const std::vector<uint8_t> out = patch_fdt_chosen(given, FdtChosen{}, "t");
  EXPECT_EQ(prop(out, "/chosen", "bootargs"), std::string("kept\0", 5));
  EXPECT_EQ(prop(out, "/chosen", "linux,initrd-start"), "<none>");
}

TEST(FdtChosenTest, ATreeWithoutChosenGetsOne) {
  std::vector<uint8_t> buf(4096);
  ASSERT_EQ(fdt_create_empty_tree(buf.data(), static_cast<int>(buf.size())), 0);
  FdtChosen chosen;
  chosen.bootargs = "quiet";
  const std::vector<uint8_t> out = patch_fdt_chosen(buf, chosen, "t");
  EXPECT_EQ(prop(out, "/chosen", "bootargs"), std::string("quiet\0", 6));
}

TEST(FdtChosenTest, BadBlobsAreRefusedByName) {
  EXPECT_NE(error_of({1, 2, 3}).find("device tree 'x.dtb': too short"), std::string::npos);
  std::vector<uint8_t> junk(4096, 0x5a);
  const std::string e = error_of(junk);
  EXPECT_NE(e.find("device tree 'x.dtb': not a valid device tree blob"), std::string::npos) << e;
  EXPECT_NE(e.find("FDT_ERR_BADMAGIC"), std::string::npos) << e;

  std::vector<uint8_t> whole = build_virt_fdt(VirtFdtParams{});
  whole.resize(whole.size() / 2);
  EXPECT_NE(error_of(whole).find("truncated"), std::string::npos) << error_of(whole);
}

}  // namespace
}  // namespace ferry
