// LineEditor: the human monitor's small readline — collects typed bytes
// into lines and, for terminals, produces the echo.
//
// Handles printable bytes (UTF-8 passes through), Enter (CR, LF or CRLF),
// Backspace/DEL, Ctrl-U (erase the line), and the up/down arrows (history,
// redrawn with the prompt). Other control bytes and escape sequences are
// swallowed. With echo off (pipes, sockets) no output is produced.
//
// Threading: one instance per monitor, main thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace ferry {

class LineEditor {
 public:
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kHistorySize = 100;

  void set_echo(bool echo) { echo_ = echo; }
  void set_prompt(std::string prompt) { prompt_ = std::move(prompt); }

  // Consumes bytes up to and including the first line end; returns how many
  // were consumed and sets `*line` when a line was completed.
  size_t feed(const uint8_t* data, size_t len, std::optional<std::string>* line);
  // The echo produced since the last call.
  std::string take_echo();
  // Forgets the partial line and any half-read escape sequence.
  void clear();
  const std::string& current() const { return line_; }

 private:
  enum class Escape { kNone, kEsc, kCsi, kSs3 };

  void replace_line(const std::string& text);
  void handle_escape_final(uint8_t c);

  bool echo_ = false;
  std::string prompt_;
  std::string line_;
  std::string echo_out_;
  Escape escape_ = Escape::kNone;
  bool last_was_cr_ = false;
  std::deque<std::string> history_;
  size_t history_pos_ = 0;  // == history_.size(): editing a new line
};

}  // namespace ferry
