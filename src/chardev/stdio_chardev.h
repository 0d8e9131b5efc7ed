// StdioChardev: the process's stdin/stdout as a character device.
//
// Input is read on the EventLoop. When stdin is a terminal it is put into
// raw mode (see TerminalRawMode) for the lifetime of the chardev. When
// stdin reaches end of file or fails (a pipe in tests, /dev/null), reading
// stops quietly: the chardev stays open for output, nothing exits, nothing
// spins. Output is written straight to the output fd, blocking, under a
// lock; writers on several threads may interleave whole write() calls but
// never corrupt each other.
//
// Note: writing to a stdout whose reader went away raises SIGPIPE; the
// program should ignore SIGPIPE (ferry's main does).
//
// Threading: construct, destroy and set handlers on the main thread;
// write() from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "chardev/chardev.h"
#include "chardev/terminal_mode.h"
#include "util/event_loop.h"

namespace ferry {

struct StdioOptions {
  int in_fd = 0;
  int out_fd = 1;
  // Raw mode when `in_fd` is a terminal.
  bool raw_terminal = true;
  // Keep Ctrl-C & co. as signals (QEMU: on, except with -nographic).
  bool allow_signals = true;
};

class StdioChardev : public Chardev {
 public:
  explicit StdioChardev(EventLoop& loop, StdioOptions options = {});
  ~StdioChardev() override;

  void write(const uint8_t* data, size_t len) override;
  using Chardev::write;
  bool is_open() const override { return true; }
  bool is_tty() const override { return tty_; }
  std::string label() const override { return "stdio"; }

  // False once stdin reached end of file (or failed).
  bool reading() const { return reading_; }

 private:
  void on_readable(short revents);
  void stop_reading();

  EventLoop& loop_;
  StdioOptions options_;
  bool tty_ = false;
  bool reading_ = false;
  std::unique_ptr<TerminalRawMode> raw_mode_;
  std::mutex write_mutex_;
};

}  // namespace ferry
