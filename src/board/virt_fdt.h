// build_virt_fdt: the flattened device tree that describes ferry's board to the
// guest, laid out as QEMU 7.2's `virt` machine does it (same node names,
// compatible strings, reg/interrupt cells and phandles), restricted to the
// devices ferry emulates: cpus, memory, chosen, clint, plic, ns16550a uart,
// sifive,test (+ /poweroff and /reboot syscon nodes), goldfish rtc and the
// virtio-mmio slots. QEMU-only nodes (pci, flash, fw-cfg, platform-bus, pmu)
// are left out. /chosen/rng-seed is there, zero: the board fills it with
// random bytes at every reset (randomize_rng_seed), so this blob stays
// deterministic.
//
// virt_fdt_address: where QEMU places the blob in RAM (and ferry passes it in
// a1): below the buffer QEMU holds the tree in (1 MiB for the tree it builds)
// under min(RAM end, 0xc0000000), aligned down to 2 MiB.
//
// Pure functions; thread-safe. build_virt_fdt throws std::runtime_error if
// libfdt rejects the tree (only with absurd parameters).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ferry {

constexpr size_t kRngSeedBytes = 32;  // as QEMU's

struct VirtFdtParams {
  uint64_t ram_base = 0x80000000;
  uint64_t ram_size = 128ull << 20;
  std::string bootargs;  // "" = no /chosen/bootargs
  // The ISA: single-letter extensions after rv64, then the multi-letter
  // ones, in the order riscv,isa spells them. riscv,isa-base and
  // riscv,isa-extensions list the same.
  std::string isa_letters = "imafdc";
  std::vector<std::string> isa_multi = {"zicbom", "zicboz", "zicsr", "zifencei",
                                        "zba",    "zbb",    "zbs",   "sstc"};
  uint32_t cbo_block_size = 64;  // riscv,cbom-block-size and riscv,cboz-block-size
  std::string mmu_type = "riscv,sv39";
  unsigned harts = 1;
  uint32_t timebase_frequency = 10'000'000;
  // Both non-zero: /chosen/linux,initrd-start and -end (see fdt_chosen.h).
  uint64_t initrd_start = 0;
  uint64_t initrd_end = 0;

  // The board map (QEMU virt's by default).
  uint64_t test_base = 0x100000;
  uint64_t rtc_base = 0x101000;
  uint32_t rtc_irq = 11;
  uint64_t clint_base = 0x2000000;
  uint64_t clint_size = 0x10000;
  uint64_t plic_base = 0xc000000;
  uint64_t plic_size = 0x600000;
  uint32_t plic_ndev = 96;  // QEMU 7.2's riscv,ndev
  uint64_t uart_base = 0x10000000;
  uint32_t uart_irq = 10;
  uint32_t uart_clock = 3686400;
  unsigned virtio_count = 8;
  uint64_t virtio_base = 0x10001000;
  uint64_t virtio_stride = 0x1000;
  uint32_t virtio_first_irq = 1;  // slot n uses irq virtio_first_irq + n
};

// Phandles, as QEMU numbers them: the harts from the last to the first (each
// its cpu node, then its interrupt controller), then the PLIC, then the test
// device. With one hart: cpu 1, its controller 2, PLIC 3, test 4.
constexpr uint32_t fdt_phandle_cpu(unsigned hart, unsigned harts) { return 2 * (harts - 1 - hart) + 1; }
constexpr uint32_t fdt_phandle_cpu_intc(unsigned hart, unsigned harts) { return 2 * (harts - 1 - hart) + 2; }
constexpr uint32_t fdt_phandle_plic(unsigned harts) { return 2 * harts + 1; }
constexpr uint32_t fdt_phandle_test(unsigned harts) { return 2 * harts + 2; }
constexpr uint32_t kFdtPhandleCpu = 1;
constexpr uint32_t kFdtPhandleCpuIntc = 2;
constexpr uint32_t kFdtPhandlePlic = 3;
constexpr uint32_t kFdtPhandleTest = 4;

// "rv64" + letters + "_" + each multi-letter extension: riscv,isa.
std::string virt_isa_string(const VirtFdtParams& params);

// The packed device tree blob (totalsize = blob size).
std::vector<uint8_t> build_virt_fdt(const VirtFdtParams& params);

// The buffer QEMU builds its tree in (FDT_MAX_SIZE).
constexpr uint64_t kFdtBuildBufferSize = 1ull << 20;

// Guest-physical address for the blob: align_down(top - reserved, 2 MiB)
// with top = min(RAM end, 3 GiB). With the default 1 MiB: 128 MiB of RAM at
// 0x80000000 → 0x87e00000, 256 MiB → 0x8fe00000, 1 GiB or more → 0xbfe00000.
// 0 when `reserved` doesn't fit below top.
uint64_t virt_fdt_address(uint64_t ram_base, uint64_t ram_size,
                          uint64_t reserved = kFdtBuildBufferSize);

// The `reserved` QEMU uses for a tree loaded with -dtb: load_device_tree
// grows the file's buffer to (size + 10000) * 2 bytes.
uint64_t virt_fdt_reserve_for_file(uint64_t file_size);

}  // namespace ferry
