// EventLoop: the main thread's poll()-based loop (monitors, serial console,
// incoming connections).
//
// Threading: everything except `post()` and `quit()` must be called on the
// thread that runs the loop (or before `run()` starts / after it returns).
// `post()` and `quit()` may be called from any thread; they wake the loop
// through an eventfd.
//
// Callbacks run on the loop thread, one at a time. A callback may add or
// remove any fd or timer, including removing its own fd: a removed fd's
// callback is never called again, even if poll() already reported it in the
// current round. Posted tasks run in the order they were posted.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ferry {

class EventLoop {
 public:
  using FdCallback = std::function<void(short revents)>;
  using TimerId = uint64_t;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` for `events` (POLLIN, POLLOUT…); replaces an existing watch
  // on the same fd. POLLHUP/POLLERR/POLLNVAL are always reported.
  void add_fd(int fd, short events, FdCallback cb);
  // Changes the events of an existing watch (no-op when `fd` is not watched).
  void set_fd_events(int fd, short events);
  void remove_fd(int fd);
  bool has_fd(int fd) const;

  // One-shot timer firing after `ms` milliseconds (0 = next round).
  TimerId add_timer(int64_t ms, std::function<void()> cb);
  // Returns false when the timer already fired or was cancelled.
  bool cancel_timer(TimerId id);

  // Any thread: runs `task` on the loop thread soon.
  void post(std::function<void()> task);

  // Runs until quit(). A quit() issued before run() makes it return after
  // one round. run() may be called again after it returned.
  void run();
  // One round: waits at most `max_wait_ms` (-1 = until something happens),
  // then dispatches ready fds, expired timers and posted tasks. For tests
  // and for callers that interleave other work.
  void run_once(int max_wait_ms);
  // Any thread.
  void quit();
  bool quit_requested() const { return quit_.load(); }

  // True on the thread currently inside run()/run_once().
  bool in_loop_thread() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Watch {
    int fd;
    short events;
    FdCallback cb;
    bool active = true;
  };

  void wake();
  void drain_wake_fd();
  int compute_timeout(int max_wait_ms);
  void run_timers();
  void run_posted();

  int wake_fd_ = -1;
  std::map<int, std::shared_ptr<Watch>> watches_;
  std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> timers_;
  std::map<TimerId, Clock::time_point> timer_deadlines_;
  TimerId next_timer_id_ = 1;

  std::mutex post_mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> quit_{false};
  std::atomic<std::thread::id> loop_thread_{};
};

}  // namespace ferry
