// CommandContext: what a monitor command may know about the monitor that
// runs it — QMP or human, the QMP session's negotiation state, and file
// descriptors.
//
// File descriptors:
//   - received fds: passed by the client over a UNIX socket (SCM_RIGHTS)
//     with its input; the monitor adds them as they arrive, oldest first.
//     A command such as `getfd` claims one with take_received_fd(). Fds
//     nobody claimed are closed when the client disconnects.
//   - named fds: kept by the monitor under a name (QEMU's getfd/closefd
//     store), across client reconnections, until closed or the monitor is
//     destroyed. `migrate fd:NAME` looks them up here.
// The context owns every fd it holds and closes them in its destructor.
//
// Threading: main thread only (like the monitors).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

// Per-connection QMP state (reset whenever a client connects).
struct QmpSessionState {
  bool negotiated = false;   // qmp_capabilities accepted
  bool oob_enabled = false;  // "oob" capability enabled
};

class CommandContext {
 public:
  enum class Kind { kQmp, kHmp };

  explicit CommandContext(Kind kind) : kind_(kind) {}
  ~CommandContext();
  CommandContext(const CommandContext&) = delete;
  CommandContext& operator=(const CommandContext&) = delete;

  Kind kind() const { return kind_; }
  bool is_qmp() const { return kind_ == Kind::kQmp; }
  // Null for the human monitor.
  QmpSessionState* qmp_session() { return is_qmp() ? &session_ : nullptr; }
  const QmpSessionState* qmp_session() const { return is_qmp() ? &session_ : nullptr; }

  void add_received_fds(const std::vector<int>& fds);
  // The oldest unclaimed received fd, now owned by the caller; -1 if none.
  int take_received_fd();
  size_t received_fd_count() const { return received_fds_.size(); }
  void close_received_fds();

  // Stores `fd` under `name`, closing any fd the name had.
  void set_named_fd(const std::string& name, int fd);
  // The fd stored under `name` (still owned by the context); -1 if none.
  int named_fd(std::string_view name) const;
  // Removes `name` and hands its fd to the caller; -1 if none.
  int take_named_fd(std::string_view name);
  // Closes and removes `name`; false when there was no such fd.
  bool close_named_fd(std::string_view name);

 private:
  Kind kind_;
  QmpSessionState session_;
  std::vector<int> received_fds_;
  std::map<std::string, int, std::less<>> named_fds_;
};

}  // namespace ferry
