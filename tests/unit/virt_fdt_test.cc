#include "board/virt_fdt.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace ferry {
namespace {

// Reads a built blob through libfdt.
class Tree {
 public:
  explicit Tree(std::vector<uint8_t> blob) : blob_(std::move(blob)) {}
  const void* fdt() const { return blob_.data(); }
  size_t size() const { return blob_.size(); }

  int node(const std::string& path) const {
    return fdt_path_offset(fdt(), path.c_str());
  }
  bool has(const std::string& path, const char* prop) const {
    int off = node(path);
    return off >= 0 && fdt_getprop(fdt(), off, prop, nullptr) != nullptr;
  }
  // The raw bytes of a property ("" when missing).
  std::string raw(const std::string& path, const char* prop) const {
    int off = node(path);
    if (off < 0) return "";
    int len = 0;
    auto* p = static_cast<const char*>(fdt_getprop(fdt(), off, prop, &len));
    return p ? std::string(p, static_cast<size_t>(len)) : "";
  }
  std::string str(const std::string& path, const char* prop) const {
    std::string r = raw(path, prop);
    if (!r.empty() && r.back() == '\0') r.pop_back();
    return r;
  }
  std::vector<uint32_t> cells(const std::string& path, const char* prop) const {
    std::string r = raw(path, prop);
    std::vector<uint32_t> out;
    for (size_t i = 0; i + 4 <= r.size(); i += 4)
      out.push_back(fdt32_to_cpu(*reinterpret_cast<const fdt32_t*>(r.data() + i)));
    return out;
  }
  uint32_t cell(const std::string& path, const char* prop) const {
    auto c = cells(path, prop);
    return c.size() == 1 ? c[0] : 0xdeadbeef;
  }

