// The commands that act on the VM through VmControl, for both monitors:
//   QMP: query-status, stop, cont, quit, system_reset, query-name
//   HMP: stop|s, cont|c, system_reset, quit|q, info status, info name
// Each HMP command calls its QMP twin and formats the result the way
// QEMU's HMP does ("VM status: paused (prelaunch)").
//
// Events (STOP, RESUME, RESET, SHUTDOWN) are the VM's to emit through its
// EventSink when the state really changes; these commands do not emit.
//
// `vm` and the registry must outlive the registry's use.
// Threading: main thread.
#pragma once

#include "monitor/command_registry.h"
#include "vm/vm_control.h"

namespace ferry {

void register_vm_commands(CommandRegistry& registry, VmControl& vm);

}  // namespace ferry
