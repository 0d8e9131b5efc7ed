#include "block/qcow2_backing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "block/block_image.h"
#include "block/image_probe.h"
#include "block/qcow2_image.h"

namespace ferry::qcow2 {

namespace {

// Deeper chains are refused; this also ends a chain that loops.
constexpr int kMaxChainDepth = 16;

class RawBacking : public BackingFile {
 public:
  RawBacking(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~RawBacking() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* buf, size_t len) override {
    auto* out = static_cast<uint8_t*>(buf);
    const size_t inside = offset >= size_ ? 0 : static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
    size_t done = 0;
    while (done < inside) {
      const ssize_t n = ::pread(fd_, out + done, inside - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw BlockError(path_ + ": read failed: " + std::strerror(errno));
      if (n == 0) break;  // shrunk under us: the rest reads as zeros
      done += static_cast<size_t>(n);
    }
    std::memset(out + done, 0, len - done);
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class Qcow2Backing : public BackingFile {
 public:
  explicit Qcow2Backing(std::unique_ptr<Qcow2Image> image) : image_(std::move(image)) {}
  uint64_t size() const override { return image_->size(); }
  void read(uint64_t offset, void* buf, size_t len) override {
    auto* out = static_cast<uint8_t*>(buf);
    const uint64_t size = image_->size();
    const size_t inside = offset >= size ? 0 : static_cast<size_t>(std::min<uint64_t>(len, size - offset));
    if (inside > 0) image_->read(offset, out, inside);
    std::memset(out + inside, 0, len - inside);
  }

 private:
  std::unique_ptr<Qcow2Image> image_;
};

std::unique_ptr<BackingFile> open_raw(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BlockError("Could not open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw BlockError(path + ": cannot stat: " + std::strerror(err));
  }
  return std::make_unique<RawBacking>(path, fd, static_cast<uint64_t>(st.st_size));
}

}  // namespace

std::unique_ptr<BackingFile> open_backing_file(const std::string& image_path,
                                               const std::string& name,
                                               const std::string& format, int depth) {
  if (depth > kMaxChainDepth) {
    throw BlockError(image_path + ": backing chain deeper than " +
                     std::to_string(kMaxChainDepth) + " images (does it loop?)");
  }
  std::string full = name;
  if (name.empty() || name[0] != '/') {
    const size_t slash = image_path.rfind('/');
    if (slash != std::string::npos) full = image_path.substr(0, slash + 1) + name;
  }
  try {
    const std::string fmt = format.empty() ? probe_image_format(full) : format;
    if (fmt == "raw") return open_raw(full);
    if (fmt == "qcow2") return std::make_unique<Qcow2Backing>(Qcow2Image::open_in_chain(full, true, depth));
    throw BlockError("format '" + fmt + "' is not supported (raw or qcow2)");
  } catch (const BlockError& e) {
    throw BlockError(image_path + ": backing file " + name + ": " + e.what());
  }
}

}  // namespace ferry::qcow2
