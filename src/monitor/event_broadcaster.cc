#include "monitor/event_broadcaster.h"

#include <algorithm>

namespace ferry {

void EventBroadcaster::add(EventSink* sink) {
  std::lock_guard<std::mutex> lock(mutex_);
  sinks_.push_back(sink);
}

void EventBroadcaster::remove(EventSink* sink) {
  std::lock_guard<std::mutex> lock(mutex_);
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), sink), sinks_.end());
}

void EventBroadcaster::emit_event(const std::string& name, const nlohmann::json& data) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (EventSink* sink : sinks_) sink->emit_event(name, data);
}

}  // namespace ferry
