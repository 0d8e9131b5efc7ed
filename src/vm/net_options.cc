#include "vm/net_options.h"

#include <arpa/inet.h>

#include <cstdio>
#include <set>

#include "util/option_list.h"

namespace ferry {
namespace {

bool parse_port(const std::string& text, uint16_t* port) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const unsigned long v = std::stoul(text);
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool is_ipv4(const std::string& text) {
  in_addr a;
  return inet_pton(AF_INET, text.c_str(), &a) == 1;
}

struct KeyValue {
  std::string key, value;
};

KeyValue split_key(const std::string& part) {
  const size_t eq = part.find('=');
  return {part.substr(0, eq), eq == std::string::npos ? "on" : part.substr(eq + 1)};
}

// The keys of a -netdev (after the type), into `d`; "" or the error (without prefix).
std::string apply_netdev_key(NetdevConfig& d, const KeyValue& kv) {
  const std::string& k = kv.key;
  const std::string& v = kv.value;
  if (k == "id") {
    d.id = v;
    return "";
  }
  if (d.type == "tap") {
    if (k == "ifname") {
      d.ifname = v;
    } else if (k == "fd") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        return "Parameter 'fd' expects a file descriptor number";
      d.fd = std::stoi(v);
    } else if (k == "script" || k == "downscript") {
      if (v != "no" && !v.empty())
        return k + "=" + v + " is not supported: ferry runs no scripts (make the tap "
               "beforehand and use " + k + "=no)";
    } else if (k == "vnet_hdr") {
      bool on;
      if (!parse_option_bool(v, &on)) return "Parameter 'vnet_hdr' expects 'on' or 'off'";
      d.vnet_hdr = on;
      d.vnet_hdr_required = on;
    } else if (k == "vhost") {
      bool on;
      if (!parse_option_bool(v, &on) || on) return "vhost=on is not supported";
    } else if (k == "queues") {
      if (v != "1") return "only queues=1 is supported";
    } else {
      return "Invalid parameter '" + k + "'";
    }
    return "";
  }
  // user
  if (k == "net") d.net = v;
  else if (k == "host") d.host = v;
  else if (k == "dhcpstart") d.dhcpstart = v;
  else if (k == "dns") d.dns = v;
  else if (k == "hostname") d.hostname = v;
  else if (k == "restrict") {
    if (!parse_option_bool(v, &d.restrict)) return "Parameter 'restrict' expects 'on' or 'off'";
  } else if (k == "hostfwd") {
    HostForward fwd;
    const std::string error = parse_hostfwd(v, &fwd);
    if (!error.empty()) return error;
    d.hostfwd.push_back(fwd);
  } else if (k == "ipv4") {
    bool on;
    if (!parse_option_bool(v, &on) || !on) return "ipv4=off is not supported";
  } else {
    return "Invalid parameter '" + k + "'";
  }
  return "";
}

MacAddress default_mac(unsigned index) {
  return {0x52, 0x54, 0x00, 0x12, 0x34, static_cast<uint8_t>(0x56 + index)};
}

}  // namespace

