// NetOptions: the network on the command line, in QEMU's spelling, turned
// into back ends (VmConfig::netdevs) and virtio-net cards (VmConfig::nics):
//
//   -netdev tap,id=ID,ifname=TAP[,script=no][,downscript=no][,vnet_hdr=on|off]
//   -netdev tap,id=ID,fd=N
//   -netdev user,id=ID[,net=ADDR[/MASK]][,host=ADDR][,dhcpstart=ADDR][,dns=ADDR]
//          [,hostname=NAME][,restrict=on|off][,hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT]...
//   -device virtio-net-device,netdev=ID[,mac=52:54:00:12:34:56][,id=NAME]
//   -nic tap|user,…[,mac=…][,model=virtio-net-device]   a back end and its card in one
//
// As QEMU, the back end's type may also be given as type= ("-netdev id=n0,type=user").
//
// Cards without mac= get QEMU's default addresses (52:54:00:12:34:56, then
// …:57 and so on, skipping the ones given). ferry runs no ifup scripts: a
// tap is made and attached beforehand.
#pragma once

#include <string>
#include <vector>

#include "net/netdev_config.h"

namespace ferry {

class NetOptions {
 public:
  // Each returns "" or the error message. `order`: the card's place among
  // the virtio devices (slot order).
  std::string add_netdev(const std::string& arg);
  std::string add_device(const std::string& arg, int order);
  std::string add_nic(const std::string& arg, int order);
  // True for a -device argument naming a network card.
  static bool is_net_device(const std::string& arg);
  // "" or the error message.
  std::string resolve(std::vector<NetdevConfig>* netdevs, std::vector<NicConfig>* nics) const;

 private:
  // The -netdev / -device without the option's name in the message.
  std::string parse_netdev(const std::string& arg);
  std::string add_card(const std::string& arg, int order, const std::string& spelled);

  struct Card {
    NicConfig config;
    bool has_mac = false;
    std::string spelled;  // for messages
  };
  std::vector<NetdevConfig> netdevs_;
  std::vector<Card> cards_;
  int nic_count_ = 0;
};

// "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"; "" or the error.
std::string parse_hostfwd(const std::string& rule, HostForward* out);
// "52:54:00:12:34:56" (or with '-'); false when malformed.
bool parse_mac(const std::string& text, MacAddress* out);

}  // namespace ferry
