// NetdevConfig / NicConfig: the network as the command line describes it
// (-netdev, -device virtio-net-device, -nic; see vm/net_options.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry {

// One hostfwd= rule of a user-mode network: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT.
struct HostForward {
  bool udp = false;
  std::string host_addr;   // "" = any (0.0.0.0)
  uint16_t host_port = 0;
  std::string guest_addr;  // "" = the first DHCP address
  uint16_t guest_port = 0;
};

struct NetdevConfig {
  std::string id;
  std::string type;  // "tap" or "user"

  // tap
  std::string ifname;      // an existing tap device (ferry runs no scripts)
  int fd = -1;             // fd=N: an open tap, passed by the caller
  bool vnet_hdr = true;    // offloads through the tap's virtio-net header, when it has one
  bool vnet_hdr_required = false;  // vnet_hdr=on: fail rather than go without

  // user (libslirp), QEMU's defaults
  std::string net = "10.0.2.0/24";  // net=ADDR[/MASK]
  std::string host;                 // host=: the gateway ("" = .2 of net)
  std::string dhcpstart;            // "" = .15 of net
  std::string dns;                  // "" = .3 of net
  std::string hostname;
  bool restrict = false;            // restrict=on: no way out but hostfwd
  std::vector<HostForward> hostfwd;
};

using MacAddress = std::array<uint8_t, 6>;

struct NicConfig {
  std::string id;      // -device id= ("" = none)
  std::string netdev;  // the back end's id
  MacAddress mac{};    // resolved: the given one or QEMU's default
  int order = 0;       // command-line order among the virtio devices (slot order)
};

std::string format_mac(const MacAddress& mac);

}  // namespace ferry
