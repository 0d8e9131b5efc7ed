#include "net/slirp_addresses.h"

#include <arpa/inet.h>

#include <cctype>
#include <stdexcept>

namespace ferry {
namespace {

std::runtime_error invalid(const char* option, const std::string& value, const std::string& why) {
  return std::runtime_error(std::string("Invalid ") + option + "= parameter '" + value + "'" +
                            (why.empty() ? "" : ": " + why));
}

// inet_aton, as QEMU parses these options (so "10.0.2" is accepted too).
bool parse_ipv4(const std::string& text, uint32_t* addr) {
  in_addr a{};
  if (text.empty() || inet_aton(text.c_str(), &a) == 0) return false;
  *addr = ntohl(a.s_addr);
  return true;
}

uint32_t prefix_mask(int prefix) { return prefix ? ~uint32_t{0} << (32 - prefix) : 0; }

// The mask QEMU gives a net= without one: the address's class, with
// 172.16/12 and 192.168/16 as the private ranges (net/slirp.c).
uint32_t classful_mask(uint32_t addr) {
  if (!(addr & 0x80000000)) return 0xff000000;
  if ((addr & 0xfff00000) == 0xac100000) return 0xfff00000;
  if ((addr & 0xc0000000) == 0x80000000) return 0xffff0000;
  if ((addr & 0xffff0000) == 0xc0a80000) return 0xffff0000;
  if ((addr & 0xffff0000) == 0xc6120000) return 0xfffe0000;
  if ((addr & 0xe0000000) == 0xe0000000) return 0xffffff00;
  return 0xfffffff0;
}

int mask_prefix(uint32_t mask) {  // -1 unless the mask is contiguous
  int prefix = 0;
  while (prefix < 32 && (mask & (0x80000000u >> prefix))) ++prefix;
  return prefix_mask(prefix) == mask ? prefix : -1;
}

void parse_net(const std::string& text, SlirpAddresses* a) {
  const size_t slash = text.find('/');
  if (!parse_ipv4(text.substr(0, slash), &a->net)) throw invalid("net", text, "");
  if (slash == std::string::npos) {
    a->mask = classful_mask(a->net);
    a->prefix = mask_prefix(a->mask);
  } else {
    const std::string suffix = text.substr(slash + 1);
    const bool digits = !suffix.empty() && suffix.size() <= 2 &&
                        std::isdigit(static_cast<unsigned char>(suffix[0])) &&
                        std::isdigit(static_cast<unsigned char>(suffix.back()));
    if (digits) {
      a->prefix = std::stoi(suffix);
      if (a->prefix < 4 || a->prefix > 32)
        throw invalid("net", text, "the prefix length must be 4 to 32");
      a->mask = prefix_mask(a->prefix);
    } else {
      if (!parse_ipv4(suffix, &a->mask)) throw invalid("net", text, "");
      a->prefix = mask_prefix(a->mask);
      if (a->prefix < 4) throw invalid("net", text, "not a usable netmask");
    }
  }
  a->net &= a->mask;
}

// The value to quote in a message: as given, or the default it stood for.
std::string shown(const std::string& text, uint32_t addr) {
  return text.empty() ? format_ipv4(addr) : text;
}

// An address option: `fallback` (QEMU's default) when not given; must lie
// inside the network.
uint32_t parse_member(const char* option, const std::string& text, uint32_t fallback,
                      const SlirpAddresses& a) {
  uint32_t addr = fallback;
  if (!text.empty() && !parse_ipv4(text, &addr)) throw invalid(option, text, "");
  if ((addr & a.mask) != a.net)
    throw invalid(option, shown(text, addr), "not in the network " + a.network_text());
  return addr;
}

}  // namespace

std::string format_ipv4(uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xff) + "." +
         std::to_string((addr >> 8) & 0xff) + "." + std::to_string(addr & 0xff);
}

std::string SlirpAddresses::network_text() const {
  return format_ipv4(net) + "/" + std::to_string(prefix);
}

SlirpAddresses resolve_slirp_addresses(const NetdevConfig& config) {
  SlirpAddresses a;
  parse_net(config.net, &a);
  // QEMU's defaults: x.x.2.2, x.x.2.3 and x.x.2.15 as far as the mask leaves
  // room, which is .2, .3 and .15 of a /24.
  a.host = parse_member("host", config.host, a.net | (0x0202 & ~a.mask), a);
  a.dns = parse_member("dns", config.dns, a.net | (0x0203 & ~a.mask), a);
  if (a.dns == a.host)
    throw invalid("dns", shown(config.dns, a.dns), "the same address as the host");
  a.dhcp_start = parse_member("dhcpstart", config.dhcpstart, a.net | (0x020f & ~a.mask), a);
  if (a.dhcp_start == a.host || a.dhcp_start == a.dns)
    throw invalid("dhcpstart", shown(config.dhcpstart, a.dhcp_start),
                  "the same address as the host or the DNS server");
  return a;
}

std::string format_hostfwd(const HostForward& rule) {
  return std::string(rule.udp ? "udp" : "tcp") + ":" + rule.host_addr + ":" +
         std::to_string(rule.host_port) + "-" + rule.guest_addr + ":" +
         std::to_string(rule.guest_port);
}

}  // namespace ferry
