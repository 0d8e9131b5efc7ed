#include "board/virt_board.h"

#include <algorithm>
#include <cstdio>

#include "board/fdt_chosen.h"
#include "board/virt_fdt.h"
#include "block/open_image.h"
#include "net/net_backend_factory.h"

namespace ferry {

namespace {
std::vector<std::unique_ptr<Hart>> make_harts(unsigned count, AddressSpace& bus, GuestClock& clock) {
  if (count < 1 || count > Plic::kMaxHarts)
    throw LoadError("-smp " + std::to_string(count) + ": this board has 1 to " +
                    std::to_string(Plic::kMaxHarts) + " harts");
  std::vector<std::unique_ptr<Hart>> harts;
  for (unsigned i = 0; i < count; ++i) {
    harts.push_back(std::make_unique<Hart>(bus, [&clock] { return clock.ticks(); }, i));
    harts.back()->set_shares_memory(count > 1);
  }
  return harts;
}

template <typename T>
std::vector<InterruptTarget*> targets(const std::vector<std::unique_ptr<T>>& harts) {
  std::vector<InterruptTarget*> t;
  for (const auto& h : harts) t.push_back(h.get());
  return t;
}
}  // namespace

VirtBoard::VirtBoard(const BoardConfig& config, SerialBackend* serial,
                     PowerControl& power, StateRegistry& registry)
    : ram_(kRamBase, config.ram_size),
      bus_(ram_),
      harts_(make_harts(config.harts, bus_, clock_)),
      clint_(clock_, targets(harts_)),
      plic_(targets(harts_)),
      uart_(serial, plic_.irq_line(kUartIrq)),
      test_(power),
      rtc_(plic_.irq_line(kRtcIrq)) {
  registry.add_device(plic_, state_order::kInterruptController);
  registry.add_device(clint_, state_order::kTimer);
  registry.add_device(rtc_, state_order::kTimer);
  registry.add_device(uart_, state_order::kDevice);
  registry.add_device(test_, state_order::kDevice);
  for (auto& hart : harts_) registry.add_device(*hart, state_order::kCpu);  // instance = hart id
  bus_.add_mmio(kTestBase, 0x1000, &test_, "sifive_test");
  bus_.add_mmio(kRtcBase, 0x1000, &rtc_, "goldfish_rtc");
  bus_.add_mmio(kClintBase, Clint::kWindowSize, &clint_, "clint");
  bus_.add_mmio(kPlicBase, kPlicSize, &plic_, "plic");
  bus_.add_mmio(kUartBase, Uart16550::kWindowSize, &uart_, "serial");
  add_virtio_devices(config, registry);

  load_images(config);
  bus_.add_rom(kBootRomBase, rom_, "boot_rom");
  reset();
}

namespace {
std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

void VirtBoard::load_images(const BoardConfig& config) {
  if (!config.initrd.empty() && config.kernel.empty())
    throw LoadError("-initrd only allowed with -kernel option");
  std::vector<uint8_t> dtb_file;
  uint64_t fdt_reserve = kFdtBuildBufferSize;
  if (!config.dtb.empty()) {
    dtb_file = read_image_file("device tree", config.dtb);
    fdt_reserve = virt_fdt_reserve_for_file(dtb_file.size());
  }
  fdt_addr_ = virt_fdt_address(kRamBase, config.ram_size, fdt_reserve);
  if (fdt_addr_ < kRamBase)
    throw LoadError("RAM is too small for the device tree (-m " +
                    std::to_string(config.ram_size >> 20) + "M)");

  uint64_t start = kRamBase, next_addr = 0;
  const bool no_bios = config.bios == "none";
  // Where a kernel goes: after the firmware, 2 MiB aligned (QEMU's
  // riscv_calc_kernel_start_addr), or at the start of RAM without firmware.
  uint64_t kernel_load_addr = kRamBase;
  if (!no_bios) {
    const std::string bios = config.bios.empty() ? kDefaultBios : config.bios;
    LoadedImage fw = load_image(bios, ram_, kRamBase);
    start = fw.entry;
    kernel_load_addr = (fw.highest + kKernelAlign - 1) / kKernelAlign * kKernelAlign;
    images_.push_back(std::move(fw));
    image_names_.push_back("firmware '" + bios + "'");
  } else if (config.kernel.empty()) {
    throw LoadError("no guest to run: give -kernel, or -bios with firmware");
  }
  if (!config.kernel.empty()) {
    LoadedImage kernel = load_image(config.kernel, ram_, kernel_load_addr);
    // QEMU's kernel address: the load address (an ELF's lowest segment, not
    // its entry). The firmware hands over to it; without firmware the reset
    // ROM jumps to the ELF's entry.
    kernel_addr_ = kernel.lowest;
    if (no_bios) {
      start = kernel.entry;
    } else {
      next_addr = kernel_addr_;
    }
    images_.push_back(std::move(kernel));
    image_names_.push_back("kernel '" + config.kernel + "'");
  }
  if (!config.initrd.empty()) {
    LoadedImage initrd = load_initrd(config.initrd, ram_,
                                     initrd_address(kernel_addr_, config.ram_size));
    initrd_start_ = initrd.lowest;
    initrd_end_ = initrd.highest;
    images_.push_back(std::move(initrd));
    image_names_.push_back("initrd '" + config.initrd + "'");
  }
  build_fdt(config, dtb_file);
  check_layout();
  rom_ = build_boot_rom({start, fdt_addr_, next_addr, kNextModeSupervisor});
}

void VirtBoard::build_fdt(const BoardConfig& config, const std::vector<uint8_t>& dtb_file) {
  if (!config.dtb.empty()) {
    FdtChosen chosen;
    chosen.bootargs = config.append;
    chosen.initrd_start = initrd_start_;
    chosen.initrd_end = initrd_end_;
    try {
      fdt_ = patch_fdt_chosen(dtb_file, chosen, "device tree '" + config.dtb + "'");
    } catch (const std::runtime_error& e) {
      throw LoadError(e.what());
    }
    return;
  }
  VirtFdtParams fdt_params;
  fdt_params.ram_base = kRamBase;
  fdt_params.ram_size = config.ram_size;
  fdt_params.bootargs = config.append;
  fdt_params.harts = config.harts;
  fdt_params.initrd_start = initrd_start_;
  fdt_params.initrd_end = initrd_end_;
  fdt_ = build_virt_fdt(fdt_params);
}

void VirtBoard::check_layout() const {
  struct Region {
    std::string name;
    uint64_t begin, end;
  };
  std::vector<Region> regions;
  for (size_t i = 0; i < images_.size(); ++i)
    regions.push_back({image_names_[i], images_[i].lowest, images_[i].highest});
  regions.push_back({"the device tree", fdt_addr_, fdt_addr_ + fdt_.size()});
  if (!ram_.contains(fdt_addr_, fdt_.size()))
    throw LoadError("the device tree (" + std::to_string(fdt_.size()) + " bytes at " +
                    hex(fdt_addr_) + ") does not fit in RAM");
  for (size_t i = 0; i < regions.size(); ++i) {
    for (size_t j = i + 1; j < regions.size(); ++j) {
      const Region& a = regions[i];
      const Region& b = regions[j];
      if (a.begin < b.end && b.begin < a.end)
        throw LoadError(a.name + " at " + hex(a.begin) + "-" + hex(a.end) + " overlaps " +
                        b.name + " at " + hex(b.begin) + "-" + hex(b.end) + " (-m " +
                        std::to_string(ram_.size() >> 20) + "M; more RAM moves the initrd "
                        "and the device tree up)");
    }
  }
}

void VirtBoard::add_virtio_devices(const BoardConfig& config, StateRegistry& registry) {
  if (config.disks.size() + config.nics.size() > kVirtioSlots)
    throw LoadError("too many virtio devices: the virt board has " +
                    std::to_string(kVirtioSlots) + " virtio-mmio slots");
  // Command-line order; as on QEMU's virt board, the first takes the highest slot.
  struct Placed {
    int order;
    const DriveConfig* disk;
    const NicConfig* nic;
  };
  std::vector<Placed> placed;
  for (const DriveConfig& d : config.disks) placed.push_back({d.order, &d, nullptr});
  for (const NicConfig& n : config.nics) placed.push_back({n.order, nullptr, &n});
  std::stable_sort(placed.begin(), placed.end(),
                   [](const Placed& a, const Placed& b) { return a.order < b.order; });
  for (unsigned i = kVirtioSlots; i-- > 0;) {
    const uint64_t base = kVirtioBase + i * 0x1000;
    const size_t index = kVirtioSlots - 1 - i;
    const std::string name = "virtio_mmio." + std::to_string(i);
    MmioDevice* device;
    if (index < placed.size() && placed[index].disk) {
      disks_.push_back(make_disk(config, *placed[index].disk, i));
      device = disks_.back().get();
    } else if (index < placed.size()) {
      nics_.push_back(make_nic(config, *placed[index].nic, i));
      device = nics_.back().get();
    } else {
      virtio_slots_.push_back(std::make_unique<VirtioMmioEmpty>());
      bus_.add_mmio(base, VirtioMmioEmpty::kWindowSize, virtio_slots_.back().get(), name);
      continue;
    }
    registry.add_device(*device, state_order::kDevice);
    bus_.add_mmio(base, VirtioMmio::kWindowSize, device, name);
  }
}

std::unique_ptr<VirtioBlk> VirtBoard::make_disk(const BoardConfig& config,
                                                const DriveConfig& drive, unsigned slot) {
  try {
    std::unique_ptr<BlockImage> image = open_image(drive, config.incoming);
    VirtioBlkConfig blk;
    blk.serial = drive.serial;
    blk.incoming = config.incoming;
    return std::make_unique<VirtioBlk>(bus_, ram_, plic_.irq_line(kVirtioIrq + slot),
                                       std::move(image), blk);
  } catch (const BlockError& e) {
    throw LoadError(e.what());
  }
}

std::unique_ptr<VirtioNet> VirtBoard::make_nic(const BoardConfig& config, const NicConfig& nic,
                                               unsigned slot) {
  const NetdevConfig* netdev = nullptr;
  for (const NetdevConfig& d : config.netdevs)
    if (d.id == nic.netdev) netdev = &d;
  if (!netdev) throw LoadError("network card: no -netdev with id '" + nic.netdev + "'");
  try {
    return std::make_unique<VirtioNet>(bus_, ram_, plic_.irq_line(kVirtioIrq + slot),
                                       make_net_backend(*netdev), nic);
  } catch (const std::runtime_error& e) {
    throw LoadError(e.what());
  }
}

void VirtBoard::reset() {
  for (const auto& image : images_) image.apply(ram_);
  randomize_rng_seed(fdt_);
  ram_.write(fdt_addr_, fdt_.data(), fdt_.size());
  clint_.reset();
  plic_.reset();
  uart_.reset();
  test_.reset();
  rtc_.reset();
  for (auto& disk : disks_) disk->reset();
  for (auto& nic : nics_) nic->reset();
  for (auto& hart : harts_) hart->reset(kBootRomBase);
  clint_.update();
}

void VirtBoard::update_timers() {
  clint_.update();
  rtc_.update();
}

}  // namespace ferry
