// QMP's JSON: the value type used by the monitors and QEMU's exact text
// form of it.
//
// QmpJson is nlohmann::ordered_json so that envelopes keep QEMU's member
// order ({"return": …, "id": …}, {"timestamp": …, "event": …, "data": …}).
// It converts implicitly to and from nlohmann::json, so handlers may use
// either.
//
// qmp_to_json() writes the compact form QEMU writes on a QMP socket:
// ", " between members and ": " after keys, strings escaped like QEMU
// (control characters and everything outside printable ASCII as \uXXXX,
// upper-case hex; invalid UTF-8 as \uFFFD), doubles as "%.17g".
//
// Pure functions; any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ferry {

using QmpJson = nlohmann::ordered_json;

std::string qmp_to_json(const QmpJson& value);

}  // namespace ferry
