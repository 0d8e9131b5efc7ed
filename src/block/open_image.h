// open_image: the BlockImage for a drive: the format as given, or probed
// from the file's first bytes, as QEMU does. A format given that the file
// does not have is refused (a raw image is never read as qcow2 metadata,
// and a qcow2 image given as qcow2 must be one).
#pragma once

#include <memory>

#include "block/block_image.h"
#include "block/drive_config.h"

namespace ferry {

// Throws BlockError naming the drive's file and the problem.
// `inactive`: for a migration destination (BlockImage::deactivate).
std::unique_ptr<BlockImage> open_image(const DriveConfig& drive, bool inactive = false);

}  // namespace ferry
