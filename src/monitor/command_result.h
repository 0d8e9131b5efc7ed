// CommandResult: what a monitor command returns — a JSON value (QMP's
// "return") or an error with one of QEMU's error classes and a message
// (QMP's "error": {"class", "desc"}).
//
// Handlers simply `return value;` (QmpJson or nlohmann::json),
// `return QmpError{ErrorClass::kDeviceNotFound, "..."};` or
// `return generic_error("...");`. A default-constructed result is {}.
//
// Value type; any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "monitor/qmp_json.h"

namespace ferry {

// QEMU's QapiErrorClass values.
enum class ErrorClass {
  kGenericError,
  kCommandNotFound,
  kDeviceNotActive,
  kDeviceNotFound,
  kKVMMissingCap,
};

// "GenericError", "CommandNotFound", …
std::string_view error_class_name(ErrorClass cls);

struct QmpError {
  ErrorClass cls = ErrorClass::kGenericError;
  std::string desc;
};

inline QmpError generic_error(std::string desc) {
  return QmpError{ErrorClass::kGenericError, std::move(desc)};
}

class CommandResult {
 public:
  CommandResult() : value_(QmpJson::object()) {}
  CommandResult(QmpJson value) : value_(std::move(value)) {}             // NOLINT
  CommandResult(const nlohmann::json& value) : value_(value) {}          // NOLINT
  CommandResult(QmpError error) : ok_(false), error_(std::move(error)) {}  // NOLINT

  bool ok() const { return ok_; }
  const QmpJson& value() const { return value_; }
  const QmpError& error() const { return error_; }

 private:
  bool ok_ = true;
  QmpJson value_;
  QmpError error_;
};

}  // namespace ferry
