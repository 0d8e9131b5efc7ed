#include "monitor/hmp_call.h"

#include <utility>

namespace ferry {

HmpCall::HmpCall(const CommandRegistry& registry, CommandContext& ctx, std::string command,
                 std::string arg_text)
    : registry_(registry), ctx_(ctx), command_(std::move(command)), arg_text_(std::move(arg_text)) {
  args_ok_ = split_args(arg_text_, &args_);
}

bool HmpCall::split_args(std::string_view text, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  while (true) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size()) return true;
    std::string word;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
      if (text[i] == '"') {
        ++i;
        bool closed = false;
        while (i < text.size()) {
          char c = text[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\' && i < text.size()) c = text[i++];
          word.push_back(c);
        }
        if (!closed) return false;
      } else {
        word.push_back(text[i++]);
      }
    }
    out->push_back(std::move(word));
  }
}

std::optional<QmpJson> HmpCall::qmp(std::string_view name, const QmpJson& args) {
  CommandResult r = registry_.execute(name, args, ctx_);
  if (!r.ok()) {
    error(r.error().desc);
    return std::nullopt;
  }
  return r.value();
}

void HmpCall::flush() {
  if (!flush_sink_ || output_.empty()) return;
  flush_sink_(output_);
  output_.clear();
}

void HmpCall::error(std::string_view desc) {
  output_ += "Error: ";
  output_ += desc;
  output_ += '\n';
}

}  // namespace ferry
