#include "block/image_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "block/block_image.h"
#include "block/qcow2_format.h"

namespace ferry {

std::string probe_image_format(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BlockError("Could not open '" + path + "': " + std::strerror(errno));
  uint8_t magic[4] = {};
  ssize_t n;
  do {
    n = ::pread(fd, magic, sizeof magic, 0);
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (n < 0) throw BlockError(path + ": cannot read: " + std::strerror(err));
  if (n == 4 && std::memcmp(magic, qcow2::kMagic, 4) == 0) return "qcow2";
  return "raw";
}

}  // namespace ferry
