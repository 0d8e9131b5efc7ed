#include "monitor/json_stream.h"

#include <utility>

namespace ferry {
namespace {

bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool ends_scalar(uint8_t c) {
  return is_space(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == '"' ||
         c == ',' || c == ':';
}

}  // namespace

void JsonStreamSplitter::reset() {
  buf_.clear();
  depth_ = 0;
  in_string_ = false;
  escape_ = false;
  in_scalar_ = false;
}

void JsonStreamSplitter::emit(std::vector<Piece>& out) {
  out.push_back(Piece{std::move(buf_), {}});
  reset();
}

void JsonStreamSplitter::fail(std::vector<Piece>& out, std::string error) {
  out.push_back(Piece{{}, std::move(error)});
  reset();
}

std::vector<JsonStreamSplitter::Piece> JsonStreamSplitter::feed(const uint8_t* data, size_t len) {
  std::vector<Piece> out;
  for (size_t i = 0; i < len; ++i) {
    uint8_t c = data[i];

    if (c == 0xFF && !in_string_) {
      bool had_text = !buf_.empty();
      reset();
      if (had_text) fail(out, "JSON parse error, stray '\\xFF'");
      continue;
    }

    if (in_string_) {
      buf_.push_back(static_cast<char>(c));
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
        if (depth_ == 0) emit(out);  // a top-level string
      }
    } else if (in_scalar_) {
      if (!ends_scalar(c)) {
        buf_.push_back(static_cast<char>(c));
      } else {
        emit(out);
        --i;  // look at the delimiter again, at top level
        continue;
      }
    } else if (depth_ == 0) {
      if (is_space(c)) continue;
      buf_.push_back(static_cast<char>(c));
      if (c == '{' || c == '[') {
        depth_ = 1;
      } else if (c == '"') {
        in_string_ = true;
      } else if (c == '}' || c == ']' || c == ',' || c == ':') {
        emit(out);  // stray structural character: let the parser complain
      } else {
        in_scalar_ = true;
      }
    } else {
      buf_.push_back(static_cast<char>(c));
      if (c == '"') {
        in_string_ = true;
      } else if (c == '{' || c == '[') {
        if (++depth_ > kMaxNesting) {
          fail(out, "JSON nesting depth limit exceeded");
          continue;
        }
      } else if (c == '}' || c == ']') {
        if (--depth_ == 0) emit(out);
      }
    }

    if (buf_.size() > kMaxTextSize) fail(out, "JSON token size limit exceeded");
  }
  return out;
}

}  // namespace ferry
