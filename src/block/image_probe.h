// Which format a disk image file holds, from its first bytes.
#pragma once

#include <string>

namespace ferry {

// "qcow2" when the file starts with the qcow2 magic "QFI\xfb", else "raw".
// Throws BlockError when the file can't be opened or read.
std::string probe_image_format(const std::string& path);

}  // namespace ferry
