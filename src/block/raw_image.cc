#include "block/raw_image.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ferry {
namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::unique_ptr<RawImage> RawImage::open(const std::string& path, bool read_only,
                                         bool inactive) {
  const int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0)
    throw BlockError("Could not open '" + path + "': " + errno_text());
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const std::string e = errno_text();
    ::close(fd);
    throw BlockError("Could not stat '" + path + "': " + e);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    const off_t end = lseek(fd, 0, SEEK_END);
    size = end > 0 ? static_cast<uint64_t>(end) : 0;
  } else if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw BlockError("'" + path + "' is not a regular file or a block device");
  }
  std::unique_ptr<RawImage> image(new RawImage(path, fd, size, read_only));
  image->active_ = !inactive;
  return image;
}

RawImage::~RawImage() { ::close(fd_); }

void RawImage::deactivate() {
  flush();
  active_ = false;
}

void RawImage::check_range(uint64_t offset, uint64_t len, const char* what) const {
  if (offset > size_ || len > size_ - offset)
    throw BlockError(std::string(what) + " beyond the end of '" + path_ + "'");
}

void RawImage::read(uint64_t offset, void* buf, size_t len) {
  check_range(offset, len, "read");
  auto* p = static_cast<uint8_t*>(buf);
  while (len) {
    const ssize_t n = pread(fd_, p, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw BlockError("read of '" + path_ + "' failed: " + errno_text());
    if (n == 0) {  // the file shrank under us: what is gone reads as zeros
      std::memset(p, 0, len);
      return;
    }
    p += n, offset += static_cast<uint64_t>(n), len -= static_cast<size_t>(n);
  }
}

void RawImage::write(uint64_t offset, const void* buf, size_t len) {
  check_range(offset, len, "write");
  if (read_only_) throw BlockError("'" + path_ + "' is read-only");
  if (!active_) throw BlockError("'" + path_ + "' is not this VM's to write (migration hand-over)");
  const auto* p = static_cast<const uint8_t*>(buf);
  while (len) {
    const ssize_t n = pwrite(fd_, p, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw BlockError("write to '" + path_ + "' failed: " + errno_text());
    p += n, offset += static_cast<uint64_t>(n), len -= static_cast<size_t>(n);
  }
}

void RawImage::write_zeroes(uint64_t offset, uint64_t len) {
  check_range(offset, len, "write-zeroes");
  if (read_only_) throw BlockError("'" + path_ + "' is read-only");
  if (!active_) throw BlockError("'" + path_ + "' is not this VM's to write (migration hand-over)");
  if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                static_cast<off_t>(len)) == 0)
    return;
  std::vector<uint8_t> zeros(std::min<uint64_t>(len, 1 << 20));
  while (len) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(len, zeros.size()));
    write(offset, zeros.data(), n);
    offset += n, len -= n;
  }
}

void RawImage::discard(uint64_t offset, uint64_t len) {
  // Zeros are what a discarded range of a raw file reads as, when the file
  // system can punch holes; otherwise the data stays (allowed by virtio).
  check_range(offset, len, "discard");
  if (read_only_) throw BlockError("'" + path_ + "' is read-only");
  if (!active_) throw BlockError("'" + path_ + "' is not this VM's to write (migration hand-over)");
  fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
            static_cast<off_t>(len));
}

void RawImage::flush() {
  if (read_only_ || !active_) return;
  if (fdatasync(fd_) != 0) throw BlockError("flush of '" + path_ + "' failed: " + errno_text());
}

std::vector<BlockExtent> RawImage::allocated_extents() {
  // The file's data regions (holes read as zeros and need not travel).
  std::vector<BlockExtent> out;
  off_t pos = 0;
  const off_t end = static_cast<off_t>(size_);
  while (pos < end) {
    const off_t data = lseek(fd_, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole is left
      return {{0, size_}};        // no SEEK_DATA here: everything counts
    }
    off_t hole = lseek(fd_, data, SEEK_HOLE);
    if (hole < 0 || hole > end) hole = end;
    out.push_back({static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data)});
    pos = hole;
  }
  return out;
}

}  // namespace ferry
