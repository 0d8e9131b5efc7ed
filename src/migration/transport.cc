#include "migration/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "migration/exec_channel.h"

namespace ferry {

namespace {

std::string errno_text() { return std::strerror(errno); }

bool is_number(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

bool is_socket(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

void tune_socket(int fd) {
  // No SO_SNDBUF/SO_RCVBUF: setting them turns off the kernel's buffer
  // autotuning, which does better on fast links.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool fill_unix_address(const std::string& path, sockaddr_un& addr, std::string* error) {
  if (path.size() >= sizeof addr.sun_path) {
    *error = "UNIX socket path '" + path + "' is too long";
    return false;
  }
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

// connect() that gives up after the deadline or when cancelled. Returns 0 or
// an errno value (ETIMEDOUT, ECANCELED).
int connect_bounded(int fd, const sockaddr* addr, socklen_t len, const OutgoingOptions& opts) {
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int err = 0;
  if (connect(fd, addr, len) != 0) {
    err = errno;
    if (err == EINPROGRESS || err == EAGAIN) {
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::milliseconds(opts.connect_timeout_ms);
      for (;;) {
        if (opts.cancel && opts.cancel->load()) {
          err = ECANCELED;
          break;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now()).count();
        if (opts.connect_timeout_ms > 0 && left <= 0) {
          err = ETIMEDOUT;
          break;
        }
        pollfd p{fd, POLLOUT, 0};
        const int n = poll(&p, 1, 100);
        if (n < 0 && errno != EINTR) {
          err = errno;
          break;
        }
        if (n > 0) {
          socklen_t elen = sizeof err;
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
          break;
        }
      }
    }
  }
  fcntl(fd, F_SETFL, flags);
  return err;
}

std::string connect_error_text(int err, const OutgoingOptions& opts) {
  if (err == ETIMEDOUT && opts.connect_timeout_ms > 0)
    return "no connection within " + std::to_string(opts.connect_timeout_ms) +
           " ms (connect-timeout)";
  if (err == ECANCELED) return "cancelled";
  return std::strerror(err);
}

int connect_tcp(const std::string& host, const std::string& port, const OutgoingOptions& opts,
                std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "cannot resolve '" + host + ":" + port + "': " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int err = connect_bounded(fd, ai->ai_addr, ai->ai_addrlen, opts);
    if (err == 0) break;
    last = connect_error_text(err, opts);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) *error = "could not connect to tcp:" + host + ":" + port + ": " + last;
  else tune_socket(fd);
  return fd;
}

class SocketEndpoint : public IncomingEndpoint {
 public:
  SocketEndpoint(int fd, std::string description, std::string unlink_path)
      : fd_(fd), description_(std::move(description)), unlink_path_(std::move(unlink_path)) {}
  ~SocketEndpoint() override {
    close(fd_);
    if (!unlink_path_.empty()) unlink(unlink_path_.c_str());
  }
  std::unique_ptr<Channel> accept(const std::atomic<bool>& stop, std::string* error) override {
    while (!stop.load()) {
      pollfd p{fd_, POLLIN, 0};
      const int n = poll(&p, 1, 100);
      if (n < 0 && errno != EINTR) {
        *error = "poll on " + description_ + " failed: " + errno_text();
        return nullptr;
      }
      if (n <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        *error = "accept on " + description_ + " failed: " + errno_text();
        return nullptr;
      }
      tune_socket(c);
      return std::make_unique<FdChannel>(c, true, description_);
    }
    return nullptr;
  }
  std::string description() const override { return description_; }

 private:
  int fd_;
  std::string description_;
  std::string unlink_path_;
};

// exec:, fd:, file: on the destination: the channel exists at once.
class ReadyEndpoint : public IncomingEndpoint {
 public:
  ReadyEndpoint(std::unique_ptr<Channel> channel, std::string description)
      : channel_(std::move(channel)), description_(std::move(description)) {}
  std::unique_ptr<Channel> accept(const std::atomic<bool>&, std::string* error) override {
    if (!channel_) *error = description_ + " was already used";
    return std::move(channel_);
  }
  std::string description() const override { return description_; }

 private:
  std::unique_ptr<Channel> channel_;
  std::string description_;
};

int resolve_fd(const MigrationUri& uri, const FdResolver& fds, std::string* error) {
  int fd = -1;
  if (is_number(uri.fd)) {
    fd = dup(std::stoi(uri.fd));
    if (fd < 0) *error = "descriptor " + uri.fd + " is not open: " + errno_text();
    else fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
  }
  if (fds) fd = fds(uri.fd);
  if (fd < 0) *error = "no file descriptor named '" + uri.fd + "' (pass one with getfd first)";
  return fd;
}

}  // namespace

std::optional<MigrationUri> parse_migration_uri(const std::string& uri, std::string* error) {
  MigrationUri u;
  u.text = uri;
  const auto colon = uri.find(':');
  const std::string scheme = colon == std::string::npos ? uri : uri.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : uri.substr(colon + 1);
  if (scheme == "tcp") {
    u.kind = MigrationUri::Kind::kTcp;
    std::string hostport = rest;
    const auto opts = hostport.find(',');
    if (opts != std::string::npos) hostport = hostport.substr(0, opts);
    const auto last = hostport.rfind(':');
    if (last == std::string::npos || last + 1 == hostport.size()) {
      *error = "invalid migration URI '" + uri + "': expected tcp:HOST:PORT";
      return std::nullopt;
    }
    u.host = hostport.substr(0, last);
    u.port = hostport.substr(last + 1);
    if (u.host.size() >= 2 && u.host.front() == '[' && u.host.back() == ']')
      u.host = u.host.substr(1, u.host.size() - 2);
    if (!is_number(u.port) || std::stoul(u.port) > 65535) {
      *error = "invalid migration URI '" + uri + "': port '" + u.port + "' is not a number";
      return std::nullopt;
    }
    return u;
  }
  if (scheme == "unix" || scheme == "file") {
    u.kind = scheme == "unix" ? MigrationUri::Kind::kUnix : MigrationUri::Kind::kFile;
    u.path = rest;
    if (scheme == "file") {
      const auto opts = u.path.find(',');
      if (opts != std::string::npos) u.path = u.path.substr(0, opts);
    }
    if (u.path.empty()) {
      *error = "invalid migration URI '" + uri + "': missing path";
      return std::nullopt;
    }
    return u;
  }
  if (scheme == "exec") {
    u.kind = MigrationUri::Kind::kExec;
    u.command = rest;
    if (u.command.empty()) {
      *error = "invalid migration URI '" + uri + "': missing command";
      return std::nullopt;
    }
    return u;
  }
  if (scheme == "fd") {
    u.kind = MigrationUri::Kind::kFd;
    u.fd = rest;
    if (u.fd.empty()) {
      *error = "invalid migration URI '" + uri + "': missing descriptor";
      return std::nullopt;
    }
    return u;
  }
  *error = "unknown migration protocol: '" + uri +
           "' (expected tcp:, unix:, exec:, fd: or file:)";
  return std::nullopt;
}

std::unique_ptr<Channel> open_outgoing(const MigrationUri& uri, const FdResolver& fds,
                                       std::string* error, const OutgoingOptions& opts) {
  switch (uri.kind) {
    case MigrationUri::Kind::kTcp: {
      const int fd = connect_tcp(uri.host, uri.port, opts, error);
      if (fd < 0) return nullptr;
      return std::make_unique<FdChannel>(fd, true, uri.text);
    }
    case MigrationUri::Kind::kUnix: {
      sockaddr_un addr;
      if (!fill_unix_address(uri.path, addr, error)) return nullptr;
      const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const int err = fd < 0 ? errno
                             : connect_bounded(fd, reinterpret_cast<sockaddr*>(&addr),
                                               sizeof addr, opts);
      if (err != 0) {
        *error = "could not connect to unix:" + uri.path + ": " + connect_error_text(err, opts);
        if (fd >= 0) close(fd);
        return nullptr;
      }
      return std::make_unique<FdChannel>(fd, true, uri.text);
    }
    case MigrationUri::Kind::kExec:
      return spawn_exec(uri.command,
                        opts.exec_return_path ? ExecDirection::kBoth : ExecDirection::kToChild,
                        error);
    case MigrationUri::Kind::kFd: {
      const int fd = resolve_fd(uri, fds, error);
      if (fd < 0) return nullptr;
      return std::make_unique<FdChannel>(fd, is_socket(fd), uri.text);
    }
    case MigrationUri::Kind::kFile: {
      const int fd = open(uri.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) {
        *error = "could not open '" + uri.path + "' for writing: " + errno_text();
        return nullptr;
      }
      return std::make_unique<FdChannel>(fd, false, uri.text);
    }
  }
  return nullptr;
}

std::unique_ptr<IncomingEndpoint> open_incoming(const MigrationUri& uri, const FdResolver& fds,
                                                std::string* error) {
  switch (uri.kind) {
    case MigrationUri::Kind::kTcp: {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_PASSIVE;
      addrinfo* res = nullptr;
      const std::string host = uri.host;
      const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), uri.port.c_str(), &hints, &res);
      if (rc != 0) {
        *error = "cannot resolve '" + uri.text + "': " + gai_strerror(rc);
        return nullptr;
      }
      int fd = -1;
      std::string last = "no address";
      for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0) break;
        last = errno_text();
        close(fd);
        fd = -1;
      }
      freeaddrinfo(res);
      if (fd < 0) {
        *error = "could not listen on " + uri.text + ": " + last;
        return nullptr;
      }
      return std::make_unique<SocketEndpoint>(fd, uri.text, "");
    }
    case MigrationUri::Kind::kUnix: {
      sockaddr_un addr;
      if (!fill_unix_address(uri.path, addr, error)) return nullptr;
      unlink(uri.path.c_str());
      const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          listen(fd, 1) != 0) {
        *error = "could not listen on unix:" + uri.path + ": " + errno_text();
        if (fd >= 0) close(fd);
        return nullptr;
      }
      return std::make_unique<SocketEndpoint>(fd, uri.text, uri.path);
    }
    case MigrationUri::Kind::kExec: {
      auto ch = spawn_exec(uri.command, ExecDirection::kFromChild, error);
      if (!ch) return nullptr;
      return std::make_unique<ReadyEndpoint>(std::move(ch), uri.text);
    }
    case MigrationUri::Kind::kFd: {
      const int fd = resolve_fd(uri, fds, error);
      if (fd < 0) return nullptr;
      return std::make_unique<ReadyEndpoint>(
          std::make_unique<FdChannel>(fd, is_socket(fd), uri.text), uri.text);
    }
    case MigrationUri::Kind::kFile: {
      const int fd = open(uri.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        *error = "could not open '" + uri.path + "': " + errno_text();
        return nullptr;
      }
      return std::make_unique<ReadyEndpoint>(std::make_unique<FdChannel>(fd, false, uri.text),
                                             uri.text);
    }
  }
  return nullptr;
}

}  // namespace ferry
