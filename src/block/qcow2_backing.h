// The backing file under a qcow2 image: read-only, raw or qcow2, and reading
// as zeros beyond its own size (a backing file may be smaller than the image
// above it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ferry::qcow2 {

class BackingFile {
 public:
  virtual ~BackingFile() = default;
  virtual uint64_t size() const = 0;
  // Any range: the part beyond size() reads as zeros.
  virtual void read(uint64_t offset, void* buf, size_t len) = 0;
};

// Opens `name` as written in the image at `image_path` (relative names are
// relative to that image's directory), in `format` ("raw", "qcow2", or empty
// to probe). `depth` is how deep in a backing chain the new file sits; chains
// beyond a fixed depth are refused (which also stops loops).
std::unique_ptr<BackingFile> open_backing_file(const std::string& image_path,
                                               const std::string& name,
                                               const std::string& format, int depth);

}  // namespace ferry::qcow2
