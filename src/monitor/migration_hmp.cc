#include "monitor/migration_hmp.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <limits>

namespace ferry {
namespace {

// Power-of-1024 multiplier of a size suffix; 0 when `c` is none.
uint64_t suffix_multiplier(char c) {
  switch (c) {
    case 'B': case 'b': return 1;
    case 'K': case 'k': return uint64_t{1} << 10;
    case 'M': case 'm': return uint64_t{1} << 20;
    case 'G': case 'g': return uint64_t{1} << 30;
    case 'T': case 't': return uint64_t{1} << 40;
    case 'P': case 'p': return uint64_t{1} << 50;
    case 'E': case 'e': return uint64_t{1} << 60;
    default: return 0;
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A plain unsigned decimal number.
std::optional<uint64_t> parse_uint(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// A member as an unsigned number (0 when absent or not a number).
uint64_t u64(const QmpJson& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    return v < 0 ? 0 : static_cast<uint64_t>(v);
  }
  double d = it->get<double>();
  return d < 0 ? 0 : static_cast<uint64_t>(d);
}

double number(const QmpJson& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  return it->get<double>();
}

bool has(const QmpJson& obj, const char* key) {
  return obj.is_object() && obj.find(key) != obj.end();
}

std::string printf_string(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string printf_string(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return "";
  return std::string(buf, std::min(static_cast<size_t>(n), sizeof buf - 1));
}

// Parameters QEMU reads as sizes, and the unit of a bare number.
char size_unit_of(std::string_view name) {
  if (name == "max-bandwidth") return 'M';  // qemu_strtosz_MiB in hmp_migrate_set_parameter
  if (name == "downtime-limit" || name == "xbzrle-cache-size" ||
      name == "max-postcopy-bandwidth") {
    return 'B';  // visit_type_size
  }
  return 0;
}

// The unit `info migrate_parameters` prints after a parameter's value.
const char* parameter_unit(std::string_view name) {
  if (name == "max-bandwidth") return " bytes/second";
  if (name == "xbzrle-cache-size") return " bytes";
  if (name == "downtime-limit" || name == "x-checkpoint-delay" || name == "announce-initial" ||
      name == "announce-max" || name == "announce-step" || name == "connect-timeout" ||
      name == "confirm-timeout" || name == "handover-timeout") {
    return " ms";
  }
  return "";
}

std::string value_text(const QmpJson& v) {
  if (v.is_boolean()) return v.get<bool>() ? "on" : "off";
  if (v.is_string()) return "'" + v.get<std::string>() + "'";
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.dump();
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text, char default_unit) {
  size_t i = 0;
  uint64_t whole = 0;
  const size_t digits_start = i;
  while (i < text.size() && is_digit(text[i])) {
    uint64_t d = static_cast<uint64_t>(text[i] - '0');
    if (whole > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    whole = whole * 10 + d;
    ++i;
  }
  if (i == digits_start) return std::nullopt;
  long double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    long double scale = 0.1L;
    const size_t frac_start = i;
    while (i < text.size() && is_digit(text[i])) {
      fraction += scale * (text[i] - '0');
      scale /= 10;
      ++i;
    }
    if (i == frac_start) return std::nullopt;
  }
  uint64_t mul = 0;
  if (i < text.size()) {
    mul = suffix_multiplier(text[i]);
    if (mul == 0) return std::nullopt;
    ++i;
  } else {
    mul = suffix_multiplier(default_unit);
    if (mul == 0) mul = 1;
  }
  if (i != text.size()) return std::nullopt;
  if (mul == 1 && fraction != 0) return std::nullopt;  // a fraction of a byte
  if (whole > std::numeric_limits<uint64_t>::max() / mul) return std::nullopt;
  uint64_t value = whole * mul;
  const uint64_t extra = static_cast<uint64_t>(fraction * static_cast<long double>(mul));
  if (value > std::numeric_limits<uint64_t>::max() - extra) return std::nullopt;
  return value + extra;
}

std::optional<bool> parse_on_off(std::string_view text) {
  if (text == "on") return true;
  if (text == "off") return false;
  return std::nullopt;
}

bool parse_hmp_migrate_args(const std::vector<std::string>& args, HmpMigrateArgs* out,
                            std::string* error) {
  *out = HmpMigrateArgs{};
  size_t i = 0;
  for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
    for (size_t k = 1; k < args[i].size(); ++k) {
      switch (args[i][k]) {
        case 'd': out->detach = true; break;
        case 'b': out->blk = true; break;
        case 'i': out->inc = true; break;
        case 'r': out->resume = true; break;
        default:
          *error = std::string("migrate: unsupported option -") + args[i][k];
          return false;
      }
    }
  }
  if (i >= args.size()) {
    *error = "migrate: string expected";
    return false;
  }
  out->uri = args[i++];
  if (i < args.size()) {
    *error = "migrate: extraneous characters at the end of line";
    return false;
  }
  return true;
}

std::optional<QmpJson> hmp_parameter_value(const std::string& name, const std::string& text,
                                           const QmpJson& current, std::string* error) {
  if (!current.is_object() || current.find(name) == current.end()) {
    *error = "invalid parameter value: " + name;
    return std::nullopt;
  }
  const QmpJson& now = current[name];
  if (now.is_boolean()) {
    if (text == "on" || text == "yes" || text == "true") return QmpJson(true);
    if (text == "off" || text == "no" || text == "false") return QmpJson(false);
    *error = "Parameter '" + name + "' expects 'on' or 'off'";
    return std::nullopt;
  }
  if (now.is_string()) return QmpJson(text);
  if (now.is_number()) {
    if (char unit = size_unit_of(name)) {
      std::optional<uint64_t> v = parse_size(text, unit);
      if (!v || (unit == 'M' && *v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
        *error = unit == 'M' ? "Invalid size " + text
                             : "Parameter '" + name + "' expects a size value";
        return std::nullopt;
      }
      return QmpJson(*v);
    }
    std::optional<uint64_t> v = parse_uint(text);
    if (!v) {
      *error = "Parameter '" + name + "' expects an integer";
      return std::nullopt;
    }
    return QmpJson(*v);
  }
  *error = "Parameter '" + name + "' can't be set from the human monitor";
  return std::nullopt;
}

std::string format_info_migrate(const QmpJson& info, const QmpJson& capabilities) {
  std::string out;
  if (!info.is_object()) return out;
  const bool has_status =
      has(info, "status") && info["status"].is_string() && info["status"] != "none";
  if (has_status && capabilities.is_array() && !capabilities.empty()) {
    out += "capabilities: ";
    for (const QmpJson& cap : capabilities) {
      if (!cap.is_object() || !has(cap, "capability")) continue;
      bool on = has(cap, "state") && cap["state"].is_boolean() && cap["state"].get<bool>();
      out += cap["capability"].get<std::string>() + ": " + (on ? "on" : "off") + " ";
    }
    out += "\n";
  }
  if (has_status) {
    const std::string status = info["status"].get<std::string>();
    out += "Migration status: " + status;
    if (status == "failed" && has(info, "error-desc") && info["error-desc"].is_string()) {
      out += " (" + info["error-desc"].get<std::string>() + ")";
    }
    out += "\n";
    out += printf_string("total time: %" PRIu64 " ms\n", u64(info, "total-time"));
    if (has(info, "expected-downtime")) {
      out += printf_string("expected downtime: %" PRIu64 " ms\n", u64(info, "expected-downtime"));
    }
    if (has(info, "downtime")) {
      out += printf_string("downtime: %" PRIu64 " ms\n", u64(info, "downtime"));
    }
    if (has(info, "setup-time")) {
      out += printf_string("setup: %" PRIu64 " ms\n", u64(info, "setup-time"));
    }
  }
  if (has(info, "ram") && info["ram"].is_object()) {
    const QmpJson& ram = info["ram"];
    out += printf_string("transferred ram: %" PRIu64 " kbytes\n", u64(ram, "transferred") >> 10);
    out += printf_string("throughput: %0.2f mbps\n", number(ram, "mbps"));
    out += printf_string("remaining ram: %" PRIu64 " kbytes\n", u64(ram, "remaining") >> 10);
    out += printf_string("total ram: %" PRIu64 " kbytes\n", u64(ram, "total") >> 10);
    out += printf_string("duplicate: %" PRIu64 " pages\n", u64(ram, "duplicate"));
    if (has(ram, "skipped")) {
      out += printf_string("skipped: %" PRIu64 " pages\n", u64(ram, "skipped"));
    }
    out += printf_string("normal: %" PRIu64 " pages\n", u64(ram, "normal"));
    out += printf_string("normal bytes: %" PRIu64 " kbytes\n", u64(ram, "normal-bytes") >> 10);
    out += printf_string("dirty sync count: %" PRIu64 "\n", u64(ram, "dirty-sync-count"));
    if (has(ram, "page-size")) {
      out += printf_string("page size: %" PRIu64 " kbytes\n", u64(ram, "page-size") >> 10);
    }
    if (has(ram, "multifd-bytes")) {
      out += printf_string("multifd bytes: %" PRIu64 " kbytes\n", u64(ram, "multifd-bytes") >> 10);
    }
    if (has(ram, "pages-per-second")) {
      out += printf_string("pages-per-second: %" PRIu64 "\n", u64(ram, "pages-per-second"));
    }
    if (u64(ram, "dirty-pages-rate")) {
      out += printf_string("dirty pages rate: %" PRIu64 " pages\n", u64(ram, "dirty-pages-rate"));
    }
    if (u64(ram, "postcopy-requests")) {
      out += printf_string("postcopy request count: %" PRIu64 "\n", u64(ram, "postcopy-requests"));
    }
    if (u64(ram, "precopy-bytes")) {
      out += printf_string("precopy ram: %" PRIu64 " kbytes\n", u64(ram, "precopy-bytes") >> 10);
    }
    if (u64(ram, "downtime-bytes")) {
      out += printf_string("downtime ram: %" PRIu64 " kbytes\n", u64(ram, "downtime-bytes") >> 10);
    }
    if (u64(ram, "postcopy-bytes")) {
      out += printf_string("postcopy ram: %" PRIu64 " kbytes\n", u64(ram, "postcopy-bytes") >> 10);
    }
  }
  if (has(info, "disk") && info["disk"].is_object()) {
    const QmpJson& disk = info["disk"];
    out += printf_string("transferred disk: %" PRIu64 " kbytes\n", u64(disk, "transferred") >> 10);
    out += printf_string("remaining disk: %" PRIu64 " kbytes\n", u64(disk, "remaining") >> 10);
    out += printf_string("total disk: %" PRIu64 " kbytes\n", u64(disk, "total") >> 10);
  }
  if (has(info, "cpu-throttle-percentage")) {
    out += printf_string("cpu throttle percentage: %" PRIu64 "\n",
                         u64(info, "cpu-throttle-percentage"));
  }
  // ferry's own: when each step of the pause happened.
  const auto steps = info.find("ferry-downtime-steps");
  if (steps != info.end() && steps->is_array() && !steps->empty()) {
    out += "downtime steps:";
    for (const auto& step : *steps) {
      if (!step.is_object() || !step.contains("step") || !step["step"].is_string()) continue;
      out += printf_string(" %s +%0.3f ms", step["step"].get<std::string>().c_str(),
                           number(step, "ms"));
    }
    out += "\n";
  }
  return out;
}

std::string format_migrate_parameters(const QmpJson& parameters) {
  std::string out;
  if (!parameters.is_object()) return out;
  for (auto it = parameters.begin(); it != parameters.end(); ++it) {
    out += it.key() + ": " + value_text(it.value()) + parameter_unit(it.key()) + "\n";
  }
  return out;
}

std::string format_migrate_capabilities(const QmpJson& capabilities) {
  std::string out;
  if (!capabilities.is_array()) return out;
  for (const QmpJson& cap : capabilities) {
    if (!cap.is_object() || !has(cap, "capability") || !cap["capability"].is_string()) continue;
    bool on = has(cap, "state") && cap["state"].is_boolean() && cap["state"].get<bool>();
    out += cap["capability"].get<std::string>() + ": " + (on ? "on" : "off") + "\n";
  }
  return out;
}

std::string format_migrate_progress(const QmpJson& info) {
  if (!has(info, "ram") || !info["ram"].is_object()) {
    std::string status = has(info, "status") && info["status"].is_string()
                             ? info["status"].get<std::string>()
                             : "setup";
    return "migration " + status + "\n";
  }
  const QmpJson& ram = info["ram"];
  return printf_string("transferred %" PRIu64 " MiB / remaining %" PRIu64 " MiB (%0.2f mbps)\n",
                       u64(ram, "transferred") >> 20, u64(ram, "remaining") >> 20,
                       number(ram, "mbps"));
}

}  // namespace ferry
