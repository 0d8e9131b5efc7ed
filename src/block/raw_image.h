// RawImage: a disk image that is the disk's bytes, one for one.
#pragma once

#include <memory>
#include <string>

#include "block/block_image.h"

namespace ferry {

class RawImage : public BlockImage {
 public:
  // Opens `path` (read-write unless `read_only`); throws BlockError.
  static std::unique_ptr<RawImage> open(const std::string& path, bool read_only,
                                        bool inactive = false);
  ~RawImage() override;

  std::string_view format() const override { return "raw"; }
  const std::string& path() const override { return path_; }
  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  int fd() const { return fd_; }

  void read(uint64_t offset, void* buf, size_t len) override;
  void write(uint64_t offset, const void* buf, size_t len) override;
  void write_zeroes(uint64_t offset, uint64_t len) override;
  void discard(uint64_t offset, uint64_t len) override;
  void flush() override;
  void drop_caches() override {}  // nothing is cached: every read goes to the file
  std::vector<BlockExtent> allocated_extents() override;
  void deactivate() override;
  void activate() override { active_ = true; }
  bool active() const override { return active_; }

 private:
  RawImage(std::string path, int fd, uint64_t size, bool read_only)
      : path_(std::move(path)), fd_(fd), size_(size), read_only_(read_only) {}
  void check_range(uint64_t offset, uint64_t len, const char* what) const;

  std::string path_;
  int fd_;
  uint64_t size_;
  bool read_only_;
  bool active_ = true;
};

}  // namespace ferry
