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

void AddressSpace::set_rom_contents(uint64_t base,
                                    const std::vector<uint8_t>& contents) {
  for (auto& r : rom_)
    if (r.base == base) {
      if (contents.size() > r.bytes.size())
        throw std::logic_error("ROM " + r.name + " is too small");
      std::fill(r.bytes.begin(), r.bytes.end(), 0);
      std::copy(contents.begin(), contents.end(), r.bytes.begin());
      return;
    }
  throw std::logic_error("no ROM at that address");
}

const AddressSpace::MmioRegion* AddressSpace::find_mmio(uint64_t gpa) const {
  for (const auto& r : mmio_)
    if (gpa - r.base < r.size) return &r;
  return nullptr;
}

bool AddressSpace::dma_read(uint64_t gpa, void* dst, uint64_t len) const {
  if (!ram_.contains(gpa, len)) return false;
  ram_.read(gpa, dst, len);
  return true;
}

bool AddressSpace::dma_write(uint64_t gpa, const void* src, uint64_t len) {
  if (!ram_.contains(gpa, len)) return false;
  ram_.write(gpa, src, len);
  return true;
}

}  // namespace ferry
