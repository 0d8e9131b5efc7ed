#include "chardev/chardev_spec.h"

#include "util/option_list.h"

#include <vector>

namespace ferry {
namespace {

std::vector<std::string> split_commas(std::string_view s) { return split_option_list(s); }

// Applies socket options (everything after the address) to `spec`.
bool parse_socket_options(const std::vector<std::string>& opts, ChardevSpec* spec,
                          std::string* error) {
  bool wait_given = false;
  for (const std::string& opt : opts) {
    std::string key = opt;
    std::string value = "on";
    size_t eq = opt.find('=');
    if (eq != std::string::npos) {
      key = opt.substr(0, eq);
      value = opt.substr(eq + 1);
    } else if (opt == "nowait") {
      key = "wait";
      value = "off";
    }
    bool on = false;
    const bool is_bool = parse_option_bool(value, &on);
    if (key == "server" || key == "wait" || key == "nodelay") {
      if (!is_bool) {
        *error = "chardev '" + spec->text + "': parameter '" + key +
                 "' expects 'on' or 'off'";
        return false;
      }
      if (key == "server") spec->server = on;
      if (key == "wait") {
        spec->wait = on;
        wait_given = true;
      }
      if (key == "nodelay") spec->nodelay = on;
    } else if (key.empty()) {
      *error = "chardev '" + spec->text + "': empty option";
      return false;
    } else {
      *error = "chardev '" + spec->text + "': unsupported option '" + key + "'";
      return false;
    }
  }
  if (!spec->server && wait_given) {
    *error = "chardev '" + spec->text +
             "': 'wait' option is incompatible with socket in client connect mode";
    return false;
  }
  return true;
}

}  // namespace

std::optional<ChardevSpec> parse_chardev_spec(std::string_view text, std::string* error) {
  ChardevSpec spec;
  spec.text = std::string(text);
  std::string_view s = text;
  if (s.substr(0, 4) == "mon:") {
    spec.mux = true;
    s.remove_prefix(4);
    if (s.substr(0, 4) == "mon:") {
      *error = "chardev '" + spec.text + "': 'mon:' given twice";
      return std::nullopt;
    }
  }

  if (s == "none") {
    if (spec.mux) {
      *error = "chardev '" + spec.text + "': 'mon:' needs a device";
      return std::nullopt;
    }
    spec.kind = ChardevSpec::Kind::kNone;
    return spec;
  }
  if (s == "null") {
    spec.kind = ChardevSpec::Kind::kNull;
    return spec;
  }
  if (s == "stdio") {
    spec.kind = ChardevSpec::Kind::kStdio;
    return spec;
  }
  if (s.substr(0, 5) == "file:") {
    spec.kind = ChardevSpec::Kind::kFile;
    spec.path = std::string(s.substr(5));
    if (spec.path.empty()) {
      *error = "chardev '" + spec.text + "': file name is missing";
      return std::nullopt;
    }
    return spec;
  }
  if (s.substr(0, 5) == "unix:") {
    spec.kind = ChardevSpec::Kind::kUnix;
    std::vector<std::string> parts = split_commas(s.substr(5));
    spec.path = parts[0];
    if (spec.path.empty()) {
      *error = "chardev '" + spec.text + "': socket path is missing";
      return std::nullopt;
    }
    parts.erase(parts.begin());
    if (!parse_socket_options(parts, &spec, error)) return std::nullopt;
    return spec;
  }
  if (s.substr(0, 4) == "tcp:") {
    spec.kind = ChardevSpec::Kind::kTcp;
    std::vector<std::string> parts = split_commas(s.substr(4));
    std::string addr = parts[0];
    parts.erase(parts.begin());
    std::string host;
    std::string port;
    if (!addr.empty() && addr[0] == '[') {
      size_t close = addr.find(']');
      if (close == std::string::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
        *error = "chardev '" + spec.text + "': expected [HOST]:PORT";
        return std::nullopt;
      }
      host = addr.substr(1, close - 1);
      port = addr.substr(close + 2);
    } else {
      size_t colon = addr.rfind(':');
      if (colon == std::string::npos) {
        *error = "chardev '" + spec.text + "': expected HOST:PORT";
        return std::nullopt;
      }
      host = addr.substr(0, colon);
      port = addr.substr(colon + 1);
    }
    if (port.empty()) {
      *error = "chardev '" + spec.text + "': port is missing";
      return std::nullopt;
    }
    spec.host = host;
    spec.port = port;
    if (!parse_socket_options(parts, &spec, error)) return std::nullopt;
    return spec;
  }

  // Known QEMU backends ferry does not implement get a specific message.
  std::string_view name = s.substr(0, s.find_first_of(":,"));
  static constexpr std::string_view kUnsupported[] = {
      "pty", "vc", "pipe", "telnet", "websocket", "udp", "serial", "tty",
      "parallel", "braille", "msmouse", "spicevmc", "spiceport", "chardev",
      "console", "ringbuf", "memory", "testdev", "qemu-vdagent", "dbus"};
  for (std::string_view u : kUnsupported) {
    if (name == u) {
      *error = "chardev '" + spec.text + "': backend '" + std::string(name) +
               "' is not supported (use stdio, null, none, file:, unix: or tcp:)";
      return std::nullopt;
    }
  }
  *error = "chardev '" + spec.text + "': unknown backend '" + std::string(name) + "'";
  return std::nullopt;
}

}  // namespace ferry
