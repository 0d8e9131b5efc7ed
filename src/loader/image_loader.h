// Image loading: firmware and kernels (ELF64, RISC-V Linux Image, raw) and the
// initial RAM disk, into guest RAM.
//
// Every byte goes through GuestRam::write, so loaded pages are logged like
// any other write. A loaded image is kept as a list of chunks so that a
// system reset can put it back exactly (as QEMU re-copies ROM blobs).
//
// Files that are plainly not a RISC-V program (compressed data, another
// architecture's kernel, a U-Boot uImage) are refused with a message that
// says what they are, rather than loaded as raw bytes for the guest to trip
// over. Pure functions of their inputs; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "memory/guest_ram.h"

namespace ferry {

class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ImageFormat {
  kElf,          // ELF64 RISC-V executable: PT_LOAD segments at their physical addresses
  kLinuxImage,   // RISC-V Linux Image ("RSC\x05" header), also with an EFI stub
  kRaw,          // anything else, copied as it is
};

struct LoadedImage {
  struct Chunk {
    uint64_t addr;
    std::vector<uint8_t> bytes;  // zero-filled tails are stored as zeros
  };
  std::vector<Chunk> chunks;
  ImageFormat format = ImageFormat::kRaw;
  uint64_t entry = 0;
  uint64_t lowest = 0;   // lowest guest address written
  // One past the highest guest address the image occupies: for a Linux
  // Image, its header's image_size (text, data and bss) counts, not only the
  // bytes of the file.
  uint64_t highest = 0;

  // Writes the chunks into RAM.
  void apply(GuestRam& ram) const;
};

// The header at the start of a RISC-V Linux Image
// (Documentation/arch/riscv/boot-image-header.rst), little-endian.
struct LinuxImageHeader {
  uint64_t text_offset;  // load offset from a 2 MiB aligned base (informative)
  uint64_t image_size;   // bytes the kernel occupies once running (0: unknown)
  uint64_t flags;        // bit 0: endianness (0 = little)
  uint32_t version;      // major << 16 | minor
};
constexpr size_t kLinuxImageHeaderSize = 64;
constexpr size_t kLinuxImageMagic2Offset = 0x38;  // "RSC\x05"

// The header when `data` starts with one (magic2 "RSC\x05" at 0x38).
std::optional<LinuxImageHeader> parse_linux_image_header(std::span<const uint8_t> data);

// Reads a whole file; throws LoadError naming `what` ("kernel", "initrd"…),
// the file and the reason.
std::vector<uint8_t> read_image_file(const std::string& what, const std::string& path);

// Reads `path` as firmware or a kernel: an ELF64 RISC-V executable, a RISC-V
// Linux Image placed at `load_addr` (entry = load_addr, as QEMU does), or a
// raw binary placed at `load_addr`. Checks that everything fits in RAM.
// Throws LoadError with a message naming the file and the problem.
LoadedImage load_image(const std::string& path, const GuestRam& ram, uint64_t load_addr);

// Reads `path` as an initial RAM disk placed, byte for byte, at `addr`
// (its format is the kernel's business). Throws LoadError when the file
// can't be read, is empty, or doesn't fit in RAM from `addr` on.
LoadedImage load_initrd(const std::string& path, const GuestRam& ram, uint64_t addr);

// QEMU's riscv_load_initrd placement: halfway into RAM for less than 256 MiB
// of RAM, 128 MiB after the kernel for more.
uint64_t initrd_address(uint64_t kernel_addr, uint64_t ram_size);

}  // namespace ferry
