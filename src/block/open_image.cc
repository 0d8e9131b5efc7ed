#include "block/open_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "block/raw_image.h"

namespace ferry {
namespace {

// "qcow2" when the file starts with the qcow2 magic, else "raw".
std::string probe(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BlockError("Could not open '" + path + "': " + std::strerror(errno));
  uint8_t magic[4] = {};
  const ssize_t n = pread(fd, magic, sizeof magic, 0);
  ::close(fd);
  return n == 4 && std::memcmp(magic, "QFI\xfb", 4) == 0 ? "qcow2" : "raw";
}

}  // namespace

std::unique_ptr<BlockImage> open_image(const DriveConfig& drive) {
  if (drive.file.empty()) throw BlockError("drive " + drive.id + ": no file= given");
  const std::string found = probe(drive.file);
  const std::string format = drive.format.empty() ? found : drive.format;
  if (format == "qcow2" && found != "qcow2")
    throw BlockError("Image is not in qcow2 format: '" + drive.file + "'");
  if (format == "raw") return RawImage::open(drive.file, drive.read_only);
  if (format == "qcow2")
    throw BlockError("'" + drive.file + "': qcow2 images are not supported by this build");
  throw BlockError("Unknown driver '" + format + "' for '" + drive.file +
                   "' (ferry reads raw and qcow2)");
}

}  // namespace ferry
