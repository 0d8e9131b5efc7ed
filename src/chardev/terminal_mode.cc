#include "chardev/terminal_mode.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace ferry {
namespace {

// The one process-wide record (see the header): what the signal and exit
// handlers need to put the terminal back. Written only on the main thread
// while `g_saved_active` is false; read by handlers when it is true.
struct SavedTerminal {
  int fd = -1;
  termios mode{};
  int depth = 0;  // nesting count, main thread only
};
SavedTerminal g_saved;
std::atomic<bool> g_saved_active{false};
std::once_flag g_handlers_once;

void restore_saved_terminal() {
  if (g_saved_active.load()) tcsetattr(g_saved.fd, TCSANOW, &g_saved.mode);
}

void on_fatal_signal(int sig) {
  restore_saved_terminal();  // tcsetattr is async-signal-safe
  // SA_RESETHAND put the default action back: die the way we would have.
  raise(sig);
}

void install_handlers() {
  std::atexit(restore_saved_terminal);
  static constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL,  SIGFPE, SIGABRT,
                                     SIGINT,  SIGTERM, SIGHUP, SIGQUIT};
  for (int sig : kSignals) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0) continue;
    bool is_default = !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL;
    if (!is_default) continue;
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigaction(sig, &sa, nullptr);
  }
}

}  // namespace

TerminalRawMode::TerminalRawMode(int fd, bool allow_signals) : fd_(fd) {
  if (!isatty(fd)) return;
  termios mode{};
  if (tcgetattr(fd, &mode) != 0) return;
  if (g_saved.depth == 0) {
    g_saved.fd = fd;
    g_saved.mode = mode;
    g_saved_active.store(true);
    std::call_once(g_handlers_once, install_handlers);
  } else if (g_saved.fd != fd) {
    return;  // a different terminal: leave it alone rather than lose track
  }
  ++g_saved.depth;
  active_ = true;

  termios raw = mode;
  raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_oflag |= OPOST;
  raw.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
  if (!allow_signals) raw.c_lflag &= ~ISIG;
  raw.c_cflag &= ~(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(fd, TCSANOW, &raw);
}

TerminalRawMode::~TerminalRawMode() {
  if (!active_) return;
  if (--g_saved.depth == 0) {
    tcsetattr(fd_, TCSANOW, &g_saved.mode);
    g_saved_active.store(false);
  }
}

}  // namespace ferry
