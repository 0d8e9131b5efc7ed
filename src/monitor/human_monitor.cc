#include "monitor/human_monitor.h"

#include <exception>
#include <optional>

#include "monitor/hmp_call.h"

namespace ferry {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

HumanMonitor::HumanMonitor(Chardev& chardev, const CommandRegistry& registry)
    : chardev_(chardev), registry_(registry) {
  editor_.set_prompt(std::string(kPrompt));
  editor_.set_echo(chardev_.is_tty());
  chardev_.set_handlers(ChardevHandlers{
      [this](const uint8_t* data, size_t len) { on_input(data, len); },
      [this](ChardevEvent event) { on_event(event); },
  });
}

HumanMonitor::~HumanMonitor() { chardev_.set_handlers({}); }

std::string HumanMonitor::execute(std::string_view line,
                                  const std::function<void(std::string_view)>& flush) {
  line = trim(line);
  if (line.empty()) return "";
  size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) ++end;
  std::string name(line.substr(0, end));
  std::string rest(trim(line.substr(end)));

  const HmpCommand* cmd = registry_.find_hmp(name);
  if (!cmd) return "unknown command: '" + name + "'\n";
  HmpCall call(registry_, ctx_, name, rest);
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

void HumanMonitor::print(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  chardev_.write(out);
}

void HumanMonitor::show_prompt() { chardev_.write(kPrompt); }

void HumanMonitor::on_event(ChardevEvent event) {
  switch (event) {
    case ChardevEvent::kOpened:
      editor_.set_echo(chardev_.is_tty());
      editor_.clear();
      if (chardev_.has_focus()) {
        print(kGreeting);
        show_prompt();
        greeting_pending_ = false;
      } else {
        greeting_pending_ = true;
      }
      break;
    case ChardevEvent::kFocusIn:
      editor_.clear();
      if (greeting_pending_) print(kGreeting);
      greeting_pending_ = false;
      show_prompt();
      break;
    case ChardevEvent::kFocusOut:
      print("\n");
      break;
    case ChardevEvent::kClosed:
      editor_.clear();
      ctx_.close_received_fds();
      break;
  }
}

void HumanMonitor::on_input(const uint8_t* data, size_t len) {
  ctx_.add_received_fds(chardev_.take_received_fds());
  while (len > 0) {
    std::optional<std::string> line;
    size_t used = editor_.feed(data, len, &line);
    data += used;
    len -= used;
    std::string echo = editor_.take_echo();
    if (!echo.empty()) chardev_.write(echo);
    if (line) {
      print(execute(*line, [this](std::string_view text) { print(text); }));
      show_prompt();
    }
  }
}

}  // namespace ferry
