// Temporary files for the loader and board tests, removed at the end of scope.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ferry::test_util {

class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes) {
    char tmpl[] = "/tmp/ferry-test-file-XXXXXX";
    const int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    size_t done = 0;
    while (fd >= 0 && done < bytes.size()) {
      ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    EXPECT_EQ(done, bytes.size());
    if (fd >= 0) close(fd);
    path_ = tmpl;
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void put_le(std::vector<uint8_t>& b, size_t off, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A RISC-V Linux Image of `file_size` bytes (>= 64) whose header says
// `image_size`; starts with "MZ" like an image with an EFI stub when `efi`.
inline std::vector<uint8_t> linux_image(size_t file_size, uint64_t image_size,
                                        bool efi = true, uint64_t flags = 0) {
  std::vector<uint8_t> b(file_size, 0);
  for (size_t i = 64; i < file_size; ++i) b[i] = static_cast<uint8_t>(i * 7);
  if (efi) {
    b[0] = 'M';
    b[1] = 'Z';
  }
  put_le(b, 8, 0x200000, 8);       // text_offset
  put_le(b, 16, image_size, 8);    // image_size
  put_le(b, 24, flags, 8);         // flags
  put_le(b, 32, 0x2, 4);           // version 0.2
  put_le(b, 48, 0x5643534952, 8);  // "RISCV"
  b[0x38] = 'R';
  b[0x39] = 'S';
  b[0x3a] = 'C';
  b[0x3b] = 0x05;
  return b;
}

inline std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> b(size);
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 8));
  return b;
}

}  // namespace ferry::test_util
