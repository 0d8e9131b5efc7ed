// SlirpAddresses: the IPv4 plan of a user-mode network, from its -netdev
// options, with QEMU's defaults and checks (net=, host=, dhcpstart=, dns=).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>

#include "net/netdev_config.h"

namespace ferry {

// Addresses in host byte order.
struct SlirpAddresses {
  uint32_t net = 0, mask = 0, host = 0, dhcp_start = 0, dns = 0;
  int prefix = 0;

  static in_addr to_in_addr(uint32_t addr) { return in_addr{htonl(addr)}; }
  std::string network_text() const;  // "10.0.2.0/24"
};

// Throws std::runtime_error naming the option at fault.
SlirpAddresses resolve_slirp_addresses(const NetdevConfig& config);

std::string format_ipv4(uint32_t addr);
// A hostfwd= rule as the command line spells it: "tcp::5555-:22".
std::string format_hostfwd(const HostForward& rule);

}  // namespace ferry
