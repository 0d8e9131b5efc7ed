#include "chardev/chardev.h"

#include <utility>

namespace ferry {

void Chardev::set_handlers(ChardevHandlers handlers) {
  handlers_ = std::move(handlers);
  if (is_open()) deliver_event(ChardevEvent::kOpened);
}

void Chardev::deliver_input(const uint8_t* data, size_t len) {
  if (len == 0 || !handlers_.on_input) return;
  // Copy: the handler may replace the handlers while running.
  auto on_input = handlers_.on_input;
  on_input(data, len);
}

void Chardev::deliver_event(ChardevEvent event) {
  if (!handlers_.on_event) return;
  auto on_event = handlers_.on_event;
  on_event(event);
}

}  // namespace ferry
