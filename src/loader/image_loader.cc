#include "loader/image_loader.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

namespace ferry {

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError("could not load '" + path + "': " + std::strerror(errno));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void check_fits(const std::string& path, const GuestRam& ram, uint64_t addr,
                uint64_t len) {
  if (!ram.contains(addr, len)) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "%s: image range 0x%llx-0x%llx does not fit in RAM 0x%llx-0x%llx", "",
                  static_cast<unsigned long long>(addr),
                  static_cast<unsigned long long>(addr + len),
                  static_cast<unsigned long long>(ram.base()),
                  static_cast<unsigned long long>(ram.base() + ram.size()));
    throw LoadError("could not load '" + path + "'" + buf);
  }
}

LoadedImage load_elf(const std::string& path, const std::vector<uint8_t>& data,
                     const GuestRam& ram) {
  if (data.size() < sizeof(Elf64_Ehdr)) throw LoadError(path + ": truncated ELF header");
  Elf64_Ehdr eh;
  std::memcpy(&eh, data.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    throw LoadError(path + ": not a 64-bit little-endian ELF file");
  if (eh.e_machine != EM_RISCV) throw LoadError(path + ": ELF file is not for RISC-V");
  if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
      eh.e_phoff > data.size() ||
      static_cast<uint64_t>(eh.e_phnum) * sizeof(Elf64_Phdr) > data.size() - eh.e_phoff)
    throw LoadError(path + ": corrupt program header table");
  LoadedImage image;
  image.is_elf = true;
  image.entry = eh.e_entry;
  image.lowest = ~0ull;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, data.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz || ph.p_offset > data.size() ||
        ph.p_filesz > data.size() - ph.p_offset)
      throw LoadError(path + ": segment " + std::to_string(i) + " lies outside the file");
    check_fits(path, ram, ph.p_paddr, ph.p_memsz);
    LoadedImage::Chunk chunk{ph.p_paddr, std::vector<uint8_t>(ph.p_memsz, 0)};
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(ph.p_offset), ph.p_filesz,
                chunk.bytes.begin());
    image.lowest = std::min(image.lowest, ph.p_paddr);
    image.highest = std::max(image.highest, ph.p_paddr + ph.p_memsz);
    image.chunks.push_back(std::move(chunk));
  }
  if (image.chunks.empty()) throw LoadError(path + ": ELF file has no loadable segment");
  return image;
}

}  // namespace

void LoadedImage::apply(GuestRam& ram) const {
  for (const auto& c : chunks) ram.write(c.addr, c.bytes.data(), c.bytes.size());
}

LoadedImage load_image(const std::string& path, const GuestRam& ram,
                       uint64_t raw_load_addr) {
  std::vector<uint8_t> data = read_file(path);
  if (data.size() >= 4 && std::memcmp(data.data(), ELFMAG, SELFMAG) == 0)
    return load_elf(path, data, ram);
  if (data.empty()) throw LoadError("could not load '" + path + "': file is empty");
  check_fits(path, ram, raw_load_addr, data.size());
  LoadedImage image;
  image.entry = raw_load_addr;
  image.lowest = raw_load_addr;
  image.highest = raw_load_addr + data.size();
  image.chunks.push_back({raw_load_addr, std::move(data)});
  return image;
}

}  // namespace ferry
