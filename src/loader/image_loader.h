// Image loading: ELF64 executables and raw binaries into guest RAM.
//
// Every byte goes through GuestRam::write, so loaded pages are logged like
// any other write. A loaded image is kept as a list of chunks so that a
// system reset can put it back exactly (as QEMU re-copies ROM blobs).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "memory/guest_ram.h"

namespace ferry {

class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedImage {
  struct Chunk {
    uint64_t addr;
    std::vector<uint8_t> bytes;  // zero-filled tails are stored as zeros
  };
  std::vector<Chunk> chunks;
  uint64_t entry = 0;
  uint64_t lowest = 0;   // lowest guest address written
  uint64_t highest = 0;  // one past the highest guest address written
  bool is_elf = false;

  // Writes the chunks into RAM.
  void apply(GuestRam& ram) const;
};

// Reads `path`: an ELF64 RISC-V executable (PT_LOAD segments at their
// physical addresses) or, when it is not ELF, a raw binary placed at
// `raw_load_addr`. Checks that everything fits in RAM. Throws LoadError with
// a message naming the file and the problem.
LoadedImage load_image(const std::string& path, const GuestRam& ram,
                       uint64_t raw_load_addr);

}  // namespace ferry
