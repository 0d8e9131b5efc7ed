// DriveOptions: the disks on the command line, in QEMU's spelling, turned
// into the list of virtio-blk devices (VmConfig::disks):
//
//   ferry disk.qcow2                          a bare image (as -hda): a virtio disk
//   -drive file=PATH[,format=raw|qcow2][,if=virtio|none][,id=ID]
//          [,readonly=on|off][,cache=…][,media=disk][,index=N]
//   -device virtio-blk-device,drive=ID[,serial=S]
//
// As on QEMU's virt board, if=virtio is the default; it makes a virtio-blk
// device of its own (on ferry's board a virtio-mmio one: there is no PCI),
// placed after the -device ones. An if=none drive needs a -device that names
// it; each drive backs at most one device.
#pragma once

#include <string>
#include <vector>

#include "block/drive_config.h"

namespace ferry {

class DriveOptions {
 public:
  // Where the if=virtio drives' own devices go in the slot order (after
  // every -device).
  static constexpr int kImplicitDeviceOrder = 1000;

  // Each returns "" or the error message.
  std::string add_drive(const std::string& arg);
  // `order`: the device's place among the virtio devices (slot order).
  std::string add_device(const std::string& arg, int order);
  std::string add_image(const std::string& path);
  // The devices in slot order; "" or the error message.
  std::string resolve(std::vector<DriveConfig>* disks) const;

 private:
  struct Drive {
    DriveConfig config;
    bool own_device = true;  // if=virtio
  };
  struct Device {
    std::string drive;
    std::string serial;
    int order = 0;
  };
  std::vector<Drive> drives_;
  std::vector<Device> devices_;
};

}  // namespace ferry
