// Migration transports: turn a URI into a Channel.
//
//   tcp:HOST:PORT   a TCP connection (HOST may be [v6]); return path
//   unix:PATH       a UNIX stream socket; return path
//   exec:COMMAND    the stream goes to COMMAND's stdin (source) or comes from
//                   its stdout (destination), run with /bin/sh -c; a return path
//                   (the command's stdout) only with the return-path capability
//   fd:N | fd:NAME  an open descriptor (a number, or a name given to `getfd`);
//                   return path when it is a socket
//   file:PATH       a file written (source) or read (destination); no return path
// A transport only connects; it knows nothing of what travels on the channel.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "migration/channel.h"

namespace ferry {

struct MigrationUri {
  enum class Kind { kTcp, kUnix, kExec, kFd, kFile };
  Kind kind;
  std::string host, port;  // tcp
  std::string path;        // unix, file
  std::string command;     // exec
  std::string fd;          // fd: a number or a name
  std::string text;        // as given
};

// Parses a URI; on failure returns nullopt with a message naming the problem.
std::optional<MigrationUri> parse_migration_uri(const std::string& uri, std::string* error);

// Turns "fd:NAME" into a descriptor the caller then owns (-1 when unknown).
using FdResolver = std::function<int(const std::string& name)>;

struct OutgoingOptions {
  int connect_timeout_ms = 0;                // 0: no deadline
  const std::atomic<bool>* cancel = nullptr;  // checked while connecting
  bool exec_return_path = false;              // exec: reads the command's stdout back
};

// Source side: connects / opens. nullptr with *error on failure.
std::unique_ptr<Channel> open_outgoing(const MigrationUri& uri, const FdResolver& fds,
                                       std::string* error, const OutgoingOptions& opts = {});

// Destination side: a listening socket (tcp/unix) or a ready source
// (exec/fd/file). accept() blocks until a peer connects, `stop` turns true
// (then nullptr), or an error occurs.
class IncomingEndpoint {
 public:
  virtual ~IncomingEndpoint() = default;
  virtual std::unique_ptr<Channel> accept(const std::atomic<bool>& stop, std::string* error) = 0;
  // Where it listens, for messages ("tcp:127.0.0.1:4444").
  virtual std::string description() const = 0;
};
std::unique_ptr<IncomingEndpoint> open_incoming(const MigrationUri& uri, const FdResolver& fds,
                                                std::string* error);

}  // namespace ferry
