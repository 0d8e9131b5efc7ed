// The user-mode network's address plan: QEMU's defaults for each way of
// writing net=, and the option checks.
#include "net/slirp_addresses.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace ferry {
namespace {

SlirpAddresses resolve(const std::string& net, const std::string& host = "") {
  NetdevConfig c;
  c.type = "user";
  c.net = net;
  c.host = host;
  return resolve_slirp_addresses(c);
}

TEST(SlirpAddressesTest, QemuDefaults) {
  const SlirpAddresses a = resolve("10.0.2.0/24");
  EXPECT_EQ(a.network_text(), "10.0.2.0/24");
  EXPECT_EQ(format_ipv4(a.host), "10.0.2.2");
  EXPECT_EQ(format_ipv4(a.dns), "10.0.2.3");
  EXPECT_EQ(format_ipv4(a.dhcp_start), "10.0.2.15");
}

TEST(SlirpAddressesTest, NetSpellings) {
  EXPECT_EQ(resolve("10.0.2.7/255.255.255.0").network_text(), "10.0.2.0/24");
  // Without a mask, the address's class, as QEMU: 10/8, 192.168/16, 172.16/12.
  EXPECT_EQ(resolve("10.0.2.0").network_text(), "10.0.0.0/8");
  EXPECT_EQ(resolve("192.168.5.0").network_text(), "192.168.0.0/16");
  EXPECT_EQ(resolve("172.17.0.0").network_text(), "172.16.0.0/12");
  // A wider network keeps QEMU's x.x.2.2 etc.
  const SlirpAddresses wide = resolve("192.168.0.0/16");
  EXPECT_EQ(format_ipv4(wide.host), "192.168.2.2");
  EXPECT_EQ(format_ipv4(wide.dhcp_start), "192.168.2.15");
  EXPECT_EQ(format_ipv4(resolve("10.0.2.0/24", "10.0.2.100").host), "10.0.2.100");
}

TEST(SlirpAddressesTest, HostForwardSpelling) {
  EXPECT_EQ(format_hostfwd(HostForward{false, "", 5555, "", 22}), "tcp::5555-:22");
  EXPECT_EQ(format_hostfwd(HostForward{true, "127.0.0.1", 53, "10.0.2.20", 5353}),
            "udp:127.0.0.1:53-10.0.2.20:5353");
}

TEST(SlirpAddressesTest, MasksMustBeUsable) {
  EXPECT_THROW(resolve("10.0.2.0/3"), std::runtime_error);
  EXPECT_THROW(resolve("10.0.2.0/"), std::runtime_error);
  EXPECT_THROW(resolve("10.0.2.0/0.0.0.0"), std::runtime_error);
  EXPECT_NO_THROW(resolve("10.0.2.0/255.255.255.0"));
}

}  // namespace
}  // namespace ferry
