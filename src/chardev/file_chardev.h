// FileChardev: QEMU's "file:PATH" backend — output goes to a file
// (created, or truncated when it exists); there is no input.
//
// Threading: construct on any thread; write() from any thread (locked).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "chardev/chardev.h"

namespace ferry {

class FileChardev : public Chardev {
 public:
  // Returns nullptr and sets `*error` ("could not open 'PATH': reason").
  static std::unique_ptr<FileChardev> open(const std::string& path, std::string* error);
  ~FileChardev() override;

  void write(const uint8_t* data, size_t len) override;
  using Chardev::write;
  bool is_open() const override { return true; }
  std::string label() const override { return "file:" + path_; }

 private:
  FileChardev(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_;
  std::string path_;
  std::mutex mutex_;
};

}  // namespace ferry
