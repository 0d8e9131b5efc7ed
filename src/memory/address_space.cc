#include "memory/address_space.h"

#include <algorithm>
#include <stdexcept>

namespace ferry {

void AddressSpace::add_mmio(uint64_t base, uint64_t size, MmioDevice* device,
                            std::string name) {
  for (const auto& r : mmio_)
    if (base < r.base + r.size && r.base < base + size)
      throw std::logic_error("MMIO window " + name + " overlaps " + r.name);
  mmio_.push_back({base, size, device, std::move(name)});
}

void AddressSpace::add_rom(uint64_t base, std::vector<uint8_t> contents,
                           std::string name) {
  contents.resize((contents.size() + kPageSize - 1) / kPageSize * kPageSize, 0);
  rom_.push_back({base, std::move(contents), std::move(name)});
}

const uint8_t* AddressSpace::rom_host(uint64_t gpa) const {
  for (const auto& r : rom_)
    if (gpa - r.base < r.bytes.size()) return r.bytes.data() + (gpa - r.base);
  return nullptr;
}

const AddressSpace::MmioRegion* AddressSpace::find_mmio(uint64_t gpa) const {
  for (const auto& r : mmio_)
    if (gpa - r.base < r.size) return &r;
  return nullptr;
}

}  // namespace ferry
