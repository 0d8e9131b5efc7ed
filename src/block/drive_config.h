// DriveConfig: one disk as the command line describes it (-drive, -device
// virtio-blk-device,drive=…, or a bare image path).
#pragma once

#include <string>

namespace ferry {

struct DriveConfig {
  std::string id;      // -drive id= ("" for an anonymous if=virtio drive)
  std::string file;    // the image
  std::string format;  // "raw", "qcow2", or "" = probe
  std::string cache = "writeback";  // accepted spellings: writeback, none, writethrough,
                                    // directsync, unsafe
  std::string serial;  // -device …,serial=: what the guest's GET_ID reads
  bool read_only = false;
  int order = 0;  // command-line order among the virtio devices (slot order)
};

}  // namespace ferry
