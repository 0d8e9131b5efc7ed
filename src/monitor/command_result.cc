#include "monitor/command_result.h"

namespace ferry {

std::string_view error_class_name(ErrorClass cls) {
  switch (cls) {
    case ErrorClass::kGenericError: return "GenericError";
    case ErrorClass::kCommandNotFound: return "CommandNotFound";
    case ErrorClass::kDeviceNotActive: return "DeviceNotActive";
    case ErrorClass::kDeviceNotFound: return "DeviceNotFound";
    case ErrorClass::kKVMMissingCap: return "KVMMissingCap";
  }
  return "GenericError";
}

}  // namespace ferry
