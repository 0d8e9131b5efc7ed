// JsonStreamSplitter: cuts a QMP byte stream into JSON texts, the way
// QEMU's json-streamer does: a text ends when its braces and brackets
// balance (strings and escapes respected), so requests need no newline and
// several may share one read. Top-level scalars end at whitespace or a
// structural character and are handed on as texts too (the server then
// answers "QMP input must be a JSON object").
//
// Limits like QEMU's: a text larger than kMaxTextSize or nested deeper
// than kMaxNesting is dropped and reported as an error. A 0xFF byte (never
// valid in UTF-8) outside a string discards a partial text, which lets a
// client resynchronise after sending garbage.
//
// Threading: one instance per connection, used on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry {

class JsonStreamSplitter {
 public:
  static constexpr size_t kMaxTextSize = 16u << 20;
  static constexpr int kMaxNesting = 1024;

  struct Piece {
    std::string text;   // a complete JSON text (maybe malformed)
    std::string error;  // non-empty: a framing error, `text` is empty
  };

  // Returns the pieces completed by `data`, in order.
  std::vector<Piece> feed(const uint8_t* data, size_t len);
  void reset();

 private:
  void emit(std::vector<Piece>& out);
  void fail(std::vector<Piece>& out, std::string error);

  std::string buf_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  bool in_scalar_ = false;
};

}  // namespace ferry
