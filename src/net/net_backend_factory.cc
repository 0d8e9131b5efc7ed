#include "net/net_backend_factory.h"

#include <stdexcept>

#include "net/slirp_backend.h"
#include "net/tap_backend.h"

namespace ferry {

std::unique_ptr<NetBackend> make_net_backend(const NetdevConfig& config) {
  if (config.type == "tap") return std::make_unique<TapBackend>(config);
  if (config.type == "user") return std::make_unique<SlirpBackend>(config);
  throw std::runtime_error("-netdev " + config.type + ",id=" + config.id +
                           ": unsupported network back end");
}

}  // namespace ferry
