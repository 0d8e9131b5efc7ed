#include "chardev/file_chardev.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "chardev/fd_io.h"

namespace ferry {

std::unique_ptr<FileChardev> FileChardev::open(const std::string& path, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    *error = "could not open '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<FileChardev>(new FileChardev(fd, path));
}

FileChardev::~FileChardev() { close(fd_); }

void FileChardev::write(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lock(mutex_);
  write_all_fd(fd_, data, len);
}

}  // namespace ferry
