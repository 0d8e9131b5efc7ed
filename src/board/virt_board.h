// VirtBoard: the machine laid out like QEMU's `virt` (see docs/board.md).
//
// Owns guest RAM, the bus, the hart and every device, wires their interrupt
// lines, builds the device tree and the reset ROM, and loads firmware and
// kernel images. It knows nothing of threads: the Vm runs it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "board/boot_rom.h"
#include "chardev/serial_backend.h"
#include "cpu/hart.h"
#include "devices/clint.h"
#include "devices/goldfish_rtc.h"
#include "devices/guest_clock.h"
#include "devices/plic.h"
#include "devices/power_control.h"
#include "devices/sifive_test.h"
#include "devices/uart16550.h"
#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio_mmio_empty.h"
#include "block/drive_config.h"
#include "net/netdev_config.h"
#include "loader/image_loader.h"
#include "memory/address_space.h"
#include "memory/guest_ram.h"
#include "migration/state_registry.h"

namespace ferry {

constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kTestBase = 0x100000;
constexpr uint64_t kRtcBase = 0x101000;
constexpr uint64_t kClintBase = 0x2000000;
constexpr uint64_t kPlicBase = 0xc000000;
constexpr uint64_t kPlicSize = 0x600000;
constexpr uint64_t kUartBase = 0x10000000;
constexpr uint64_t kVirtioBase = 0x10001000;
constexpr unsigned kVirtioSlots = 8;
constexpr unsigned kVirtioIrq = 1;  // slot n raises PLIC source kVirtioIrq + n
constexpr unsigned kUartIrq = 10;
constexpr unsigned kRtcIrq = 11;
// Where a kernel goes when firmware occupies the start of RAM.
constexpr uint64_t kKernelAlign = 2ull << 20;
// Debian's OpenSBI, used when -bios is not given (as QEMU uses its own copy).
constexpr const char* kDefaultBios =
    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";

struct BoardConfig {
  uint64_t ram_size = 128ull << 20;
  unsigned harts = 1;  // 1 .. Plic::kMaxHarts
  std::string bios;    // "" = default firmware, "none", or a path
  std::string kernel;  // "" = none
  std::string append;  // bootargs
  std::string initrd;  // "" = none; needs a kernel
  std::string dtb;     // "" = the generated device tree, or a blob to use instead
  // virtio-blk and virtio-net devices: by their `order`, from the highest slot down.
  std::vector<DriveConfig> disks;
  std::vector<NicConfig> nics;
  std::vector<NetdevConfig> netdevs;  // the cards' back ends, by id
  bool incoming = false;  // a migration destination: disks unlocked until the hand-over
};

class VirtBoard {
 public:
  // Throws LoadError (bad images) or std::runtime_error (RAM). Registers
  // every device whose state migrates with `registry`.
  VirtBoard(const BoardConfig& config, SerialBackend* serial, PowerControl& power,
            StateRegistry& registry);

  GuestRam& ram() { return ram_; }
  std::vector<VirtioBlk*> disks() {
    std::vector<VirtioBlk*> out;
    for (auto& d : disks_) out.push_back(d.get());
    return out;
  }
  std::vector<VirtioNet*> nics() {
    std::vector<VirtioNet*> out;
    for (auto& n : nics_) out.push_back(n.get());
    return out;
  }
  AddressSpace& bus() { return bus_; }
  Hart& hart(unsigned i = 0) { return *harts_[i]; }
  unsigned hart_count() const { return static_cast<unsigned>(harts_.size()); }
  GuestClock& clock() { return clock_; }
  Clint& clint() { return clint_; }
  Plic& plic() { return plic_; }
  Uart16550& uart() { return uart_; }
  GoldfishRtc& rtc() { return rtc_; }
  uint64_t fdt_address() const { return fdt_addr_; }
  const std::vector<uint8_t>& fdt() const { return fdt_; }
  // Where the kernel was loaded and the initial RAM disk went (0 = none),
  // as the device tree's /chosen says.
  uint64_t kernel_address() const { return kernel_addr_; }
  uint64_t initrd_start() const { return initrd_start_; }
  uint64_t initrd_end() const { return initrd_end_; }

  // Power-on: devices and hart reset, images and device tree put back in RAM.
  void reset();
  // Device state that depends on time (timer and RTC interrupts); call at
  // every run-slice boundary.
  void update_timers();

 private:
  // Loads firmware, kernel and initrd as QEMU's virt board places them, then
  // builds (or patches, with -dtb) the device tree and the reset ROM.
  void load_images(const BoardConfig& config);
  void build_fdt(const BoardConfig& config, const std::vector<uint8_t>& dtb_file);
  void check_layout() const;
  // The virtio-blk and virtio-net devices in their slots; empty slots answer
  // as QEMU's do.
  void add_virtio_devices(const BoardConfig& config, StateRegistry& registry);
  std::unique_ptr<VirtioBlk> make_disk(const BoardConfig& config, const DriveConfig& drive,
                                       unsigned slot);
  std::unique_ptr<VirtioNet> make_nic(const BoardConfig& config, const NicConfig& nic,
                                      unsigned slot);

  GuestRam ram_;
  AddressSpace bus_;
  GuestClock clock_;
  std::vector<std::unique_ptr<Hart>> harts_;
  Clint clint_;
  Plic plic_;
  Uart16550 uart_;
  SifiveTest test_;
  GoldfishRtc rtc_;
  std::vector<std::unique_ptr<VirtioMmioEmpty>> virtio_slots_;
  std::vector<std::unique_ptr<VirtioBlk>> disks_;
  std::vector<std::unique_ptr<VirtioNet>> nics_;

  std::vector<LoadedImage> images_;
  std::vector<std::string> image_names_;  // "kernel 'PATH'"…, for error messages
  std::vector<uint8_t> fdt_;
  uint64_t fdt_addr_ = 0;
  uint64_t kernel_addr_ = 0;
  uint64_t initrd_start_ = 0;
  uint64_t initrd_end_ = 0;
  std::vector<uint8_t> rom_;
};

}  // namespace ferry