 private:
  std::vector<uint8_t> blob_;
};

using Cells = std::vector<uint32_t>;

Tree default_tree() { return Tree(build_virt_fdt(VirtFdtParams{})); }

// With four harts, the numbers QEMU 7.2's `-M virt,dumpdtb=… -smp 4` gives.
TEST(VirtFdtTest, FourHartsAreNumberedAsQemuDoes) {
  VirtFdtParams p;
  p.harts = 4;
  Tree t(build_virt_fdt(p));
  ASSERT_EQ(fdt_check_header(t.fdt()), 0);
  EXPECT_EQ(t.cell("/cpus/cpu@0", "phandle"), 7u);
  EXPECT_EQ(t.cell("/cpus/cpu@0/interrupt-controller", "phandle"), 8u);
  EXPECT_EQ(t.cell("/cpus/cpu@3", "phandle"), 1u);
  EXPECT_EQ(t.cell("/cpus/cpu@3", "reg"), 3u);
  EXPECT_EQ(t.cell("/cpus/cpu-map/cluster0/core2", "cpu"), 3u);
  EXPECT_EQ(t.cell("/soc/plic@c000000", "phandle"), 9u);
  EXPECT_EQ(t.cell("/soc/test@100000", "phandle"), 10u);
  EXPECT_EQ(t.cell("/poweroff", "regmap"), 10u);
  EXPECT_EQ(t.cell("/soc/serial@10000000", "interrupt-parent"), 9u);
  EXPECT_EQ(t.cells("/soc/plic@c000000", "interrupts-extended"),
            (Cells{8, 11, 8, 9, 6, 11, 6, 9, 4, 11, 4, 9, 2, 11, 2, 9}));
  EXPECT_EQ(t.cells("/soc/clint@2000000", "interrupts-extended"),
            (Cells{8, 3, 8, 7, 6, 3, 6, 7, 4, 3, 4, 7, 2, 3, 2, 7}));
  // The blob lists the cpus from the first, as QEMU's does.
  EXPECT_LT(t.node("/cpus/cpu@0"), t.node("/cpus/cpu@3"));
}

TEST(VirtFdtTest, IsAValidPackedBlob) {
  Tree t = default_tree();
  ASSERT_EQ(fdt_check_header(t.fdt()), 0);
  EXPECT_EQ(fdt_totalsize(t.fdt()), t.size());
  EXPECT_LT(t.size(), 64u * 1024);
  EXPECT_EQ(fdt_num_mem_rsv(t.fdt()), 0);
}

TEST(VirtFdtTest, Root) {
  Tree t = default_tree();
  EXPECT_EQ(t.cell("/", "#address-cells"), 2u);
  EXPECT_EQ(t.cell("/", "#size-cells"), 2u);
  EXPECT_EQ(t.str("/", "compatible"), "riscv-virtio");
  EXPECT_EQ(t.str("/", "model"), "riscv-virtio,qemu");
}

TEST(VirtFdtTest, ChosenWithoutOptions) {
  Tree t = default_tree();
  EXPECT_EQ(t.str("/chosen", "stdout-path"), "/soc/serial@10000000");
  EXPECT_GE(t.node(t.str("/chosen", "stdout-path")), 0);
  EXPECT_FALSE(t.has("/chosen", "bootargs"));
  EXPECT_FALSE(t.has("/chosen", "linux,initrd-start"));
  EXPECT_FALSE(t.has("/chosen", "linux,initrd-end"));
}

TEST(VirtFdtTest, ChosenWithBootargsAndInitrd) {
  VirtFdtParams p;
  p.bootargs = "console=ttyS0 earlycon";
  p.initrd_start = 0x88000000;
  p.initrd_end = 0x88123456;
  Tree t(build_virt_fdt(p));
  EXPECT_EQ(t.str("/chosen", "bootargs"), "console=ttyS0 earlycon");
  // One cell each, as QEMU 7.2 writes them.
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-start"), (Cells{0x88000000}));
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-end"), (Cells{0x88123456}));
}

TEST(VirtFdtTest, InitrdAbove4GiBTakesTwoCells) {
  VirtFdtParams p;
  p.ram_size = 8ull << 30;
  p.initrd_start = 0x100000000;
  p.initrd_end = 0x100001000;
  Tree t(build_virt_fdt(p));
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-start"), (Cells{1, 0}));
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-end"), (Cells{1, 0x1000}));
}

TEST(VirtFdtTest, CpusAndInterruptController) {
  Tree t = default_tree();
  EXPECT_EQ(t.cell("/cpus", "#address-cells"), 1u);
  EXPECT_EQ(t.cell("/cpus", "#size-cells"), 0u);
  EXPECT_EQ(t.cell("/cpus", "timebase-frequency"), 10'000'000u);
  EXPECT_EQ(t.str("/cpus/cpu@0", "device_type"), "cpu");
  EXPECT_EQ(t.cell("/cpus/cpu@0", "reg"), 0u);
  EXPECT_EQ(t.str("/cpus/cpu@0", "status"), "okay");
  EXPECT_EQ(t.str("/cpus/cpu@0", "compatible"), "riscv");
  EXPECT_EQ(t.str("/cpus/cpu@0", "riscv,isa"),
            "rv64imafdc_zicbom_zicboz_zicsr_zifencei_zba_zbb_zbs_sstc");
  EXPECT_EQ(t.str("/cpus/cpu@0", "riscv,isa-base"), "rv64i");
  EXPECT_EQ(t.raw("/cpus/cpu@0", "riscv,isa-extensions"),
            std::string("i\0m\0a\0f\0d\0c\0zicbom\0zicboz\0zicsr\0zifencei\0zba\0zbb\0zbs\0sstc\0",
                        58));
  EXPECT_EQ(t.cell("/cpus/cpu@0", "riscv,cbom-block-size"), 64u);
  EXPECT_EQ(t.cell("/cpus/cpu@0", "riscv,cboz-block-size"), 64u);
  EXPECT_EQ(t.str("/cpus/cpu@0", "mmu-type"), "riscv,sv39");
  EXPECT_EQ(t.cell("/cpus/cpu@0", "phandle"), 1u);
  const std::string intc = "/cpus/cpu@0/interrupt-controller";
  EXPECT_EQ(t.str(intc, "compatible"), "riscv,cpu-intc");
  EXPECT_EQ(t.cell(intc, "#interrupt-cells"), 1u);
  EXPECT_TRUE(t.has(intc, "interrupt-controller"));
  EXPECT_EQ(t.raw(intc, "interrupt-controller").size(), 0u);
  EXPECT_EQ(t.cell(intc, "phandle"), 2u);
  EXPECT_EQ(fdt_node_offset_by_phandle(t.fdt(), 2), t.node(intc));
  EXPECT_EQ(t.cell("/cpus/cpu-map/cluster0/core0", "cpu"), 1u);
}

TEST(VirtFdtTest, IsaAndMmuAreParameters) {
  VirtFdtParams p;
  p.isa_letters = "imafdc";
  p.isa_multi = {};
  p.mmu_type = "riscv,sv48";
  p.timebase_frequency = 1'000'000;
  Tree t(build_virt_fdt(p));
  EXPECT_EQ(t.str("/cpus/cpu@0", "riscv,isa"), "rv64imafdc");
  EXPECT_EQ(t.str("/cpus/cpu@0", "mmu-type"), "riscv,sv48");
  EXPECT_EQ(t.cell("/cpus", "timebase-frequency"), 1'000'000u);
}

TEST(VirtFdtTest, Memory) {
  VirtFdtParams p;
  p.ram_size = 6ull << 30;
  Tree t(build_virt_fdt(p));
  EXPECT_EQ(t.str("/memory@80000000", "device_type"), "memory");
  EXPECT_EQ(t.cells("/memory@80000000", "reg"), (Cells{0, 0x80000000, 1, 0x80000000}));
}

TEST(VirtFdtTest, Soc) {
  Tree t = default_tree();
  EXPECT_EQ(t.cell("/soc", "#address-cells"), 2u);
  EXPECT_EQ(t.cell("/soc", "#size-cells"), 2u);
  EXPECT_EQ(t.str("/soc", "compatible"), "simple-bus");
  EXPECT_TRUE(t.has("/soc", "ranges"));
}

TEST(VirtFdtTest, Clint) {
  Tree t = default_tree();
  const std::string n = "/soc/clint@2000000";
  EXPECT_EQ(t.raw(n, "compatible"), std::string("sifive,clint0\0riscv,clint0\0", 27));
  EXPECT_EQ(t.cells(n, "reg"), (Cells{0, 0x2000000, 0, 0x10000}));
  EXPECT_EQ(t.cells(n, "interrupts-extended"), (Cells{2, 3, 2, 7}));
}

TEST(VirtFdtTest, Plic) {
  Tree t = default_tree();
  const std::string n = "/soc/plic@c000000";
  EXPECT_EQ(t.raw(n, "compatible"),
            std::string("sifive,plic-1.0.0\0riscv,plic0\0", 30));
  EXPECT_EQ(t.cells(n, "reg"), (Cells{0, 0xc000000, 0, 0x600000}));
  EXPECT_EQ(t.cells(n, "interrupts-extended"), (Cells{2, 11, 2, 9}));
  EXPECT_EQ(t.cell(n, "riscv,ndev"), 96u);
  EXPECT_EQ(t.cell(n, "#interrupt-cells"), 1u);
  EXPECT_EQ(t.cell(n, "#address-cells"), 0u);
  EXPECT_TRUE(t.has(n, "interrupt-controller"));
  EXPECT_EQ(t.cell(n, "phandle"), 3u);
  EXPECT_EQ(fdt_node_offset_by_phandle(t.fdt(), 3), t.node(n));
}

TEST(VirtFdtTest, Serial) {
  Tree t = default_tree();
  const std::string n = "/soc/serial@10000000";
  EXPECT_EQ(t.str(n, "compatible"), "ns16550a");
  EXPECT_EQ(t.cells(n, "reg"), (Cells{0, 0x10000000, 0, 0x100}));
  EXPECT_EQ(t.cell(n, "clock-frequency"), 3686400u);
  EXPECT_EQ(t.cell(n, "interrupts"), 10u);
  EXPECT_EQ(t.cell(n, "interrupt-parent"), 3u);
}

TEST(VirtFdtTest, TestDeviceWithPoweroffAndReboot) {
  Tree t = default_tree();
  const std::string n = "/soc/test@100000";
  EXPECT_EQ(t.raw(n, "compatible"),
            std::string("sifive,test1\0sifive,test0\0syscon\0", 33));
  EXPECT_EQ(t.cells(n, "reg"), (Cells{0, 0x100000, 0, 0x1000}));
  EXPECT_EQ(t.cell(n, "phandle"), 4u);

  EXPECT_EQ(t.str("/poweroff", "compatible"), "syscon-poweroff");
  EXPECT_EQ(t.cell("/poweroff", "regmap"), 4u);
  EXPECT_EQ(t.cell("/poweroff", "offset"), 0u);
  EXPECT_EQ(t.cell("/poweroff", "value"), 0x5555u);
  EXPECT_EQ(t.str("/reboot", "compatible"), "syscon-reboot");
  EXPECT_EQ(t.cell("/reboot", "regmap"), 4u);
  EXPECT_EQ(t.cell("/reboot", "offset"), 0u);
  EXPECT_EQ(t.cell("/reboot", "value"), 0x7777u);
  EXPECT_EQ(fdt_node_offset_by_phandle(t.fdt(), 4), t.node(n));
}

TEST(VirtFdtTest, Rtc) {
  Tree t = default_tree();
  const std::string n = "/soc/rtc@101000";
  EXPECT_EQ(t.str(n, "compatible"), "google,goldfish-rtc");
  EXPECT_EQ(t.cells(n, "reg"), (Cells{0, 0x101000, 0, 0x1000}));
  EXPECT_EQ(t.cell(n, "interrupts"), 11u);
  EXPECT_EQ(t.cell(n, "interrupt-parent"), 3u);
}

TEST(VirtFdtTest, VirtioSlots) {
  Tree t = default_tree();
  for (unsigned i = 0; i < 8; ++i) {
    uint32_t base = 0x10001000 + i * 0x1000;
    char name[64];
    snprintf(name, sizeof name, "/soc/virtio_mmio@%x", base);
    SCOPED_TRACE(name);
    EXPECT_EQ(t.str(name, "compatible"), "virtio,mmio");
    EXPECT_EQ(t.cells(name, "reg"), (Cells{0, base, 0, 0x1000}));
    EXPECT_EQ(t.cell(name, "interrupts"), 1 + i);
    EXPECT_EQ(t.cell(name, "interrupt-parent"), 3u);
  }
  EXPECT_LT(t.node("/soc/virtio_mmio@10009000"), 0);

  VirtFdtParams p;
  p.virtio_count = 2;
  Tree two(build_virt_fdt(p));
  EXPECT_GE(two.node("/soc/virtio_mmio@10002000"), 0);
  EXPECT_LT(two.node("/soc/virtio_mmio@10003000"), 0);
}

TEST(VirtFdtTest, OnlyEmulatedDevicesAreDescribed) {
  Tree t = default_tree();
  int soc = t.node("/soc");
  int count = 0;
  int child;
  fdt_for_each_subnode(child, t.fdt(), soc) ++count;
  EXPECT_EQ(count, 3 + 8 + 2);  // rtc, serial, test, virtio ×8, plic, clint
  EXPECT_LT(t.node("/soc/pci@30000000"), 0);
  EXPECT_LT(t.node("/fw-cfg@10100000"), 0);
  EXPECT_LT(t.node("/flash@20000000"), 0);
}

TEST(VirtFdtTest, Deterministic) {
  EXPECT_EQ(build_virt_fdt(VirtFdtParams{}), build_virt_fdt(VirtFdtParams{}));
}

TEST(VirtFdtTest, LongBootargsFit) {
  VirtFdtParams p;
  p.bootargs.assign(100'000, 'a');
  Tree t(build_virt_fdt(p));
  EXPECT_EQ(t.str("/chosen", "bootargs").size(), 100'000u);
}

TEST(VirtFdtTest, AddressMatchesQemu) {
  EXPECT_EQ(virt_fdt_address(0x80000000, 128ull << 20), 0x87e00000u);
  EXPECT_EQ(virt_fdt_address(0x80000000, 256ull << 20), 0x8fe00000u);
  EXPECT_EQ(virt_fdt_address(0x80000000, 1ull << 30), 0xbfe00000u);
  EXPECT_EQ(virt_fdt_address(0x80000000, 2ull << 30), 0xbfe00000u);
  EXPECT_EQ(virt_fdt_address(0x80000000, 16ull << 30), 0xbfe00000u);
  EXPECT_EQ(virt_fdt_address(0x80000000, 100ull << 20), 0x86200000u);
}

TEST(VirtFdtTest, AddressOfAGivenTreeDependsOnItsFileSizeAsInQemu) {
  // QEMU grows a -dtb file's buffer to (size + 10000) * 2 and places that.
  EXPECT_EQ(virt_fdt_reserve_for_file(4096), 28192u);
  EXPECT_EQ(virt_fdt_address(0x80000000, 512ull << 20, virt_fdt_reserve_for_file(4096)),
            0x9fe00000u);
  // QEMU's own dump (1 MiB file) given back with -dtb at 512 MiB: 0x9fc00000.
  EXPECT_EQ(virt_fdt_address(0x80000000, 512ull << 20, virt_fdt_reserve_for_file(1 << 20)),
            0x9fc00000u);
  EXPECT_EQ(virt_fdt_address(0x80000000, 1ull << 20, 4ull << 20), 0x7fc00000u);  // below RAM
}

}  // namespace
}  // namespace ferry
