#include "monitor/command_context.h"

#include <unistd.h>

namespace ferry {

CommandContext::~CommandContext() {
  close_received_fds();
  for (auto& [name, fd] : named_fds_) close(fd);
}

void CommandContext::add_received_fds(const std::vector<int>& fds) {
  received_fds_.insert(received_fds_.end(), fds.begin(), fds.end());
}

int CommandContext::take_received_fd() {
  if (received_fds_.empty()) return -1;
  int fd = received_fds_.front();
  received_fds_.erase(received_fds_.begin());
  return fd;
}

void CommandContext::close_received_fds() {
  for (int fd : received_fds_) close(fd);
  received_fds_.clear();
}

void CommandContext::set_named_fd(const std::string& name, int fd) {
  auto it = named_fds_.find(name);
  if (it != named_fds_.end()) {
    if (it->second != fd) close(it->second);
    it->second = fd;
    return;
  }
  named_fds_.emplace(name, fd);
}

int CommandContext::named_fd(std::string_view name) const {
  auto it = named_fds_.find(name);
  return it == named_fds_.end() ? -1 : it->second;
}

int CommandContext::take_named_fd(std::string_view name) {
  auto it = named_fds_.find(name);
  if (it == named_fds_.end()) return -1;
  int fd = it->second;
  named_fds_.erase(it);
  return fd;
}

bool CommandContext::close_named_fd(std::string_view name) {
  int fd = take_named_fd(name);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace ferry
