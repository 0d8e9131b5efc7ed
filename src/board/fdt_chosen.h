// The /chosen node: what the board tells the kernel about how it was booted
// (command line, initial RAM disk), in a generated tree or in one given with
// -dtb.
//
// QEMU 7.2 writes linux,initrd-start and linux,initrd-end as one 32-bit cell
// each (qemu_fdt_setprop_cell); ferry does the same when the addresses fit in
// 32 bits, and writes 64-bit values otherwise (Linux reads either size).
//
// patch_fdt_chosen is how a user's device tree (-dtb) is completed, as QEMU
// does it: bootargs when -append is non-empty, the initrd range with -initrd;
// nothing else in the tree changes (not even /memory for -m). A tree without
// /chosen gets one. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ferry {

struct FdtChosen {
  std::string bootargs;     // "" = leave bootargs alone
  uint64_t initrd_start = 0;  // both non-zero: set linux,initrd-start/-end
  uint64_t initrd_end = 0;
};

// linux,initrd-start / -end as stored: 4 big-endian bytes when `address`
// fits in 32 bits, else 8.
std::vector<uint8_t> fdt_initrd_address(uint64_t address);

// Checks `blob` as a flattened device tree (`name` names it in errors) and
// returns it with /chosen updated from `chosen`, packed. Throws
// std::runtime_error saying what is wrong with the blob.
std::vector<uint8_t> patch_fdt_chosen(const std::vector<uint8_t>& blob,
                                      const FdtChosen& chosen, const std::string& name);

// Overwrites /chosen/rng-seed, where the tree has one, with random bytes
// from the host (in place: the blob keeps its size).
void randomize_rng_seed(std::vector<uint8_t>& blob);

}  // namespace ferry
