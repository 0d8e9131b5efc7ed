// SocketChardev: QEMU's "unix:" and "tcp:" backends, server or client.
//
// A server listens and serves one client at a time: while a client is
// connected the listening socket is not polled, so a second client waits
// in the backlog and is accepted when the first leaves (QEMU does the
// same). Each client gets kOpened when accepted and kClosed when it goes.
// A server spec without `nowait`/`wait=off` blocks in create() until the
// first client connects, printing "ferry: waiting for connection on: …" to
// stderr, as QEMU does. A UNIX server replaces a stale socket file at its
// path and removes the file when destroyed.
//
// A client connects in create() and, once the peer closes, stays closed.
//
// Output is non-blocking: what the kernel does not take at once is queued
// (bounded, 16 MiB; beyond that output is dropped) and sent when the socket
// becomes writable. Output written while nobody is connected is dropped.
//
// UNIX sockets also receive file descriptors (SCM_RIGHTS, e.g. for QMP's
// `getfd`): they are collected as they arrive and handed out by
// take_received_fds(); at most 64 are kept (the oldest are closed), and
// unclaimed ones are closed when the client goes.
//
// Threading: write()/flush_output()/is_open() from any thread; the rest on
// the main thread. Handlers run on the main thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chardev/chardev.h"
#include "chardev/chardev_spec.h"
#include "util/event_loop.h"

namespace ferry {

class SocketChardev : public Chardev {
 public:
  // `spec` must be a kUnix or kTcp spec. Returns nullptr and sets `*error`.
  static std::unique_ptr<SocketChardev> create(EventLoop& loop, const ChardevSpec& spec,
                                               std::string* error);
  // Wraps an already connected stream socket (e.g. one end of a
  // socketpair); takes ownership of `fd`.
  static std::unique_ptr<SocketChardev> adopt(EventLoop& loop, int fd, std::string label);
  ~SocketChardev() override;

  void write(const uint8_t* data, size_t len) override;
  using Chardev::write;
  void flush_output() override;
  bool is_open() const override;
  std::vector<int> take_received_fds() override;
  void disconnect() override;
  std::string label() const override { return label_; }

  bool is_server() const { return listen_fd_ >= 0; }
  // TCP server: the port actually bound (handy with port 0); -1 otherwise.
  int local_port() const;

 private:
  SocketChardev(EventLoop& loop, std::string label);

  bool listen_on(const ChardevSpec& spec, std::string* error);
  bool connect_to(const ChardevSpec& spec, std::string* error);
  void watch_listener();
  void on_listen_readable();
  void attach_client(int fd);
  void on_client_event(short revents);
  void receive();
  void close_client();
  // mutex_ held: sends as much of out_ as the socket takes.
  void send_pending_locked();
  void flush_locked(int timeout_ms);

  EventLoop& loop_;
  std::string label_;
  bool is_unix_ = false;
  bool tcp_nodelay_ = false;
  std::string unix_server_path_;  // removed on destruction
  int listen_fd_ = -1;
  std::vector<int> received_fds_;

  // client_fd_ changes only on the main thread, always under mutex_, so
  // writers on other threads can use it under mutex_.
  mutable std::mutex mutex_;
  int client_fd_ = -1;
  std::string out_;
  bool pollout_armed_ = false;

  // Posted tasks check this so they never touch a destroyed chardev.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ferry
