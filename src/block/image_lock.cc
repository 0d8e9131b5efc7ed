#include "block/image_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "block/block_image.h"

namespace ferry {
namespace {

constexpr off_t kPermBase = 100, kSharedBase = 200;
constexpr const char* kPermNames[] = {"consistent read", "write", "write unchanged", "resize"};

bool lock_byte(int fd, off_t byte, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

// True when another open file holds a lock on `byte`.
bool byte_taken(int fd, off_t byte) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
  return fl.l_type != F_UNLCK;
}

}  // namespace

void ImageLock::acquire(const std::string& path, bool write, bool resize) {
  release();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BlockError("Could not open '" + path + "' to lock it: " + std::strerror(errno));
  std::vector<int> used = {0}, unshared = {1};
  if (write) used.push_back(1);
  if (write && resize) used.push_back(3), unshared.push_back(3);
  auto fail = [&](const std::string& message) {
    ::close(fd);
    throw BlockError(message);
  };
  for (int p : used)
    if (!lock_byte(fd, kPermBase + p, F_RDLCK))
      fail("Failed to lock byte " + std::to_string(kPermBase + p) + " of '" + path +
           "': " + std::strerror(errno));
  for (int p : unshared)
    if (!lock_byte(fd, kSharedBase + p, F_RDLCK))
      fail("Failed to lock byte " + std::to_string(kSharedBase + p) + " of '" + path +
           "': " + std::strerror(errno));
  // Someone else refuses to share what we use, or uses what we refuse to share.
  for (int p : used)
    if (byte_taken(fd, kSharedBase + p))
      fail(std::string("Failed to get \"") + kPermNames[p] + "\" lock: is another process "
           "using the image [" + path + "]?");
  for (int p : unshared)
    if (byte_taken(fd, kPermBase + p))
      fail(std::string("Failed to get shared \"") + kPermNames[p] + "\" lock: is another "
           "process using the image [" + path + "]?");
  fd_ = fd;
}

void ImageLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the description drops its OFD locks
  fd_ = -1;
}

}  // namespace ferry
