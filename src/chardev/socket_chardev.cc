#include "chardev/socket_chardev.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace ferry {
namespace {

constexpr size_t kMaxPendingOutput = 16u << 20;
constexpr size_t kMaxReceivedFds = 64;
constexpr int kMaxFdsPerMessage = 16;
constexpr int kFlushTimeoutMs = 1000;

void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool make_unix_address(const std::string& path, sockaddr_un* addr, std::string* error) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) {
    *error = "UNIX socket path '" + path + "' is too long";
    return false;
  }
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

SocketChardev::SocketChardev(EventLoop& loop, std::string label)
    : loop_(loop), label_(std::move(label)) {}

std::unique_ptr<SocketChardev> SocketChardev::create(EventLoop& loop, const ChardevSpec& spec,
                                                     std::string* error) {
  if (!spec.is_socket()) {
    *error = "chardev '" + spec.text + "' is not a socket";
    return nullptr;
  }
  std::unique_ptr<SocketChardev> chr(new SocketChardev(loop, spec.text));
  chr->is_unix_ = spec.kind == ChardevSpec::Kind::kUnix;
  chr->tcp_nodelay_ = spec.nodelay;
  bool ok = spec.server ? chr->listen_on(spec, error) : chr->connect_to(spec, error);
  if (!ok) return nullptr;
  if (spec.server && spec.wait) {
    std::fprintf(stderr, "ferry: waiting for connection on: %s\n", spec.text.c_str());
    pollfd pfd{chr->listen_fd_, POLLIN, 0};
    while (true) {
      int n = poll(&pfd, 1, -1);
      if (n < 0 && errno != EINTR) {
        *error = "chardev '" + spec.text + "': poll: " + errno_text();
        return nullptr;
      }
      int fd = accept4(chr->listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        chr->attach_client(fd);
        break;
      }
    }
  } else if (spec.server) {
    chr->watch_listener();
  }
  return chr;
}

std::unique_ptr<SocketChardev> SocketChardev::adopt(EventLoop& loop, int fd, std::string label) {
  std::unique_ptr<SocketChardev> chr(new SocketChardev(loop, std::move(label)));
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  chr->is_unix_ = getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
                  addr.ss_family == AF_UNIX;
  set_nonblocking(fd);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  chr->attach_client(fd);
  return chr;
}

SocketChardev::~SocketChardev() {
  *alive_ = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_locked(kFlushTimeoutMs / 2);
    if (client_fd_ >= 0) {
      loop_.remove_fd(client_fd_);
      close(client_fd_);
      client_fd_ = -1;
    }
  }
  if (listen_fd_ >= 0) {
    loop_.remove_fd(listen_fd_);
    close(listen_fd_);
  }
  if (!unix_server_path_.empty()) unlink(unix_server_path_.c_str());
  for (int fd : received_fds_) close(fd);
}

bool SocketChardev::listen_on(const ChardevSpec& spec, std::string* error) {
  if (is_unix_) {
    sockaddr_un addr;
    if (!make_unix_address(spec.path, &addr, error)) return false;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      *error = "socket: " + errno_text();
      return false;
    }
    unlink(spec.path.c_str());  // a stale socket from an earlier run
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 4) != 0) {
      *error = "could not listen on '" + spec.path + "': " + errno_text();
      close(fd);
      return false;
    }
    listen_fd_ = fd;
    unix_server_path_ = spec.path;
    return true;
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const char* host = spec.host.empty() ? nullptr : spec.host.c_str();
  int rc = getaddrinfo(host, spec.port.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "address resolution failed for " + spec.host + ":" + spec.port + ": " +
             gai_strerror(rc);
    return false;
  }
  std::string last_error = "no usable address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0) {
      last_error = errno_text();
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
      int zero = 0;
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0) {
      listen_fd_ = fd;
      break;
    }
    last_error = errno_text();
    close(fd);
  }
  freeaddrinfo(res);
  if (listen_fd_ < 0) {
    *error = "could not listen on " + spec.host + ":" + spec.port + ": " + last_error;
    return false;
  }
  return true;
}

bool SocketChardev::connect_to(const ChardevSpec& spec, std::string* error) {
  if (is_unix_) {
    sockaddr_un addr;
    if (!make_unix_address(spec.path, &addr, error)) return false;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = "socket: " + errno_text();
      return false;
    }
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      *error = "failed to connect to '" + spec.path + "': " + errno_text();
      close(fd);
      return false;
    }
    set_nonblocking(fd);
    attach_client(fd);
    return true;
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string host = spec.host.empty() ? "localhost" : spec.host;
  int rc = getaddrinfo(host.c_str(), spec.port.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "address resolution failed for " + host + ":" + spec.port + ": " + gai_strerror(rc);
    return false;
  }
  int connected = -1;
  std::string last_error = "no usable address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = errno_text();
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      connected = fd;
      break;
    }
    last_error = errno_text();
    close(fd);
  }
  freeaddrinfo(res);
  if (connected < 0) {
    *error = "failed to connect to " + host + ":" + spec.port + ": " + last_error;
    return false;
  }
  set_nonblocking(connected);
  attach_client(connected);
  return true;
}

