#include "util/event_loop.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace ferry {
namespace {

struct Pipe {
  int r = -1;
  int w = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
  void put(const std::string& s) { ASSERT_EQ(write(w, s.data(), s.size()), (ssize_t)s.size()); }
};

TEST(EventLoopTest, FdCallbackSeesReadableData) {
  EventLoop loop;
  Pipe p;
  std::string got;
  loop.add_fd(p.r, POLLIN, [&](short revents) {
    EXPECT_TRUE(revents & POLLIN);
    char buf[16];
    ssize_t n = read(p.r, buf, sizeof(buf));
    got.append(buf, n > 0 ? n : 0);
  });
  p.put("abc");
  loop.run_once(1000);
  EXPECT_EQ(got, "abc");
  EXPECT_TRUE(loop.has_fd(p.r));
}

TEST(EventLoopTest, RemovingOwnFdInsideCallbackIsSafe) {
  EventLoop loop;
  Pipe p;
  int calls = 0;
  loop.add_fd(p.r, POLLIN, [&](short) {
    ++calls;
    loop.remove_fd(p.r);  // destroys the watch while its callback runs
  });
  p.put("x");
  loop.run_once(1000);
  loop.run_once(0);
  loop.run_once(0);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop.has_fd(p.r));
}

TEST(EventLoopTest, FdRemovedByEarlierCallbackIsNotCalled) {
  EventLoop loop;
  Pipe a, b;
  int a_calls = 0, b_calls = 0;
  // Both ready in the same round; whichever runs first removes the other.
  loop.add_fd(a.r, POLLIN, [&](short) {
    ++a_calls;
    loop.remove_fd(b.r);
    loop.remove_fd(a.r);
  });
  loop.add_fd(b.r, POLLIN, [&](short) {
    ++b_calls;
    loop.remove_fd(a.r);
    loop.remove_fd(b.r);
  });
  a.put("1");
  b.put("2");
  loop.run_once(1000);
  EXPECT_EQ(a_calls + b_calls, 1);
}

TEST(EventLoopTest, ReplacingWatchInsideCallback) {
  EventLoop loop;
  Pipe p;
  int first = 0, second = 0;
  loop.add_fd(p.r, POLLIN, [&](short) {
    ++first;
    char c;
    (void)!read(p.r, &c, 1);
    loop.add_fd(p.r, POLLIN, [&](short) {
      ++second;
      char d;
      (void)!read(p.r, &d, 1);
    });
  });
  p.put("a");
  loop.run_once(1000);
  p.put("b");
  loop.run_once(1000);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
}

TEST(EventLoopTest, SetFdEventsSwitchesToPollout) {
  EventLoop loop;
  Pipe p;
  short seen = 0;
  loop.add_fd(p.w, 0, [&](short revents) { seen = revents; });
  loop.run_once(0);
  EXPECT_EQ(seen, 0);
  loop.set_fd_events(p.w, POLLOUT);
  loop.run_once(1000);
  EXPECT_TRUE(seen & POLLOUT);
}

TEST(EventLoopTest, HangupIsReported) {
  EventLoop loop;
  Pipe p;
  short seen = 0;
  loop.add_fd(p.r, POLLIN, [&](short revents) {
    seen = revents;
    loop.remove_fd(p.r);
  });
  close(p.w);
  p.w = -1;
  loop.run_once(1000);
  EXPECT_TRUE(seen & POLLHUP);
}

TEST(EventLoopTest, TimersFireInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  loop.add_timer(30, [&] { order.push_back(3); });
  loop.add_timer(10, [&] { order.push_back(1); });
  loop.add_timer(20, [&] {
    order.push_back(2);
  });
  loop.add_timer(40, [&] { loop.quit(); });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoopTest, CancelledTimerNeverFires) {
  EventLoop loop;
  bool fired = false;
  EventLoop::TimerId id = loop.add_timer(5, [&] { fired = true; });
  EXPECT_TRUE(loop.cancel_timer(id));
  EXPECT_FALSE(loop.cancel_timer(id));
  loop.add_timer(20, [&] { loop.quit(); });
  loop.run();
  EXPECT_FALSE(fired);
}

TEST(EventLoopTest, TimerWaitsAtLeastItsDelay) {
  EventLoop loop;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point fired_at;
  loop.add_timer(30, [&] {
    fired_at = std::chrono::steady_clock::now();
    loop.quit();
  });
  loop.run();
  EXPECT_GE(fired_at - start, std::chrono::milliseconds(30));
}

TEST(EventLoopTest, TimerCallbackCanCancelAnotherAndAddMore) {
  EventLoop loop;
  int count = 0;
  EventLoop::TimerId later = loop.add_timer(15, [&] { count += 100; });
  loop.add_timer(5, [&] {
    ++count;
    loop.cancel_timer(later);
    loop.add_timer(0, [&] {
      ++count;
      loop.quit();
    });
  });
  loop.run();
  EXPECT_EQ(count, 2);
}

TEST(EventLoopTest, PostFromAnotherThreadWakesTheLoop) {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.post([&] {
      ran = 1;
      loop.quit();
    });
  });
  loop.run();  // would block forever without the wakeup
  t.join();
  EXPECT_EQ(ran.load(), 1);
}

TEST(EventLoopTest, PostedTasksRunInOrder) {
  EventLoop loop;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop.post([&, i] { order.push_back(i); });
  loop.post([&] { loop.quit(); });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoopTest, ManyThreadsPosting) {
  EventLoop loop;
  std::atomic<int> count{0};
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) loop.post([&] {
          if (++count == kThreads * kEach) loop.quit();
        });
    });
  }
  loop.run();
  for (auto& t : threads) t.join();
  EXPECT_EQ(count.load(), kThreads * kEach);
}

TEST(EventLoopTest, QuitFromAnotherThread) {
  EventLoop loop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.quit();
  });
  loop.run();
  t.join();
  SUCCEED();
}

TEST(EventLoopTest, QuitBeforeRunReturnsAndRunCanRestart) {
  EventLoop loop;
  loop.quit();
  loop.run();  // returns at once
  EXPECT_FALSE(loop.quit_requested());
  bool ran = false;
  loop.post([&] {
    ran = true;
    loop.quit();
  });
  loop.run();
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, RunOnceRespectsTimeout) {
  EventLoop loop;
  auto start = std::chrono::steady_clock::now();
  loop.run_once(20);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(15));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(EventLoopTest, InLoopThread) {
  EventLoop loop;
  EXPECT_FALSE(loop.in_loop_thread());
  bool inside = false;
  std::atomic<bool> other{true};
  loop.post([&] {
    inside = loop.in_loop_thread();
    std::thread t([&] { other = loop.in_loop_thread(); });
    t.join();
    loop.quit();
  });
  loop.run();
  EXPECT_TRUE(inside);
  EXPECT_FALSE(other.load());
  EXPECT_FALSE(loop.in_loop_thread());
}

TEST(EventLoopTest, TwoLoopsInOneProcess) {
  EventLoop a, b;
  int a_ran = 0, b_ran = 0;
  a.post([&] { ++a_ran; });
  b.post([&] { ++b_ran; });
  a.run_once(0);
  EXPECT_EQ(a_ran, 1);
  EXPECT_EQ(b_ran, 0);
  b.run_once(0);
  EXPECT_EQ(b_ran, 1);
}

}  // namespace
}  // namespace ferry
