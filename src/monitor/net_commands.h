// The network's monitor commands, for both monitors:
//   QMP: announce-self, set_link, query-ferry-nics (the cards and their
//        counters: what `info network` prints, as JSON)
//   HMP: info network, set_link NAME on|off, announce_self [INTERFACES [ID]]
// HMP's announce_self uses the migration's announce-* parameters, as QEMU's.
//
// Threading: main thread.
#pragma once

#include <functional>

#include "monitor/command_registry.h"
#include "net/announce.h"
#include "vm/vm_control.h"

namespace ferry {

void register_net_commands(CommandRegistry& registry, VmControl& vm,
                           std::function<AnnounceParams()> migration_announce_params);

}  // namespace ferry
