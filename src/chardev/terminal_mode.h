// TerminalRawMode: puts a terminal into raw mode for the serial console /
// monitor on stdio and puts it back.
//
// Raw mode follows QEMU's stdio chardev: no echo, no line editing, no
// CR/LF translation on input, 8-bit characters; output post-processing
// (LF -> CRLF) stays on. With `allow_signals` false (QEMU's -nographic),
// Ctrl-C, Ctrl-Z and Ctrl-\ reach the guest instead of raising signals.
//
// The saved mode is restored by the destructor, at exit(), and when the
// process dies from a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
// SIGABRT) or from SIGINT/SIGTERM/SIGHUP/SIGQUIT left at their default
// action: for those a handler is installed that restores the terminal and
// re-raises the signal. Signals whose disposition the program already set
// are left alone; a program that installs its own SIGTERM handler later
// must make sure the TerminalRawMode is destroyed (or exit() is called).
//
// The terminal is process-wide state, so the copy of the saved mode used by
// the signal and exit handlers is the one process-wide record in this
// module. Nested instances on the same fd are fine (only the outermost
// saves and restores). Threading: construct and destroy on the main thread.
#pragma once

namespace ferry {

class TerminalRawMode {
 public:
  // Does nothing when `fd` is not a terminal (check `active()`).
  TerminalRawMode(int fd, bool allow_signals);
  ~TerminalRawMode();
  TerminalRawMode(const TerminalRawMode&) = delete;
  TerminalRawMode& operator=(const TerminalRawMode&) = delete;

  bool active() const { return active_; }

 private:
  int fd_;
  bool active_ = false;
};

}  // namespace ferry
