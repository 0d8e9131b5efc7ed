#include "block/open_image.h"

#include "block/image_probe.h"
#include "block/qcow2_image.h"
#include "block/raw_image.h"

namespace ferry {

std::unique_ptr<BlockImage> open_image(const DriveConfig& drive, bool inactive) {
  if (drive.file.empty()) throw BlockError("drive " + drive.id + ": no file= given");
  const std::string found = probe_image_format(drive.file);
  const std::string format = drive.format.empty() ? found : drive.format;
  if (format == "qcow2" && found != "qcow2")
    throw BlockError("Image is not in qcow2 format: '" + drive.file + "'");
  if (format == "raw") return RawImage::open(drive.file, drive.read_only, inactive);
  if (format == "qcow2") return Qcow2Image::open(drive.file, drive.read_only, inactive);
  throw BlockError("Unknown driver '" + format + "' for '" + drive.file +
                   "' (ferry reads raw and qcow2)");
}

}  // namespace ferry
