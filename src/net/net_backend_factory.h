// Makes the back end a -netdev describes (a tap, or a user-mode network).
#pragma once

#include <memory>

#include "net/net_backend.h"
#include "net/netdev_config.h"

namespace ferry {

// Throws std::runtime_error naming the netdev when it can't be set up.
std::unique_ptr<NetBackend> make_net_backend(const NetdevConfig& config);

}  // namespace ferry
