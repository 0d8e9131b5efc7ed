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

namespace {
// Bulk mode: how long a read waits for a full batch before it takes what
// has arrived. ppoll's timer is precise; SO_RCVTIMEO would round it up to
// the kernel's tick (4 ms at HZ=250), which showed up as downtime when the
// last pre-copy read waited for data that was not coming.
constexpr long kBulkWaitNs = 300'000;
}  // namespace

ssize_t FdChannel::read_some(uint8_t* data, size_t len) {
  for (;;) {
    if (bulk_) {
      // Readable once SO_RCVLOWAT bytes are queued (or at end of stream);
      // otherwise, after the wait, take what is there.
      pollfd p{fd_, POLLIN, 0};
      const timespec wait{0, kBulkWaitNs};
      if (ppoll(&p, 1, &wait, nullptr) < 0 && errno != EINTR) {
        set_error(std::string("waiting on ") + description_ + " failed: " + std::strerror(errno));
        return -1;
      }
    }
    const ssize_t n = bulk_ ? ::recv(fd_, data, len, MSG_DONTWAIT) : ::read(fd_, data, len);
    if (n < 0 && errno == EINTR) continue;
    // Bulk mode: nothing has arrived yet.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && bulk_) continue;
    if (n < 0) set_error(std::string("read from ") + description_ + " failed: " + std::strerror(errno));
    return n;
  }
}

void FdChannel::set_bulk_receive(bool on) {
  if (on == bulk_) return;
  // Wake the reader only for 256 KiB batches; sockets only (pipes and files
  // refuse the option and stay as they are).
  const int lowat = on ? 256 * 1024 : 1;
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) != 0) return;
  bulk_ = on;
}

void FdChannel::shutdown() {
  if (::shutdown(fd_, SHUT_RDWR) != 0) {
    // Not a socket (pipe, file): closing a dup'ed copy won't unblock; the
    // owner closes the descriptor when it gives up.
  }
}

}  // namespace ferry
