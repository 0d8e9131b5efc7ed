#include "monitor/version_info.h"

#include <cstdio>

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry {

VersionInfo ferry_version() {
  VersionInfo v;
  long long major = 0, minor = 0, micro = 0;
  std::sscanf(FERRY_VERSION, "%lld.%lld.%lld", &major, &minor, &micro);
  v.major = major;
  v.minor = minor;
  v.micro = micro;
  return v;
}

std::string version_triple(const VersionInfo& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." +
         std::to_string(v.micro);
}

}  // namespace ferry
