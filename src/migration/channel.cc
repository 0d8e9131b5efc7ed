#include "migration/channel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry {

FdChannel::FdChannel(int fd, bool return_path, std::string description)
    : fd_(fd), return_path_(return_path), description_(std::move(description)) {}

FdChannel::~FdChannel() {
  if (fd_ >= 0) close(fd_);
}

bool FdChannel::write_all(const uint8_t* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) {
      const ssize_t w = ::write(fd_, data, len);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        set_error(std::string("write to ") + description_ + " failed: " + std::strerror(errno));
        return false;
      }
      data += w;
      len -= static_cast<size_t>(w);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      set_error(std::string("write to ") + description_ + " failed: " + std::strerror(errno));
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

ssize_t FdChannel::read_some(uint8_t* data, size_t len) {
  for (;;) {
    const ssize_t n = ::read(fd_, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) set_error(std::string("read from ") + description_ + " failed: " + std::strerror(errno));
    return n;
  }
}

void FdChannel::shutdown() {
  if (::shutdown(fd_, SHUT_RDWR) != 0) {
    // Not a socket (pipe, file): closing a dup'ed copy won't unblock; the
    // owner closes the descriptor when it gives up.
  }
}

}  // namespace ferry
