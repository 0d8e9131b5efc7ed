// The human monitor's side of the migration commands, as pure functions:
// parsing what the user types (sizes with QEMU's suffixes, on/off, the
// `migrate` flags) and formatting what QMP returns the way QEMU's HMP
// prints it (`info migrate`, `info migrate_parameters`, …).
//
// Kept apart from migration_commands.cc, which needs a MigrationManager,
// so that these can be unit-tested alone.
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/qmp_json.h"

namespace ferry {

// QEMU's qemu_strtosz(): a decimal number, optionally with a fraction, and
// an optional suffix B, K, M, G, T, P or E (either case; powers of 1024).
// Without a suffix the number is in `default_unit` ('B' for bytes, 'M' for
// MiB…). A fraction needs a unit larger than bytes. nullopt on anything
// else (trailing characters, a sign, overflow).
std::optional<uint64_t> parse_size(std::string_view text, char default_unit = 'B');

// "on" / "off" as QEMU's HMP boolean arguments; nullopt otherwise.
std::optional<bool> parse_on_off(std::string_view text);

// The words of HMP `migrate [-d] [-b] [-i] [-r] uri`.
struct HmpMigrateArgs {
  bool detach = false;  // -d
  bool blk = false;     // -b
  bool inc = false;     // -i
  bool resume = false;  // -r
  std::string uri;
};
// False with *error (QEMU's wording) on an unknown flag, a missing URI or
// extra words.
bool parse_hmp_migrate_args(const std::vector<std::string>& args, HmpMigrateArgs* out,
                            std::string* error);

// The JSON value for `migrate_set_parameter NAME TEXT`. `current` is what
// query-migrate-parameters returns: NAME must be one of its members, and
// the member's type decides how TEXT is read (max-bandwidth: a size in MiB
// by default; downtime-limit and other sizes: bytes by default; booleans:
// on/off; strings as they are). nullopt with *error naming the problem.
std::optional<QmpJson> hmp_parameter_value(const std::string& name, const std::string& text,
                                           const QmpJson& current, std::string* error);

// `info migrate`: `info` is query-migrate's MigrationInfo, `capabilities`
// query-migrate-capabilities' list (may be empty).
std::string format_info_migrate(const QmpJson& info, const QmpJson& capabilities);
// `info migrate_parameters` ("max-bandwidth: 134217728 bytes/second").
std::string format_migrate_parameters(const QmpJson& parameters);
// `info migrate_capabilities` ("events: on").
std::string format_migrate_capabilities(const QmpJson& capabilities);
// One progress line of a blocking HMP `migrate`
// ("transferred 12 MiB / remaining 100 MiB (151.23 mbps)\n").
std::string format_migrate_progress(const QmpJson& info);

}  // namespace ferry
