#include "monitor/qmp_json.h"

#include <cstdio>

namespace ferry {
namespace {

void append_hex4(std::string& out, unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04X", v & 0xFFFF);
  out += buf;
}

// Decodes one UTF-8 sequence at s[i]; returns the code point or -1 for an
// invalid sequence, and advances `i` past what was consumed.
long decode_utf8(const std::string& s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int extra;
  long cp;
  long min;
  if (c < 0x80) {
    ++i;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    extra = 1;
    cp = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2;
    cp = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3;
    cp = c & 0x07;
    min = 0x10000;
  } else {
    ++i;
    return -1;
  }
  size_t j = i + 1;
  for (int k = 0; k < extra; ++k, ++j) {
    if (j >= s.size()) {
      i = j;
      return -1;
    }
    unsigned char cc = static_cast<unsigned char>(s[j]);
    if ((cc & 0xC0) != 0x80) {
      i = j;
      return -1;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i = j;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return cp;
}

void append_string(std::string& out, const std::string& s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    long cp = decode_utf8(s, i);
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (cp < 0) cp = 0xFFFD;
        if (cp > 0xFFFF) {
          long v = cp - 0x10000;
          append_hex4(out, static_cast<unsigned>(0xD800 | (v >> 10)));
          append_hex4(out, static_cast<unsigned>(0xDC00 | (v & 0x3FF)));
        } else if (cp < 0x20 || cp >= 0x7F) {
          append_hex4(out, static_cast<unsigned>(cp));
        } else {
          out += static_cast<char>(cp);
        }
    }
  }
  out += '"';
}

void append_value(std::string& out, const QmpJson& v) {
  switch (v.type()) {
    case QmpJson::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        append_string(out, it.key());
        out += ": ";
        append_value(out, it.value());
      }
      out += '}';
      break;
    }
    case QmpJson::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        append_value(out, e);
      }
      out += ']';
      break;
    }
    case QmpJson::value_t::string:
      append_string(out, v.get_ref<const std::string&>());
      break;
    case QmpJson::value_t::number_float: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", v.get<double>());
      out += buf;
      break;
    }
    case QmpJson::value_t::discarded:
      out += "null";
      break;
    default:  // integers, booleans, null, binary (never produced)
      out += v.dump();
      break;
  }
}

}  // namespace

std::string qmp_to_json(const QmpJson& value) {
  std::string out;
  append_value(out, value);
  return out;
}

}  // namespace ferry
