#include "monitor/hmp_call.h"

#include <exception>
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

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string run_hmp_line(const CommandRegistry& registry, CommandContext& ctx,
                         std::string_view line,
                         const std::function<void(std::string_view)>& flush) {
  line = trim(line);
  if (line.empty()) return "";
  size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) ++end;
  std::string name(line.substr(0, end));
  std::string rest(trim(line.substr(end)));

  const HmpCommand* cmd = registry.find_hmp(name);
  if (!cmd) return "unknown command: '" + name + "'\n";
  HmpCall call(registry, ctx, name, rest);
  if (flush) call.set_flush_sink(flush);
  if (!call.args_ok()) {
    call.error("unbalanced quotes");
    return call.output();
  }
  HmpHandler handler = cmd->handler;  // survives re-registration
  try {
    handler(call);
  } catch (const std::exception& e) {
    call.error(e.what());
  }
  return call.output();
}

}  // namespace ferry
