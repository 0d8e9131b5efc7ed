#include "migration/exec_channel.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry {

namespace {

std::string errno_text() { return std::strerror(errno); }

class ExecChannel : public FdChannel {
 public:
  ExecChannel(int read_fd, int write_fd, bool return_path, pid_t pid, std::string command)
      : FdChannel(read_fd, write_fd, return_path, "exec:" + command), pid_(pid) {}
  ~ExecChannel() override {
    if (pid_ > 0) {
      kill(-pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool finish() override {
    if (pid_ <= 0) return true;
    close_write_early();
    int status = 0;
    if (waitpid(pid_, &status, 0) < 0) return false;
    pid_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      set_error(description() + " exited with status " +
                std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
      return false;
    }
    return true;
  }
  // A cancel must not wait for a child that stopped reading: end it, and
  // blocked reads and writes fail at once.
  void shutdown() override {
    if (pid_ > 0) kill(-pid_, SIGKILL);
  }

 private:
  // Gives the child end-of-file on its stdin while the channel keeps a valid
  // descriptor.
  void close_write_early() {
    if (write_fd() < 0) return;
    const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) {
      dup2(null_fd, write_fd());
      close(null_fd);
    }
  }
  pid_t pid_;
};

}  // namespace

std::unique_ptr<Channel> spawn_exec(const std::string& command, ExecDirection direction,
                                    std::string* error) {
  const bool to_child = direction != ExecDirection::kFromChild;
  const bool from_child = direction != ExecDirection::kToChild;
  int in[2] = {-1, -1}, out[2] = {-1, -1};  // child's stdin / stdout pipes
  if ((to_child && pipe2(in, O_CLOEXEC) != 0) || (from_child && pipe2(out, O_CLOEXEC) != 0)) {
    *error = "pipe failed: " + errno_text();
    for (int fd : {in[0], in[1], out[0], out[1]})
      if (fd >= 0) close(fd);
    return nullptr;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    *error = "fork failed: " + errno_text();
    for (int fd : {in[0], in[1], out[0], out[1]})
      if (fd >= 0) close(fd);
    return nullptr;
  }
  if (pid == 0) {
    setpgid(0, 0);  // its own group, so a cancel ends the whole command
    if (to_child) dup2(in[0], 0);
    if (from_child) dup2(out[1], 1);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so the group exists before any kill
  if (to_child) close(in[0]);
  if (from_child) close(out[1]);
  const int read_fd = from_child ? out[0] : -1;
  const int write_fd = to_child ? in[1] : -1;
  return std::make_unique<ExecChannel>(read_fd, write_fd, direction == ExecDirection::kBoth, pid,
                                       command);
}

}  // namespace ferry
