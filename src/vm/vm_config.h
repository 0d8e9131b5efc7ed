// VmConfig: everything the command line decides about a VM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "block/drive_config.h"
#include "net/netdev_config.h"

namespace ferry {

struct VmConfig {
  std::string machine = "virt";
  uint64_t ram_size = 128ull << 20;  // QEMU's default for virt
  int smp = 1;
  std::string kernel;   // -kernel PATH ("" = none)
  std::string bios;     // -bios: "" = default firmware, "none", or a path
  std::string append;   // -append: /chosen/bootargs
  std::string initrd;   // -initrd PATH ("" = none)
  std::string dtb;      // -dtb PATH: use this device tree instead of the generated one
  std::string dumpdtb;  // -machine dumpdtb=PATH: write the device tree there and exit
  std::string name;     // -name
  bool start_paused = false;  // -S

  // Character devices, QEMU spelling kept: "stdio", "null", "file:PATH",
  // "mon:stdio", "none", "unix:PATH,server,nowait", "tcp:HOST:PORT,server…".
  std::string serial;          // -serial; "" = decided by -nographic
  std::string monitor;         // -monitor; "" = decided by -nographic
  std::vector<std::string> qmp;  // -qmp (may repeat)
  bool nographic = false;      // -nographic
  bool nodefaults = false;     // -nodefaults
  std::string incoming;        // -incoming URI ("" = none)
  // The virtio-blk disks, in the order they take the virtio-mmio slots
  // (the first the highest slot, as QEMU's virt board places -device).
  std::vector<DriveConfig> disks;
  // The network: back ends (-netdev) and virtio-net cards, the cards in
  // slot order with the disks by their `order`.
  std::vector<NetdevConfig> netdevs;
  std::vector<NicConfig> nics;
};

// The virt board's virtio-mmio slots.
constexpr size_t kVirtioDeviceLimit = 8;

}  // namespace ferry