std::string format_mac(const MacAddress& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

bool parse_mac(const std::string& text, MacAddress* out) {
  if (text.size() != 17) return false;
  for (int i = 0; i < 6; ++i) {
    const std::string byte = text.substr(i * 3, 2);
    if (byte.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return false;
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return false;
    (*out)[i] = static_cast<uint8_t>(std::stoul(byte, nullptr, 16));
  }
  return true;
}

std::string parse_hostfwd(const std::string& rule, HostForward* out) {
  const std::string bad = "Invalid host forwarding rule '" + rule + "'";
  std::string rest = rule;
  HostForward f;
  // An optional protocol, then HOSTADDR:HOSTPORT-GUESTADDR:GUESTPORT.
  const size_t first = rest.find(':');
  if (first == std::string::npos) return bad + " (expected [tcp|udp]:[HOSTADDR]:PORT-[GUESTADDR]:PORT)";
  const std::string proto = rest.substr(0, first);
  if (proto == "udp") f.udp = true;
  else if (proto != "tcp" && !proto.empty()) return bad + " (bad protocol name '" + proto + "')";
  rest = rest.substr(first + 1);
  const size_t dash = rest.find('-');
  if (dash == std::string::npos) return bad + " (no '-' between host and guest)";
  const std::string host = rest.substr(0, dash), guest = rest.substr(dash + 1);
  const size_t hc = host.rfind(':'), gc = guest.rfind(':');
  if (hc == std::string::npos || gc == std::string::npos)
    return bad + " (expected [tcp|udp]:[HOSTADDR]:PORT-[GUESTADDR]:PORT)";
  f.host_addr = host.substr(0, hc);
  f.guest_addr = guest.substr(0, gc);
  if (!f.host_addr.empty() && !is_ipv4(f.host_addr))
    return bad + " (bad host address '" + f.host_addr + "')";
  if (!f.guest_addr.empty() && !is_ipv4(f.guest_addr))
    return bad + " (bad guest address '" + f.guest_addr + "')";
  if (!parse_port(host.substr(hc + 1), &f.host_port))
    return bad + " (bad host port '" + host.substr(hc + 1) + "')";
  if (!parse_port(guest.substr(gc + 1), &f.guest_port) || f.guest_port == 0)
    return bad + " (bad guest port '" + guest.substr(gc + 1) + "')";
  *out = f;
  return "";
}

std::string NetOptions::add_netdev(const std::string& arg) {
  const std::string error = parse_netdev(arg);
  return error.empty() ? "" : "-netdev " + arg + ": " + error;
}

std::string NetOptions::parse_netdev(const std::string& arg) {
  const std::vector<std::string> parts = split_option_list(arg);
  NetdevConfig d;
  // The type is the first element, bare ("tap,id=n0") or, as QEMU also
  // takes it, a type= anywhere ("id=n0,type=tap").
  size_t first_key = 1;
  if (!parts.empty() && !parts[0].empty() && parts[0].find('=') == std::string::npos) {
    d.type = parts[0];
  } else {
    first_key = 0;
    bool typed = false;
    for (const std::string& part : parts) {
      const KeyValue kv = split_key(part);
      if (kv.key == "type") d.type = kv.value, typed = true;
    }
    if (!typed) return "Parameter 'type' is missing";
  }
  if (d.type != "tap" && d.type != "user")
    return "unsupported network back end '" + d.type + "' (ferry has tap and user)";
  for (size_t i = first_key; i < parts.size(); ++i) {
    const KeyValue kv = split_key(parts[i]);
    if (kv.key == "type") continue;
    const std::string error = apply_netdev_key(d, kv);
    if (!error.empty()) return error;
  }
  if (d.id.empty()) return "Parameter 'id' is missing";
  if (d.type == "tap" && d.ifname.empty() && d.fd < 0)
    return "a tap needs ifname=TAP (made beforehand) or fd=N";
  for (const NetdevConfig& other : netdevs_)
    if (other.id == d.id) return "Duplicate ID '" + d.id + "' for netdev";
  netdevs_.push_back(std::move(d));
  return "";
}

bool NetOptions::is_net_device(const std::string& arg) {
  const std::vector<std::string> parts = split_option_list(arg);
  return !parts.empty() && (parts[0] == "virtio-net-device" || parts[0] == "virtio-net");
}

std::string NetOptions::add_device(const std::string& arg, int order) {
  const std::string spelled = "-device " + arg;
  const std::string error = add_card(arg, order, spelled);
  return error.empty() ? "" : spelled + ": " + error;
}

std::string NetOptions::add_card(const std::string& arg, int order, const std::string& spelled) {
  const std::vector<std::string> parts = split_option_list(arg);
  const std::string driver = parts.empty() ? "" : parts[0];
  Card card;
  card.spelled = spelled;
  card.config.order = order;
  for (size_t i = 1; i < parts.size(); ++i) {
    const KeyValue kv = split_key(parts[i]);
    if (kv.key == "netdev") {
      card.config.netdev = kv.value;
    } else if (kv.key == "mac") {
      if (!parse_mac(kv.value, &card.config.mac))
        return "Property '" + driver + ".mac' doesn't take value '" + kv.value + "'";
      if (card.config.mac[0] & 1) return kv.value + " is a multicast address, not a card's";
      card.has_mac = true;
    } else if (kv.key == "id") {
      card.config.id = kv.value;
    } else {
      return "Property '" + driver + "." + kv.key + "' not found";
    }
  }
  if (card.config.netdev.empty())
    return "a network card needs netdev=ID (a -netdev tap or user)";
  cards_.push_back(std::move(card));
  return "";
}

std::string NetOptions::add_nic(const std::string& arg, int order) {
  const std::vector<std::string> parts = split_option_list(arg);
  const std::string what = "-nic " + arg + ": ";
  if (parts.empty() || parts[0].empty()) return what + "a back end type is needed (tap or user)";
  if (parts[0] == "none") return "";
  // The back end's options go to a -netdev, the card's to a -device, both
  // named with an id of their own; messages name the -nic.
  std::string netdev;
  std::string device = "virtio-net-device";
  const std::string id = "__nic" + std::to_string(nic_count_++);
  for (size_t i = 0; i < parts.size(); ++i) {
    const KeyValue kv = split_key(parts[i]);
    if (kv.key == "model") {
      if (kv.value != "virtio-net-device" && kv.value != "virtio" && kv.value != "virtio-net")
        return what + "unsupported NIC model '" + kv.value +
               "' (the board has virtio-net-device cards)";
    } else if (kv.key == "mac") {
      device += ",mac=" + kv.value;
    } else if (kv.key == "id") {
      return what + "Invalid parameter 'id'";
    } else {
      std::string escaped;
      for (char c : parts[i]) escaped += c == ',' ? std::string(",,") : std::string(1, c);
      netdev += escaped + ",";
    }
  }
  std::string error = parse_netdev(netdev + "id=" + id);
  if (!error.empty()) return what + error;
  error = add_card(device + ",netdev=" + id, order, "-nic " + arg);
  if (!error.empty()) return what + error;
  return "";
}

std::string NetOptions::resolve(std::vector<NetdevConfig>* netdevs,
                                std::vector<NicConfig>* nics) const {
  std::set<std::string> used_netdevs;
  std::set<MacAddress> given;
  for (const Card& card : cards_) {
    bool found = false;
    for (const NetdevConfig& d : netdevs_) found = found || d.id == card.config.netdev;
    if (!found)
      return card.spelled + ": Property 'virtio-net-device.netdev' can't find value '" +
             card.config.netdev + "'";
    if (!used_netdevs.insert(card.config.netdev).second)
      return card.spelled + ": Property 'virtio-net-device.netdev' can't use value '" +
             card.config.netdev + "', because it is already in use";
    if (card.has_mac && !given.insert(card.config.mac).second)
      return card.spelled + ": MAC address " + format_mac(card.config.mac) +
             " is already used by another network card";
  }
  unsigned next_default = 0;
  for (const Card& card : cards_) {
    NicConfig c = card.config;
    if (!card.has_mac) {
      while (given.count(default_mac(next_default))) ++next_default;
      c.mac = default_mac(next_default++);
    }
    nics->push_back(c);
  }
  for (const NetdevConfig& d : netdevs_)
    if (!used_netdevs.count(d.id))
      return "-netdev " + d.type + ",id=" + d.id + ": no network card uses it (add -device "
             "virtio-net-device,netdev=" + d.id + ")";
  *netdevs = netdevs_;
  return "";
}

}  // namespace ferry
