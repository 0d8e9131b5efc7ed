// ChardevSpec: a parsed QEMU-style character device spec, as written after
// -serial, -monitor and -qmp.
//
// Accepted spellings (QEMU's legacy chardev syntax):
//   none                      no device at all
//   null                      discards output, never has input
//   stdio                     the process's stdin/stdout
//   file:PATH                 output appended to PATH (truncated first)
//   unix:PATH[,opts]          UNIX socket; server or client
//   tcp:[HOST]:PORT[,opts]    TCP socket; HOST may be [v6-address]; empty
//                             HOST = every address (server) / localhost
//   mon:SPEC                  SPEC shared between a device and a monitor
//                             (QEMU's mux; Ctrl-A c switches)
// Socket options: `server`, `server=on|off`, `nowait`, `wait=on|off`,
// `nodelay`, `nodelay=on|off`. As in QEMU a server waits for its first
// client before the VM starts unless `nowait`/`wait=off` is given.
// Anything else (pty, pipe:, vc, telnet, udp:, …) is rejected with a
// message naming it.
//
// Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry {

struct ChardevSpec {
  enum class Kind { kNone, kNull, kStdio, kFile, kUnix, kTcp };

  Kind kind = Kind::kNone;
  bool mux = false;    // "mon:" prefix
  std::string path;    // file, unix
  std::string host;    // tcp ("" = any / localhost)
  std::string port;    // tcp (a number or a service name)
  bool server = false;
  bool wait = true;    // only meaningful for servers
  bool nodelay = false;
  std::string text;    // the spec as written

  bool is_socket() const { return kind == Kind::kUnix || kind == Kind::kTcp; }
  bool uses_stdio() const { return kind == Kind::kStdio; }
};

// Parses `spec`; on failure returns nullopt and sets `*error` to a message
// naming the problem (without a "ferry:" prefix).
std::optional<ChardevSpec> parse_chardev_spec(std::string_view spec, std::string* error);

}  // namespace ferry
