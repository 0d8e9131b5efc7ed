// BlockImage: a disk image as the virtio-blk device and the block migration
// see it: a virtual size, and reads and writes at byte offsets (multiples of
// 512 from the device), whatever the format on the host (raw, qcow2).
//
// Errors throw BlockError with a message that names the image and the
// problem. Opening checks the whole header and metadata it depends on, so a
// corrupt or truncated image is refused at open, not found half-way.
//
// Threads: one thread at a time (the disk's I/O thread, or the main thread
// while the VM is stopped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

class BlockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A byte range of the virtual disk.
struct BlockExtent {
  uint64_t offset = 0;
  uint64_t length = 0;
};

class BlockImage {
 public:
  virtual ~BlockImage() = default;

  virtual std::string_view format() const = 0;  // "raw", "qcow2"
  virtual const std::string& path() const = 0;
  virtual uint64_t size() const = 0;  // virtual size in bytes
  virtual bool read_only() const = 0;
  // True when unallocated parts read from a backing file.
  virtual bool has_backing() const { return false; }

  // Reads beyond what was ever written read as zeros (or from the backing
  // file). Ranges must lie inside size().
  virtual void read(uint64_t offset, void* buf, size_t len) = 0;
  virtual void write(uint64_t offset, const void* buf, size_t len) = 0;
  // The range reads as zeros afterwards (deallocated where the format can).
  virtual void write_zeroes(uint64_t offset, uint64_t len) = 0;
  // The guest no longer needs the range; it may read back as anything the
  // format keeps, here zeros or the backing file's data.
  virtual void discard(uint64_t offset, uint64_t len) = 0;
  // Everything written so far is on stable storage (metadata included).
  virtual void flush() = 0;
  // Forgets what was read and cached from the file (a migration's
  // destination at the hand-over: the source may have written since).
  virtual void drop_caches() = 0;

  // Shared storage at a migration's hand-over. deactivate(): everything is on
  // disk (flushed, reservations given back) and from then on the image writes
  // nothing to its file, not even at close, until activate(), which first
  // drops what was cached (another process may have written since). An image
  // opened inactive (a migration destination) starts deactivated.
  virtual void deactivate() = 0;
  virtual void activate() = 0;
  virtual bool active() const = 0;

  // The ranges that hold data of this image itself (not of its backing file),
  // in order: what a block migration must send. Raw: the whole disk.
  virtual std::vector<BlockExtent> allocated_extents() = 0;
};

}  // namespace ferry
