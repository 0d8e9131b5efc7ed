// Hand-built Ethernet frames, as a guest's network stack sends them (ARP,
// DHCP over UDP/IPv4), and readers for the fields tests check in replies.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ferry::test_util {

using Frame = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

constexpr Mac kGuestMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint16_t kEtherArp = 0x0806, kEtherIpv4 = 0x0800;
constexpr size_t kEthHeader = 14;

constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

inline void put_be16(Frame& f, size_t off, uint16_t v) {
  f[off] = static_cast<uint8_t>(v >> 8), f[off + 1] = static_cast<uint8_t>(v);
}
inline void put_be32(Frame& f, size_t off, uint32_t v) {
  put_be16(f, off, static_cast<uint16_t>(v >> 16)), put_be16(f, off + 2, static_cast<uint16_t>(v));
}
inline uint16_t be16(const Frame& f, size_t off) {
  return static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
}
inline uint32_t be32(const Frame& f, size_t off) {
  return uint32_t{be16(f, off)} << 16 | be16(f, off + 2);
}
inline Mac mac_at(const Frame& f, size_t off) {
  Mac m;
  std::memcpy(m.data(), &f[off], 6);
  return m;
}

inline void put_eth(Frame& f, const Mac& dst, const Mac& src, uint16_t type) {
  std::memcpy(&f[0], dst.data(), 6);
  std::memcpy(&f[6], src.data(), 6);
  put_be16(f, 12, type);
}

inline uint16_t ip_checksum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// ARP: op 1 (request) or 2 (reply).
inline Frame arp(uint16_t op, const Mac& eth_dst, const Mac& sender_mac, uint32_t sender_ip,
                 const Mac& target_mac, uint32_t target_ip) {
  Frame f(kEthHeader + 28);
  put_eth(f, eth_dst, sender_mac, kEtherArp);
  put_be16(f, 14, 1);  // Ethernet
  put_be16(f, 16, kEtherIpv4);
  f[18] = 6, f[19] = 4;
  put_be16(f, 20, op);
  std::memcpy(&f[22], sender_mac.data(), 6);
  put_be32(f, 28, sender_ip);
  std::memcpy(&f[32], target_mac.data(), 6);
  put_be32(f, 38, target_ip);
  return f;
}

struct ArpView {
  uint16_t op;
  Mac sender_mac;
  uint32_t sender_ip;
  Mac target_mac;
  uint32_t target_ip;
};
inline bool read_arp(const Frame& f, ArpView* a) {
  if (f.size() < kEthHeader + 28 || be16(f, 12) != kEtherArp) return false;
  *a = ArpView{be16(f, 20), mac_at(f, 22), be32(f, 28), mac_at(f, 32), be32(f, 38)};
  return true;
}

// A DHCPDISCOVER from `mac` (0.0.0.0:68 to 255.255.255.255:67). The BOOTP
// part is the full 236 + 312 bytes of RFC 2131's layout.
inline Frame dhcp_discover(const Mac& mac, uint32_t xid) {
  constexpr size_t kBootp = 236 + 312, kUdp = 8 + kBootp, kIp = 20 + kUdp;
  Frame f(kEthHeader + kIp, 0);
  put_eth(f, Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac, kEtherIpv4);
  f[14] = 0x45;
  put_be16(f, 16, kIp);
  f[22] = 64;  // TTL
  f[23] = 17;  // UDP
  put_be32(f, 26, 0);
  put_be32(f, 30, 0xffffffff);
  put_be16(f, 24, ip_checksum(&f[14], 20));
  put_be16(f, 34, 68);
  put_be16(f, 36, 67);
  put_be16(f, 38, kUdp);  // checksum 0: none
  const size_t b = 42;
  f[b] = 1, f[b + 1] = 1, f[b + 2] = 6;  // BOOTREQUEST, Ethernet
  put_be32(f, b + 4, xid);
  std::memcpy(&f[b + 28], mac.data(), 6);
  const uint8_t options[] = {0x63, 0x82, 0x53, 0x63, 53, 1, 1 /* DISCOVER */, 255};
  std::memcpy(&f[b + 236], options, sizeof options);
  return f;
}

struct DhcpView {
  uint32_t xid;
  uint32_t yiaddr;
  uint8_t message_type;  // option 53, 0 if absent
};
// A BOOTP reply to port 68, over UDP/IPv4.
inline bool read_dhcp_reply(const Frame& f, DhcpView* d) {
  if (f.size() < kEthHeader + 20 || be16(f, 12) != kEtherIpv4 || f[23] != 17) return false;
  const size_t udp = kEthHeader + (f[14] & 0xf) * 4u, b = udp + 8;
  if (f.size() < b + 240 || be16(f, udp + 2) != 68 || f[b] != 2) return false;
  d->xid = be32(f, b + 4);
  d->yiaddr = be32(f, b + 16);
  d->message_type = 0;
  for (size_t p = b + 240; p + 1 < f.size() && f[p] != 255;) {
    if (f[p] == 0) {
      ++p;
      continue;
    }
    if (f[p] == 53 && p + 2 < f.size()) d->message_type = f[p + 2];
    p += 2u + f[p + 1];
  }
  return true;
}

struct TcpView {
  uint32_t src_ip, dst_ip;
  uint16_t src_port, dst_port;
  uint8_t flags;
};
inline bool read_tcp(const Frame& f, TcpView* t) {
  if (f.size() < kEthHeader + 20 || be16(f, 12) != kEtherIpv4 || f[23] != 6) return false;
  const size_t tcp = kEthHeader + (f[14] & 0xf) * 4u;
  if (f.size() < tcp + 20) return false;
  *t = TcpView{be32(f, 26), be32(f, 30), be16(f, tcp), be16(f, tcp + 2), f[tcp + 13]};
  return true;
}

}  // namespace ferry::test_util
