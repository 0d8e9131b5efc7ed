#include "loader/image_loader.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace ferry {

namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

uint32_t le32(std::span<const uint8_t> d, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | d[off + i];
  return v;
}

uint64_t le64(std::span<const uint8_t> d, size_t off) {
  return le32(d, off) | static_cast<uint64_t>(le32(d, off + 4)) << 32;
}

bool starts_with(std::span<const uint8_t> d, size_t off, std::string_view magic) {
  return d.size() >= off + magic.size() &&
         std::memcmp(d.data() + off, magic.data(), magic.size()) == 0;
}

// What `data` is when it is plainly not a RISC-V program, or "".
std::string foreign_format(std::span<const uint8_t> d) {
  using namespace std::string_view_literals;
  if (starts_with(d, 0, "\x1f\x8b"sv)) return "gzip-compressed data";
  if (starts_with(d, 0, "\xfd" "7zXZ\0"sv)) return "xz-compressed data";
  if (starts_with(d, 0, "\x28\xb5\x2f\xfd"sv)) return "zstd-compressed data";
  if (starts_with(d, 0, "BZh"sv) && d.size() > 3 && d[3] >= '1' && d[3] <= '9')
    return "bzip2-compressed data";
  if (starts_with(d, 0, "\x04\x22\x4d\x18"sv)) return "lz4-compressed data";
  if (starts_with(d, 0, "\x27\x05\x19\x56"sv)) return "a U-Boot legacy uImage (not supported)";
  if (starts_with(d, 0x38, "ARM\x64"sv)) return "an arm64 Linux Image";
  if (starts_with(d, 0x202, "HdrS"sv)) return "an x86 Linux bzImage";
  return "";
}

void check_fits(const std::string& what, const std::string& path, const GuestRam& ram,
                uint64_t addr, uint64_t len) {
  if (ram.contains(addr, len)) return;
  throw LoadError("could not load " + what + " '" + path + "': " + std::to_string(len) +
                  " bytes at " + hex(addr) + " would end at " + hex(addr + len) +
                  ", outside RAM " + hex(ram.base()) + "-" + hex(ram.base() + ram.size()) +
                  " (-m " + std::to_string(ram.size() / kMiB) + "M)");
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
  image.format = ImageFormat::kElf;
  image.entry = eh.e_entry;
  image.lowest = ~0ull;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, data.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz || ph.p_offset > data.size() ||
        ph.p_filesz > data.size() - ph.p_offset)
      throw LoadError(path + ": segment " + std::to_string(i) + " lies outside the file");
    check_fits("ELF segment " + std::to_string(i) + " of", path, ram, ph.p_paddr, ph.p_memsz);
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

LoadedImage load_linux_image(const std::string& path, std::vector<uint8_t> data,
                             const LinuxImageHeader& header, const GuestRam& ram,
                             uint64_t load_addr) {
  if (header.flags & 1)
    throw LoadError(path + ": big-endian RISC-V Linux Image (ferry's board is little-endian)");
  // image_size covers the bss after the file's bytes; older headers leave it 0.
  const uint64_t size = std::max<uint64_t>(header.image_size, data.size());
  check_fits("Linux Image", path, ram, load_addr, size);
  LoadedImage image;
  image.format = ImageFormat::kLinuxImage;
  image.entry = load_addr;
  image.lowest = load_addr;
  image.highest = load_addr + size;
  image.chunks.push_back({load_addr, std::move(data)});
  return image;
}

}  // namespace

void LoadedImage::apply(GuestRam& ram) const {
  for (const auto& c : chunks) ram.write(c.addr, c.bytes.data(), c.bytes.size());
}

std::optional<LinuxImageHeader> parse_linux_image_header(std::span<const uint8_t> d) {
  if (d.size() < kLinuxImageHeaderSize || !starts_with(d, kLinuxImageMagic2Offset, "RSC\x05"))
    return std::nullopt;
  return LinuxImageHeader{le64(d, 8), le64(d, 16), le64(d, 24), le32(d, 32)};
}

std::vector<uint8_t> read_image_file(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw LoadError("could not load " + what + " '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> data{std::istreambuf_iterator<char>(in), {}};
  if (in.bad())
    throw LoadError("could not load " + what + " '" + path + "': read error");
  return data;
}

LoadedImage load_image(const std::string& path, const GuestRam& ram, uint64_t load_addr) {
  std::vector<uint8_t> data = read_image_file("image", path);
  if (data.size() >= 4 && std::memcmp(data.data(), ELFMAG, SELFMAG) == 0)
    return load_elf(path, data, ram);
  if (data.empty()) throw LoadError("could not load '" + path + "': file is empty");
  if (auto header = parse_linux_image_header(data))
    return load_linux_image(path, std::move(data), *header, ram, load_addr);
  if (std::string what = foreign_format(data); !what.empty())
    throw LoadError("could not load '" + path + "': it is " + what +
                    ", not a RISC-V ELF file, Linux Image or raw binary");
  check_fits("image", path, ram, load_addr, data.size());
  LoadedImage image;
  image.entry = load_addr;
  image.lowest = load_addr;
  image.highest = load_addr + data.size();
  image.chunks.push_back({load_addr, std::move(data)});
  return image;
}

LoadedImage load_initrd(const std::string& path, const GuestRam& ram, uint64_t addr) {
  std::vector<uint8_t> data = read_image_file("initrd", path);
  if (data.empty()) throw LoadError("could not load initrd '" + path + "': file is empty");
  if (!ram.contains(addr, data.size()))
    throw LoadError("initrd '" + path + "' does not fit in RAM: its " +
                    std::to_string(data.size()) + " bytes go at " + hex(addr) +
                    " (as QEMU places them) and would end at " + hex(addr + data.size()) +
                    ", past the end of RAM at " + hex(ram.base() + ram.size()) + " (-m " +
                    std::to_string(ram.size() / kMiB) + "M); give the VM more memory");
  LoadedImage image;
  image.entry = addr;
  image.lowest = addr;
  image.highest = addr + data.size();
  image.chunks.push_back({addr, std::move(data)});
  return image;
}

uint64_t initrd_address(uint64_t kernel_addr, uint64_t ram_size) {
  return kernel_addr + std::min(ram_size / 2, 128 * kMiB);
}

}  // namespace ferry
