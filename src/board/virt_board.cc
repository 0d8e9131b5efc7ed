#include "board/virt_board.h"

#include "board/virt_fdt.h"

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
  for (unsigned i = 0; i < kVirtioSlots; ++i) {
    virtio_slots_.push_back(std::make_unique<VirtioMmioEmpty>());
    bus_.add_mmio(kVirtioBase + i * 0x1000, VirtioMmioEmpty::kWindowSize,
                  virtio_slots_.back().get(), "virtio_mmio." + std::to_string(i));
  }

  VirtFdtParams fdt_params;
  fdt_params.ram_base = kRamBase;
  fdt_params.ram_size = config.ram_size;
  fdt_params.bootargs = config.append;
  fdt_params.harts = config.harts;
  fdt_ = build_virt_fdt(fdt_params);
  fdt_addr_ = virt_fdt_address(kRamBase, config.ram_size);
  if (fdt_addr_ < kRamBase || !ram_.contains(fdt_addr_, fdt_.size()))
    throw LoadError("RAM is too small for the device tree");

  load_images(config);
  bus_.add_rom(kBootRomBase, rom_, "boot_rom");
  reset();
}

void VirtBoard::load_images(const BoardConfig& config) {
  uint64_t start = kRamBase, next_addr = 0;
  const bool no_bios = config.bios == "none";
  if (!no_bios) {
    const std::string bios = config.bios.empty() ? kDefaultBios : config.bios;
    LoadedImage fw = load_image(bios, ram_, kRamBase);
    start = fw.entry;
    const uint64_t kernel_addr =
        (fw.highest + kKernelAlign - 1) / kKernelAlign * kKernelAlign;
    images_.push_back(std::move(fw));
    if (!config.kernel.empty()) {
      LoadedImage kernel = load_image(config.kernel, ram_, kernel_addr);
      next_addr = kernel.entry;
      images_.push_back(std::move(kernel));
    }
  } else if (!config.kernel.empty()) {
    LoadedImage kernel = load_image(config.kernel, ram_, kRamBase);
    start = kernel.entry;
    images_.push_back(std::move(kernel));
  } else {
    throw LoadError("no guest to run: give -kernel, or -bios with firmware");
  }
  for (const auto& image : images_)
    if (image.highest > fdt_addr_ && image.lowest < fdt_addr_ + fdt_.size())
      throw LoadError("the loaded images overlap the device tree at 0x" +
                      [](uint64_t v) {
                        char b[24];
                        std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
                        return std::string(b);
                      }(fdt_addr_));
  rom_ = build_boot_rom({start, fdt_addr_, next_addr, kNextModeSupervisor});
}

void VirtBoard::reset() {
  for (const auto& image : images_) image.apply(ram_);
  ram_.write(fdt_addr_, fdt_.data(), fdt_.size());
  clint_.reset();
  plic_.reset();
  uart_.reset();
  test_.reset();
  rtc_.reset();
  for (auto& hart : harts_) hart->reset(kBootRomBase);
  clint_.update();
}

void VirtBoard::update_timers() {
  clint_.update();
  rtc_.update();
}

}  // namespace ferry
