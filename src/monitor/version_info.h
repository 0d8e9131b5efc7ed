// VersionInfo: ferry's version as QMP reports it (greeting, query-version)
// and the human monitor prints it (info version).
//
// Pure; any thread.
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

struct VersionInfo {
  int64_t major = 0;
  int64_t minor = 0;
  int64_t micro = 0;
  std::string package = "ferry";
};

// Parsed from FERRY_VERSION ("X.Y.Z"), which the build defines.
VersionInfo ferry_version();

// "X.Y.Z"
std::string version_triple(const VersionInfo& v);

}  // namespace ferry
