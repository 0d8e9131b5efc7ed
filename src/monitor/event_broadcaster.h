// EventBroadcaster: an EventSink that hands every event to several sinks
// (one QmpServer per -qmp), so the VM needs to know only one sink.
//
// Threading: add/remove/emit_event from any thread (locked). Sinks must be
// removed (or outlive the broadcaster) before they are destroyed.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/vm_control.h"

namespace ferry {

class EventBroadcaster : public EventSink {
 public:
  void add(EventSink* sink);
  void remove(EventSink* sink);
  void emit_event(const std::string& name, const nlohmann::json& data) override;

 private:
  std::mutex mutex_;
  std::vector<EventSink*> sinks_;
};

}  // namespace ferry
