#include "monitor/human_monitor.h"

#include "monitor/hmp_call.h"

namespace ferry {
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
  return run_hmp_line(registry_, ctx_, line, flush);
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
