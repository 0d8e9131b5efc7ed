#include "migration/savevm.h"

namespace ferry {

void SaveVm::add_device(StateOwner* owner, uint32_t instance) {
  SaveVmEntry e;
  e.id = std::string(owner->state_name());
  e.instance = instance;
  e.version = owner->state_version();
  e.device = owner;
  entries_.push_back(std::move(e));
}

void SaveVm::add_live(LiveHandler* handler, uint32_t instance) {
  SaveVmEntry e;
  e.id = std::string(handler->live_name());
  e.instance = instance;
  e.version = handler->live_version();
  e.live = handler;
  entries_.push_back(std::move(e));
}

const SaveVmEntry* SaveVm::find(const std::string& id, uint32_t instance) const {
  for (const auto& e : entries_)
    if (e.id == id && e.instance == instance) return &e;
  return nullptr;
}

}  // namespace ferry
