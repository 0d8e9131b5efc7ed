#include "monitor/line_editor.h"

namespace ferry {

void LineEditor::clear() {
  line_.clear();
  escape_ = Escape::kNone;
  history_pos_ = history_.size();
}

std::string LineEditor::take_echo() {
  std::string out;
  out.swap(echo_out_);
  return out;
}

void LineEditor::replace_line(const std::string& text) {
  line_ = text;
  if (echo_) echo_out_ += "\r" + prompt_ + line_ + "\x1b[K";
}

void LineEditor::handle_escape_final(uint8_t c) {
  if (c == 'A') {  // up
    if (history_pos_ > 0) replace_line(history_[--history_pos_]);
  } else if (c == 'B') {  // down
    if (history_pos_ < history_.size()) {
      ++history_pos_;
      replace_line(history_pos_ == history_.size() ? std::string() : history_[history_pos_]);
    }
  }
}

size_t LineEditor::feed(const uint8_t* data, size_t len, std::optional<std::string>* line) {
  line->reset();
  for (size_t i = 0; i < len; ++i) {
    uint8_t c = data[i];
    bool was_cr = last_was_cr_;
    last_was_cr_ = false;

    switch (escape_) {
      case Escape::kEsc:
        escape_ = c == '[' ? Escape::kCsi : c == 'O' ? Escape::kSs3 : Escape::kNone;
        continue;
      case Escape::kCsi:
        if (c >= 0x40 && c <= 0x7E) {
          escape_ = Escape::kNone;
          handle_escape_final(c);
        }
        continue;
      case Escape::kSs3:
        escape_ = Escape::kNone;
        handle_escape_final(c);
        continue;
      case Escape::kNone:
        break;
    }

    if (c == '\r' || c == '\n') {
      if (c == '\n' && was_cr) continue;  // the LF of a CRLF
      last_was_cr_ = c == '\r';
      if (echo_) echo_out_ += "\r\n";
      *line = line_;
      if (!line_.empty() && (history_.empty() || history_.back() != line_)) {
        history_.push_back(line_);
        if (history_.size() > kHistorySize) history_.pop_front();
      }
      line_.clear();
      history_pos_ = history_.size();
      return i + 1;
    }
    if (c == 0x7F || c == 0x08) {
      if (!line_.empty()) {
        while (!line_.empty() && (static_cast<uint8_t>(line_.back()) & 0xC0) == 0x80) {
          line_.pop_back();
        }
        if (!line_.empty()) line_.pop_back();
        if (echo_) echo_out_ += "\b \b";
      }
      continue;
    }
    if (c == 0x15) {  // Ctrl-U
      replace_line("");
      continue;
    }
    if (c == 0x1B) {
      escape_ = Escape::kEsc;
      continue;
    }
    if (c < 0x20) continue;  // other control characters
    if (line_.size() >= kMaxLine) continue;
    line_.push_back(static_cast<char>(c));
    if (echo_) echo_out_.push_back(static_cast<char>(c));
  }
  return len;
}

}  // namespace ferry
