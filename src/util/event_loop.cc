#include "util/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ferry {

EventLoop::EventLoop() {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
}

EventLoop::~EventLoop() {
  for (auto& [fd, watch] : watches_) watch->active = false;
  if (wake_fd_ >= 0) close(wake_fd_);
}

void EventLoop::add_fd(int fd, short events, FdCallback cb) {
  auto it = watches_.find(fd);
  if (it != watches_.end()) it->second->active = false;
  auto watch = std::make_shared<Watch>();
  watch->fd = fd;
  watch->events = events;
  watch->cb = std::move(cb);
  watches_[fd] = std::move(watch);
}

void EventLoop::set_fd_events(int fd, short events) {
  auto it = watches_.find(fd);
  if (it != watches_.end()) it->second->events = events;
}

void EventLoop::remove_fd(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  it->second->active = false;
  watches_.erase(it);
}

bool EventLoop::has_fd(int fd) const { return watches_.count(fd) != 0; }

EventLoop::TimerId EventLoop::add_timer(int64_t ms, std::function<void()> cb) {
  TimerId id = next_timer_id_++;
  Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(ms < 0 ? 0 : ms);
  timers_.emplace(std::make_pair(deadline, id), std::move(cb));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

bool EventLoop::cancel_timer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
  return true;
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(post_mutex_);
    posted_.push_back(std::move(task));
  }
  wake();
}

void EventLoop::quit() {
  quit_.store(true);
  wake();
}

bool EventLoop::in_loop_thread() const {
  return loop_thread_.load() == std::this_thread::get_id();
}

void EventLoop::wake() {
  uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake anyway.
  ssize_t r = write(wake_fd_, &one, sizeof(one));
  (void)r;
}

void EventLoop::drain_wake_fd() {
  uint64_t value;
  while (read(wake_fd_, &value, sizeof(value)) > 0) {
  }
}

void EventLoop::run() {
  std::thread::id previous = loop_thread_.exchange(std::this_thread::get_id());
  while (!quit_.load()) run_once(-1);
  quit_.store(false);
  loop_thread_.store(previous);
}

int EventLoop::compute_timeout(int max_wait_ms) {
  {
    std::lock_guard<std::mutex> lock(post_mutex_);
    if (!posted_.empty()) return 0;
  }
  if (quit_.load()) return 0;
  int timeout = max_wait_ms;
  if (!timers_.empty()) {
    auto until = timers_.begin()->first.first - Clock::now();
    int64_t ms = std::chrono::ceil<std::chrono::milliseconds>(until).count();
    if (ms < 0) ms = 0;
    if (timeout < 0 || ms < timeout) timeout = static_cast<int>(ms);
  }
  return timeout;
}

void EventLoop::run_once(int max_wait_ms) {
  std::thread::id previous = loop_thread_.exchange(std::this_thread::get_id());

  std::vector<pollfd> pfds;
  std::vector<std::shared_ptr<Watch>> polled;
  pfds.reserve(watches_.size() + 1);
  polled.reserve(watches_.size());
  pfds.push_back(pollfd{wake_fd_, POLLIN, 0});
  for (auto& [fd, watch] : watches_) {
    pfds.push_back(pollfd{fd, watch->events, 0});
    polled.push_back(watch);
  }

  int timeout = compute_timeout(max_wait_ms);
  int n = poll(pfds.data(), pfds.size(), timeout);
  if (n < 0 && errno != EINTR) {
    // Only EFAULT/EINVAL/ENOMEM are possible; nothing sensible to do but
    // avoid spinning.
    n = 0;
  }
  if (n > 0) {
    if (pfds[0].revents) drain_wake_fd();
    for (size_t i = 1; i < pfds.size(); ++i) {
      short revents = pfds[i].revents;
      if (!revents) continue;
      // Hold a reference so the callback survives its own remove_fd().
      std::shared_ptr<Watch> watch = polled[i - 1];
      if (!watch->active) continue;
      watch->cb(revents);
    }
  }
  run_timers();
  run_posted();

  loop_thread_.store(previous);
}

void EventLoop::run_timers() {
  Clock::time_point now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto it = timers_.begin();
    std::function<void()> cb = std::move(it->second);
    timer_deadlines_.erase(it->first.second);
    timers_.erase(it);
    cb();
  }
}

void EventLoop::run_posted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(post_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

}  // namespace ferry
