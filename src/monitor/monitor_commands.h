// The commands about the monitors themselves, shared by every VM:
//   QMP: qmp_capabilities, query-commands, query-version
//   HMP: help|? [cmd], info [subcommand], info version
// qmp_capabilities is required by QmpServer; register these before any
// client connects.
//
// The registry must outlive the handlers' use (they keep a pointer to it).
// Threading: main thread.
#pragma once

#include "monitor/command_registry.h"
#include "monitor/version_info.h"

namespace ferry {

void register_monitor_commands(CommandRegistry& registry, const VersionInfo& version);

}  // namespace ferry
