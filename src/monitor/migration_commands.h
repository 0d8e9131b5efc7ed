// The migration commands of both monitors, with QEMU's names, arguments and
// replies:
//   QMP: migrate, migrate_cancel, query-migrate, migrate-set-parameters,
//        query-migrate-parameters, migrate-set-capabilities,
//        query-migrate-capabilities, migrate-incoming, getfd, closefd
//   HMP: migrate [-d] [-b] [-i] [-r] uri, migrate_cancel,
//        migrate_set_parameter, migrate_set_capability, migrate_incoming,
//        getfd, closefd, info migrate, info migrate_parameters,
//        info migrate_capabilities
// Each HMP command calls its QMP twin through HmpCall. HMP `migrate`
// without -d blocks the monitor (and the main thread) until the migration
// ends, printing a progress line at most once a second.
//
// `fd:NAME` URIs take the descriptor stored by `getfd` in the calling
// monitor's CommandContext (the migration owns it from then on); `fd:N`
// with a number uses descriptor N as it is, like QEMU.
//
// `on_incoming_done` is handed to MigrationManager::start_incoming for
// `migrate-incoming`; it is called on the incoming thread.
//
// `migration` and the registry must outlive the registry's use.
// Threading: main thread.
#pragma once

#include "migration/migration_manager.h"
#include "monitor/command_registry.h"

namespace ferry {

void register_migration_commands(CommandRegistry& registry, MigrationManager& migration,
                                 MigrationManager::IncomingDone on_incoming_done);

}  // namespace ferry
