#include "migration/state_registry.h"

#include <algorithm>
#include <stdexcept>

namespace ferry {

uint32_t StateRegistry::add(StateEntry e, uint32_t instance) {
  if (instance == kNextInstance) {
    instance = 0;
    while (find(e.name, instance)) ++instance;
  } else if (find(e.name, instance)) {
    throw std::logic_error("state '" + e.name + "' instance " + std::to_string(instance) +
                           " is registered twice");
  }
  e.instance = instance;
  // Stable: after every entry of the same or a lower order.
  auto at = std::upper_bound(entries_.begin(), entries_.end(), e.order,
                             [](int order, const StateEntry& x) { return order < x.order; });
  entries_.insert(at, std::move(e));
  return instance;
}

uint32_t StateRegistry::add_device(StateOwner& owner, int order, uint32_t instance) {
  StateEntry e;
  e.name = std::string(owner.state_name());
  e.version = owner.state_version();
  e.min_version = owner.state_min_version();
  e.order = order;
  e.device = &owner;
  return add(std::move(e), instance);
}

uint32_t StateRegistry::add_live(LiveHandler& handler, uint32_t instance) {
  StateEntry e;
  e.name = std::string(handler.live_name());
  e.version = handler.live_version();
  e.min_version = handler.live_min_version();
  e.order = state_order::kLive;
  e.live = &handler;
  return add(std::move(e), instance);
}

const StateEntry* StateRegistry::find(const std::string& name, uint32_t instance) const {
  for (const auto& e : entries_)
    if (e.name == name && e.instance == instance) return &e;
  return nullptr;
}

void StateRegistry::notify_run_state(bool running) const {
  for (const auto& e : entries_)
    if (e.device) e.device->vm_state_changed(running);
}

void StateRegistry::release_storage() const {
  for (const StateEntry& e : entries_)
    if (e.device) e.device->release_storage();
}

void StateRegistry::reclaim_storage() const {
  for (const StateEntry& e : entries_)
    if (e.device) e.device->reclaim_storage();
}

void StateRegistry::take_storage() const {
  for (const StateEntry& e : entries_)
    if (e.device) e.device->take_storage();
}

}  // namespace ferry
