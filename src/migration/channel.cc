#include "migration/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry {

FdChannel::FdChannel(int fd, bool return_path, std::string description)
    : FdChannel(fd, fd, return_path, std::move(description)) {}

FdChannel::FdChannel(int read_fd, int write_fd, bool return_path, std::string description)
    : fd_(read_fd),
      write_fd_(write_fd),
      return_path_(return_path),
      description_(std::move(description)) {}

FdChannel::~FdChannel() {
  if (fd_ >= 0) close(fd_);
  if (write_fd_ >= 0 && write_fd_ != fd_) close(write_fd_);
}

int FdChannel::wait_readable(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  for (;;) {
    const int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) set_error(std::string("waiting on ") + description_ + " failed: " + std::strerror(errno));
    return n < 0 ? -1 : n > 0 ? 1 : 0;
  }
}

bool FdChannel::write_all(const uint8_t* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::send(write_fd_, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) {
      const ssize_t w = ::write(write_fd_, data, len);
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
    // Bulk mode's receive timeout expired with nothing to read yet.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && bulk_) continue;
    if (n < 0) set_error(std::string("read from ") + description_ + " failed: " + std::strerror(errno));
    return n;
  }
}

void FdChannel::set_bulk_receive(bool on) {
  if (on == bulk_) return;
  // A socket read then returns once 256 KiB are there, or after 1 ms with
  // what has arrived; pipes and files ignore both options.
  const int lowat = on ? 256 * 1024 : 1;
  timeval timeout{0, on ? 1000 : 0};
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) != 0) return;
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  bulk_ = on;
}

void FdChannel::shutdown() {
  if (::shutdown(fd_, SHUT_RDWR) != 0) {
    // Not a socket (pipe, file): closing a dup'ed copy won't unblock; the
    // owner closes the descriptor when it gives up.
  }
}

}  // namespace ferry