int SocketChardev::local_port() const {
  if (listen_fd_ < 0 || is_unix_) return -1;
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return -1;
}

void SocketChardev::watch_listener() {
  loop_.add_fd(listen_fd_, POLLIN, [this](short) { on_listen_readable(); });
}

void SocketChardev::on_listen_readable() {
  int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;  // EAGAIN, ECONNABORTED…: try again on the next wakeup
  attach_client(fd);
}

void SocketChardev::attach_client(int fd) {
  if (!is_unix_ && tcp_nodelay_) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (listen_fd_ >= 0) loop_.remove_fd(listen_fd_);  // one client at a time
  {
    std::lock_guard<std::mutex> lock(mutex_);
    client_fd_ = fd;
    out_.clear();
    pollout_armed_ = false;
  }
  loop_.add_fd(fd, POLLIN, [this](short revents) { on_client_event(revents); });
  deliver_event(ChardevEvent::kOpened);
}

void SocketChardev::on_client_event(short revents) {
  if (revents & POLLOUT) {
    std::lock_guard<std::mutex> lock(mutex_);
    send_pending_locked();
    if (out_.empty() && client_fd_ >= 0) {
      loop_.set_fd_events(client_fd_, POLLIN);
      pollout_armed_ = false;
    }
  }
  if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) receive();
}

void SocketChardev::receive() {
  int fd;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fd = client_fd_;
  }
  if (fd < 0) return;

  uint8_t buf[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  iovec iov{buf, sizeof(buf)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (is_unix_) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
  }
  ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;

  if (is_unix_ && n >= 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* data = CMSG_DATA(c);
      for (size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, data + i * sizeof(int), sizeof(int));
        received_fds_.push_back(received);
      }
    }
    while (received_fds_.size() > kMaxReceivedFds) {
      close(received_fds_.front());
      received_fds_.erase(received_fds_.begin());
    }
  }

  if (n > 0) {
    deliver_input(buf, static_cast<size_t>(n));
    return;
  }
  close_client();  // end of stream or a hard error
}

void SocketChardev::close_client() {
  int fd;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fd = client_fd_;
    client_fd_ = -1;
    out_.clear();
    pollout_armed_ = false;
  }
  if (fd < 0) return;
  loop_.remove_fd(fd);
  close(fd);
  for (int r : received_fds_) close(r);
  received_fds_.clear();
  if (listen_fd_ >= 0) watch_listener();
  deliver_event(ChardevEvent::kClosed);
}

void SocketChardev::disconnect() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_locked(kFlushTimeoutMs);
  }
  close_client();
}

bool SocketChardev::is_open() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return client_fd_ >= 0;
}

std::vector<int> SocketChardev::take_received_fds() {
  std::vector<int> fds;
  fds.swap(received_fds_);
  return fds;
}

void SocketChardev::send_pending_locked() {
  size_t sent = 0;
  while (sent < out_.size() && client_fd_ >= 0) {
    ssize_t n = send(client_fd_, out_.data() + sent, out_.size() - sent,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // The peer is gone; the main loop notices on its side and closes.
    sent = out_.size();
  }
  out_.erase(0, sent);
}

void SocketChardev::write(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (client_fd_ < 0 || len == 0) return;
  if (out_.size() + len > kMaxPendingOutput) return;  // a client that never reads
  out_.append(reinterpret_cast<const char*>(data), len);
  send_pending_locked();
  if (out_.empty() || pollout_armed_) return;
  // Ask the loop to tell us when the socket drains. set_fd_events belongs
  // to the loop thread, so go through post() from wherever we are.
  pollout_armed_ = true;
  std::weak_ptr<bool> alive = alive_;
  loop_.post([this, alive] {
    auto token = alive.lock();
    if (!token || !*token) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (client_fd_ >= 0 && !out_.empty()) {
      loop_.set_fd_events(client_fd_, POLLIN | POLLOUT);
    } else {
      pollout_armed_ = false;
    }
  });
}

void SocketChardev::flush_locked(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!out_.empty() && client_fd_ >= 0) {
    send_pending_locked();
    if (out_.empty()) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd pfd{client_fd_, POLLOUT, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) break;
  }
}

void SocketChardev::flush_output() {
  std::lock_guard<std::mutex> lock(mutex_);
  flush_locked(kFlushTimeoutMs);
}

}  // namespace ferry
