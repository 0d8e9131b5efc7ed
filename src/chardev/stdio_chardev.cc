#include "chardev/stdio_chardev.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "chardev/fd_io.h"

namespace ferry {

StdioChardev::StdioChardev(EventLoop& loop, StdioOptions options)
    : loop_(loop), options_(options) {
  tty_ = isatty(options_.in_fd) == 1;
  if (tty_ && options_.raw_terminal) {
    raw_mode_ = std::make_unique<TerminalRawMode>(options_.in_fd, options_.allow_signals);
  }
  reading_ = true;
  loop_.add_fd(options_.in_fd, POLLIN, [this](short revents) { on_readable(revents); });
}

StdioChardev::~StdioChardev() { stop_reading(); }

void StdioChardev::stop_reading() {
  if (!reading_) return;
  reading_ = false;
  loop_.remove_fd(options_.in_fd);
}

void StdioChardev::on_readable(short revents) {
  if (revents & POLLNVAL) {
    stop_reading();
    return;
  }
  uint8_t buf[4096];
  // poll() said readable (or hung up): one read() does not block.
  ssize_t n = read(options_.in_fd, buf, sizeof(buf));
  if (n > 0) {
    deliver_input(buf, static_cast<size_t>(n));
    return;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  // End of file or a hard error: stop reading, keep the output.
  stop_reading();
}

void StdioChardev::write(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lock(write_mutex_);
  write_all_fd(options_.out_fd, data, len);
}

}  // namespace ferry
