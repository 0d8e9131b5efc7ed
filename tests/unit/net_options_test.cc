// The network on the command line: -netdev tap|user, -device
// virtio-net-device, -nic, the default MACs, and the errors, word for word.
#include "vm/net_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vm/options.h"

namespace ferry {
namespace {

using Action = OptionsResult::Action;

VmConfig ok(std::vector<std::string> args) {
  OptionsResult r = parse_options(args);
  EXPECT_EQ(r.action, Action::kRun) << r.output;
  EXPECT_EQ(r.exit_code, 0);
  return r.config;
}

std::string err(std::vector<std::string> args) {
  OptionsResult r = parse_options(args);
  EXPECT_EQ(r.action, Action::kExit);
  EXPECT_EQ(r.exit_code, 1);
  return r.output;
}

MacAddress mac(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e, uint8_t f) {
  return {a, b, c, d, e, f};
}

// ---- -netdev tap -------------------------------------------------------------

TEST(NetOptionsTest, TapByNameAndByFd) {
  VmConfig c = ok({"-netdev", "tap,id=n0,ifname=tap7,script=no,downscript=no", "-device",
                   "virtio-net-device,netdev=n0"});
  ASSERT_EQ(c.netdevs.size(), 1u);
  EXPECT_EQ(c.netdevs[0].type, "tap");
  EXPECT_EQ(c.netdevs[0].id, "n0");
  EXPECT_EQ(c.netdevs[0].ifname, "tap7");
  EXPECT_EQ(c.netdevs[0].fd, -1);
  EXPECT_TRUE(c.netdevs[0].vnet_hdr);  // when the tap has it
  EXPECT_FALSE(c.netdevs[0].vnet_hdr_required);

  c = ok({"-netdev", "tap,id=n1,fd=5", "-device", "virtio-net-device,netdev=n1"});
  EXPECT_EQ(c.netdevs.at(0).fd, 5);
  EXPECT_EQ(c.netdevs[0].ifname, "");

  // As QEMU, the type may come as type=.
  c = ok({"-netdev", "id=n2,type=tap,ifname=tap2", "-device", "virtio-net-device,netdev=n2"});
  EXPECT_EQ(c.netdevs.at(0).type, "tap");
  EXPECT_EQ(c.netdevs[0].ifname, "tap2");
}

TEST(NetOptionsTest, TapVnetHdr) {
  auto tap = [](const std::string& opt) {
    return ok({"-netdev", "tap,id=n0,ifname=tap0," + opt, "-device", "virtio-net-device,netdev=n0"})
        .netdevs.at(0);
  };
  EXPECT_TRUE(tap("vnet_hdr=on").vnet_hdr);
  EXPECT_TRUE(tap("vnet_hdr=on").vnet_hdr_required);  // on: fail rather than go without
  EXPECT_FALSE(tap("vnet_hdr=off").vnet_hdr);
  EXPECT_FALSE(tap("vnet_hdr=off").vnet_hdr_required);
  EXPECT_TRUE(tap("vnet_hdr=yes").vnet_hdr);
  EXPECT_TRUE(tap("vhost=off").vnet_hdr);
  EXPECT_TRUE(tap("queues=1").vnet_hdr);
}

TEST(NetOptionsTest, TapErrors) {
  EXPECT_EQ(err({"-netdev", "tap,id=n0,ifname=tap0,vnet_hdr=maybe"}),
            "ferry: -netdev tap,id=n0,ifname=tap0,vnet_hdr=maybe: Parameter 'vnet_hdr' expects "
            "'on' or 'off'\n");
  EXPECT_EQ(err({"-netdev", "tap,id=n0,fd=three"}),
            "ferry: -netdev tap,id=n0,fd=three: Parameter 'fd' expects a file descriptor number\n");
  EXPECT_EQ(err({"-netdev", "tap,id=n0"}),
            "ferry: -netdev tap,id=n0: a tap needs ifname=TAP (made beforehand) or fd=N\n");
  EXPECT_EQ(err({"-netdev", "tap,id=n0,ifname=tap0,script=/etc/qemu-ifup"}),
            "ferry: -netdev tap,id=n0,ifname=tap0,script=/etc/qemu-ifup: script=/etc/qemu-ifup is "
            "not supported: ferry runs no scripts (make the tap beforehand and use script=no)\n");
  EXPECT_EQ(err({"-netdev", "tap,id=n0,ifname=tap0,vhost=on"}),
            "ferry: -netdev tap,id=n0,ifname=tap0,vhost=on: vhost=on is not supported\n");
  EXPECT_EQ(err({"-netdev", "tap,id=n0,ifname=tap0,queues=4"}),
            "ferry: -netdev tap,id=n0,ifname=tap0,queues=4: only queues=1 is supported\n");
  // A user-network option on a tap.
  EXPECT_EQ(err({"-netdev", "tap,id=n0,ifname=tap0,hostfwd=tcp::2222-:22"}),
            "ferry: -netdev tap,id=n0,ifname=tap0,hostfwd=tcp::2222-:22: Invalid parameter "
            "'hostfwd'\n");
}

// ---- -netdev user ------------------------------------------------------------

TEST(NetOptionsTest, UserDefaultsAreQemus) {
  VmConfig c = ok({"-netdev", "user,id=u0", "-device", "virtio-net-device,netdev=u0"});
  ASSERT_EQ(c.netdevs.size(), 1u);
  const NetdevConfig& d = c.netdevs[0];
  EXPECT_EQ(d.type, "user");
  EXPECT_EQ(d.net, "10.0.2.0/24");
  EXPECT_EQ(d.host, "");
  EXPECT_EQ(d.dhcpstart, "");
  EXPECT_FALSE(d.restrict);
  EXPECT_TRUE(d.hostfwd.empty());
}

TEST(NetOptionsTest, UserWithAddressesAndSeveralForwards) {
  VmConfig c = ok({"-netdev",
                   "user,id=u0,net=192.168.76.0/24,host=192.168.76.1,dhcpstart=192.168.76.9,"
                   "dns=192.168.76.3,hostname=vm0,restrict=on,hostfwd=tcp::2222-:22,"
                   "hostfwd=udp:127.0.0.1:5353-192.168.76.9:53,hostfwd=:0.0.0.0:8080-:80",
                   "-device", "virtio-net-device,netdev=u0"});
  const NetdevConfig& d = c.netdevs.at(0);
  EXPECT_EQ(d.net, "192.168.76.0/24");
  EXPECT_EQ(d.host, "192.168.76.1");
  EXPECT_EQ(d.dhcpstart, "192.168.76.9");
  EXPECT_EQ(d.dns, "192.168.76.3");
  EXPECT_EQ(d.hostname, "vm0");
  EXPECT_TRUE(d.restrict);
  ASSERT_EQ(d.hostfwd.size(), 3u);
  EXPECT_FALSE(d.hostfwd[0].udp);
  EXPECT_EQ(d.hostfwd[0].host_addr, "");
  EXPECT_EQ(d.hostfwd[0].host_port, 2222);
  EXPECT_EQ(d.hostfwd[0].guest_addr, "");
  EXPECT_EQ(d.hostfwd[0].guest_port, 22);
  EXPECT_TRUE(d.hostfwd[1].udp);
  EXPECT_EQ(d.hostfwd[1].host_addr, "127.0.0.1");
  EXPECT_EQ(d.hostfwd[1].host_port, 5353);
  EXPECT_EQ(d.hostfwd[1].guest_addr, "192.168.76.9");
  EXPECT_EQ(d.hostfwd[1].guest_port, 53);
  EXPECT_FALSE(d.hostfwd[2].udp);  // no protocol: tcp
  EXPECT_EQ(d.hostfwd[2].host_addr, "0.0.0.0");
  EXPECT_EQ(d.hostfwd[2].host_port, 8080);
  EXPECT_EQ(d.hostfwd[2].guest_port, 80);
}

TEST(NetOptionsTest, UserErrors) {
  EXPECT_EQ(err({"-netdev", "user,id=u0,smb=/srv"}),
            "ferry: -netdev user,id=u0,smb=/srv: Invalid parameter 'smb'\n");
  EXPECT_EQ(err({"-netdev", "user,id=u0,restrict=sometimes"}),
            "ferry: -netdev user,id=u0,restrict=sometimes: Parameter 'restrict' expects 'on' or "
            "'off'\n");
  EXPECT_EQ(err({"-netdev", "user,id=u0,ipv4=off"}),
            "ferry: -netdev user,id=u0,ipv4=off: ipv4=off is not supported\n");
  EXPECT_EQ(err({"-netdev", "user,id=u0,ifname=tap0"}),
            "ferry: -netdev user,id=u0,ifname=tap0: Invalid parameter 'ifname'\n");
}

TEST(NetOptionsTest, MalformedHostForwards) {
  const std::pair<const char*, const char*> cases[] = {
      {"tcp:2222-:22", "(expected [tcp|udp]:[HOSTADDR]:PORT-[GUESTADDR]:PORT)"},
      {"2222", "(expected [tcp|udp]:[HOSTADDR]:PORT-[GUESTADDR]:PORT)"},
      {"tcp::2222:22", "(no '-' between host and guest)"},
      {"sctp::2222-:22", "(bad protocol name 'sctp')"},
      {"tcp:localhost:2222-:22", "(bad host address 'localhost')"},
      {"tcp::2222-10.0.2:22", "(bad guest address '10.0.2')"},
      {"tcp::65536-:22", "(bad host port '65536')"},
      {"tcp::ssh-:22", "(bad host port 'ssh')"},
      {"tcp::2222-:0", "(bad guest port '0')"},
      {"tcp::2222-:", "(bad guest port '')"},
  };
  for (const auto& [rule, why] : cases) {
    const std::string arg = std::string("user,id=u0,hostfwd=") + rule;
    EXPECT_EQ(err({"-netdev", arg}), "ferry: -netdev " + arg + ": Invalid host forwarding rule '" +
                                         rule + "' " + why + "\n");
  }
}

TEST(NetOptionsTest, ParseHostfwdAndMacDirectly) {
  HostForward f;
  EXPECT_EQ(parse_hostfwd("udp::0-:53", &f), "");  // host port 0: any
  EXPECT_TRUE(f.udp);
  EXPECT_EQ(f.host_port, 0);
  EXPECT_EQ(f.guest_port, 53);

  MacAddress m{};
  EXPECT_TRUE(parse_mac("52:54:00:AB:cd:0f", &m));
  EXPECT_EQ(m, mac(0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f));
  EXPECT_TRUE(parse_mac("02-00-00-00-00-01", &m));
  EXPECT_EQ(m, mac(2, 0, 0, 0, 0, 1));
  for (const char* bad : {"", "52:54:00:12:34", "52:54:00:12:34:567", "52:54:00:12:34:5g",
                          "52.54.00.12.34.56", "52:54:00:12:34:56:"})
    EXPECT_FALSE(parse_mac(bad, &m)) << bad;
  EXPECT_EQ(format_mac(mac(0x52, 0x54, 0, 0xab, 0xcd, 0xef)), "52:54:00:ab:cd:ef");
}

// ---- netdev ids, back ends -----------------------------------------------------

TEST(NetOptionsTest, NetdevIdAndTypeErrors) {
  EXPECT_EQ(err({"-netdev", "user"}), "ferry: -netdev user: Parameter 'id' is missing\n");
  EXPECT_EQ(err({"-netdev", "tap,ifname=tap0"}),
            "ferry: -netdev tap,ifname=tap0: Parameter 'id' is missing\n");
  EXPECT_EQ(err({"-netdev", "user,id=n0", "-netdev", "tap,id=n0,ifname=tap0"}),
            "ferry: -netdev tap,id=n0,ifname=tap0: Duplicate ID 'n0' for netdev\n");
  EXPECT_EQ(err({"-netdev", "socket,id=n0,listen=:1234"}),
            "ferry: -netdev socket,id=n0,listen=:1234: unsupported network back end 'socket' "
            "(ferry has tap and user)\n");
  EXPECT_EQ(err({"-netdev", "id=n0,type=vde"}),
            "ferry: -netdev id=n0,type=vde: unsupported network back end 'vde' (ferry has tap and "
            "user)\n");
  // No type at all: QEMU's words, not "unsupported back end 'id=n0'".
  EXPECT_EQ(err({"-netdev", "id=n0,ifname=tap0"}),
            "ferry: -netdev id=n0,ifname=tap0: Parameter 'type' is missing\n");
  EXPECT_EQ(err({"-netdev", ""}),
            "ferry: -netdev : Parameter 'type' is missing\n");
}

TEST(NetOptionsTest, ANetdevWithoutACardIsAnError) {
  EXPECT_EQ(err({"-netdev", "user,id=lonely"}),
            "ferry: -netdev user,id=lonely: no network card uses it (add -device "
            "virtio-net-device,netdev=lonely)\n");
  EXPECT_EQ(err({"-netdev", "user,id=a", "-netdev", "tap,id=b,ifname=tap0", "-device",
                 "virtio-net-device,netdev=a"}),
            "ferry: -netdev tap,id=b: no network card uses it (add -device "
            "virtio-net-device,netdev=b)\n");
}

// ---- -device virtio-net-device ----------------------------------------------------

TEST(NetOptionsTest, CardWithMacAndId) {
  VmConfig c = ok({"-netdev", "user,id=u0", "-device",
                   "virtio-net-device,netdev=u0,mac=02:00:00:aa:bb:cc,id=nic0"});
  ASSERT_EQ(c.nics.size(), 1u);
  EXPECT_EQ(c.nics[0].netdev, "u0");
  EXPECT_EQ(c.nics[0].id, "nic0");
  EXPECT_EQ(c.nics[0].mac, mac(0x02, 0, 0, 0xaa, 0xbb, 0xcc));
  // "virtio-net" is the same card.
  c = ok({"-netdev", "user,id=u0", "-device", "virtio-net,netdev=u0"});
  EXPECT_EQ(c.nics.size(), 1u);
  EXPECT_TRUE(NetOptions::is_net_device("virtio-net-device,netdev=x"));
  EXPECT_FALSE(NetOptions::is_net_device("virtio-blk-device,drive=x"));
}

TEST(NetOptionsTest, DefaultMacsAreQemusAndSkipTheGivenOnes) {
  VmConfig c = ok({"-netdev", "user,id=a", "-netdev", "user,id=b", "-netdev", "user,id=c",
                   "-netdev", "user,id=d",
                   "-device", "virtio-net-device,netdev=a",
                   "-device", "virtio-net-device,netdev=b,mac=52:54:00:12:34:57",
                   "-device", "virtio-net-device,netdev=c",
                   "-device", "virtio-net-device,netdev=d"});
  ASSERT_EQ(c.nics.size(), 4u);
  EXPECT_EQ(c.nics[0].mac, mac(0x52, 0x54, 0x00, 0x12, 0x34, 0x56));
  EXPECT_EQ(c.nics[1].mac, mac(0x52, 0x54, 0x00, 0x12, 0x34, 0x57));  // given
  EXPECT_EQ(c.nics[2].mac, mac(0x52, 0x54, 0x00, 0x12, 0x34, 0x58));  // :57 is taken
  EXPECT_EQ(c.nics[3].mac, mac(0x52, 0x54, 0x00, 0x12, 0x34, 0x59));
  // Cards keep their command-line order among the virtio devices.
  EXPECT_LT(c.nics[0].order, c.nics[1].order);
  EXPECT_LT(c.nics[2].order, c.nics[3].order);
  ASSERT_EQ(c.netdevs.size(), 4u);
  EXPECT_EQ(c.netdevs[3].id, "d");
}

TEST(NetOptionsTest, CardErrors) {
  EXPECT_EQ(err({"-device", "virtio-net-device"}),
            "ferry: -device virtio-net-device: a network card needs netdev=ID (a -netdev tap or "
            "user)\n");
  EXPECT_EQ(err({"-device", "virtio-net-device,netdev=nope"}),
            "ferry: -device virtio-net-device,netdev=nope: Property 'virtio-net-device.netdev' "
            "can't find value 'nope'\n");
  EXPECT_EQ(err({"-netdev", "user,id=u0", "-device", "virtio-net-device,netdev=u0", "-device",
                 "virtio-net-device,netdev=u0,id=second"}),
            "ferry: -device virtio-net-device,netdev=u0,id=second: Property "
            "'virtio-net-device.netdev' can't use value 'u0', because it is already in use\n");
  EXPECT_EQ(err({"-netdev", "user,id=a", "-netdev", "user,id=b", "-device",
                 "virtio-net-device,netdev=a,mac=52:54:00:00:00:01", "-device",
                 "virtio-net-device,netdev=b,mac=52:54:00:00:00:01"}),
            "ferry: -device virtio-net-device,netdev=b,mac=52:54:00:00:00:01: MAC address "
            "52:54:00:00:00:01 is already used by another network card\n");
  EXPECT_EQ(err({"-netdev", "user,id=u0", "-device",
                 "virtio-net-device,netdev=u0,mac=01:00:5e:00:00:01"}),
            "ferry: -device virtio-net-device,netdev=u0,mac=01:00:5e:00:00:01: 01:00:5e:00:00:01 "
            "is a multicast address, not a card's\n");
  EXPECT_EQ(err({"-netdev", "user,id=u0", "-device", "virtio-net-device,netdev=u0,mac=52:54:00"}),
            "ferry: -device virtio-net-device,netdev=u0,mac=52:54:00: Property "
            "'virtio-net-device.mac' doesn't take value '52:54:00'\n");
  EXPECT_EQ(err({"-netdev", "user,id=u0", "-device", "virtio-net-device,netdev=u0,mq=on"}),
            "ferry: -device virtio-net-device,netdev=u0,mq=on: Property 'virtio-net-device.mq' "
            "not found\n");
}

// ---- -nic ------------------------------------------------------------------------

TEST(NetOptionsTest, NicIsABackEndAndItsCard) {
  VmConfig c = ok({"-nic", "user,hostfwd=tcp::2222-:22,mac=02:11:22:33:44:55,model=virtio-net-device",
                   "-nic", "tap,ifname=tap3,vnet_hdr=off"});
  ASSERT_EQ(c.netdevs.size(), 2u);
  ASSERT_EQ(c.nics.size(), 2u);
  EXPECT_EQ(c.netdevs[0].type, "user");
  ASSERT_EQ(c.netdevs[0].hostfwd.size(), 1u);
  EXPECT_EQ(c.netdevs[0].hostfwd[0].host_port, 2222);
  EXPECT_EQ(c.netdevs[1].type, "tap");
  EXPECT_EQ(c.netdevs[1].ifname, "tap3");
  EXPECT_FALSE(c.netdevs[1].vnet_hdr);
  // Each card on its own back end.
  EXPECT_EQ(c.nics[0].netdev, c.netdevs[0].id);
  EXPECT_EQ(c.nics[1].netdev, c.netdevs[1].id);
  EXPECT_NE(c.netdevs[0].id, c.netdevs[1].id);
  EXPECT_EQ(c.nics[0].mac, mac(0x02, 0x11, 0x22, 0x33, 0x44, 0x55));
  EXPECT_EQ(c.nics[1].mac, mac(0x52, 0x54, 0x00, 0x12, 0x34, 0x56));  // the first default
  // -nic cards come after the -device ones.
  c = ok({"-nic", "user", "-netdev", "user,id=u0", "-device", "virtio-net-device,netdev=u0"});
  ASSERT_EQ(c.nics.size(), 2u);
  EXPECT_EQ(c.nics[0].netdev, c.netdevs[0].id);  // the -nic's
  EXPECT_GT(c.nics[0].order, c.nics[1].order);
  // -nic none: no card.
  EXPECT_TRUE(ok({"-nic", "none"}).nics.empty());
  // A type= works there too.
  EXPECT_EQ(ok({"-nic", "type=user,model=virtio"}).netdevs.at(0).type, "user");
}

TEST(NetOptionsTest, NicErrorsNameTheNic) {
  EXPECT_EQ(err({"-nic", "user,model=e1000"}),
            "ferry: -nic user,model=e1000: unsupported NIC model 'e1000' (the board has "
            "virtio-net-device cards)\n");
  EXPECT_EQ(err({"-nic", "bridge,br=br0"}),
            "ferry: -nic bridge,br=br0: unsupported network back end 'bridge' (ferry has tap and "
            "user)\n");
  EXPECT_EQ(err({"-nic", "user,bogus=1"}), "ferry: -nic user,bogus=1: Invalid parameter 'bogus'\n");
  EXPECT_EQ(err({"-nic", "tap"}),
            "ferry: -nic tap: a tap needs ifname=TAP (made beforehand) or fd=N\n");
  EXPECT_EQ(err({"-nic", "user,hostfwd=tcp::1-:"}),
            "ferry: -nic user,hostfwd=tcp::1-:: Invalid host forwarding rule 'tcp::1-:' (bad guest "
            "port '')\n");
  EXPECT_EQ(err({"-nic", "user,mac=ff:ff:ff:ff:ff:ff"}),
            "ferry: -nic user,mac=ff:ff:ff:ff:ff:ff: ff:ff:ff:ff:ff:ff is a multicast address, not "
            "a card's\n");
  EXPECT_EQ(err({"-nic", "user,mac=zz"}),
            "ferry: -nic user,mac=zz: Property 'virtio-net-device.mac' doesn't take value 'zz'\n");
  EXPECT_EQ(err({"-nic", "model=virtio"}), "ferry: -nic model=virtio: Parameter 'type' is missing\n");
  EXPECT_EQ(err({"-nic", ""}), "ferry: -nic : a back end type is needed (tap or user)\n");
  // A clash between a -nic's MAC and another card's names the -nic as given,
  // not the back end and card it stands for.
  EXPECT_EQ(err({"-netdev", "user,id=u0", "-device", "virtio-net-device,netdev=u0,mac=02:00:00:00:00:07",
                 "-nic", "user,mac=02:00:00:00:00:07"}),
            "ferry: -nic user,mac=02:00:00:00:00:07: MAC address 02:00:00:00:00:07 is already used "
            "by another network card\n");
}

TEST(NetOptionsTest, NetOptionsClassReportsWithoutThePrefix) {
  NetOptions n;
  EXPECT_EQ(n.add_netdev("user,id=u0"), "");
  EXPECT_EQ(n.add_device("virtio-net-device,netdev=u0", 3), "");
  EXPECT_EQ(n.add_nic("user", 2000), "");
  std::vector<NetdevConfig> netdevs;
  std::vector<NicConfig> nics;
  ASSERT_EQ(n.resolve(&netdevs, &nics), "");
  ASSERT_EQ(nics.size(), 2u);
  EXPECT_EQ(nics[0].order, 3);
  EXPECT_EQ(nics[1].order, 2000);
  EXPECT_EQ(n.add_netdev("user,id=u0"), "-netdev user,id=u0: Duplicate ID 'u0' for netdev");
}

// ---- help ------------------------------------------------------------------------

TEST(NetOptionsTest, HelpShowsTheNetworkOptions) {
  OptionsResult r = parse_options(std::vector<std::string>{"--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const char* s : {"-netdev tap,id=ID,ifname=TAP", "vnet_hdr=on|off", "-netdev tap,id=ID,fd=N",
                        "-netdev user,id=ID", "dhcpstart=ADDR", "hostfwd=[tcp|udp]:",
                        "-device virtio-net-device,netdev=ID", "mac=", "-nic tap|user",
                        "model=virtio-net-device"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace ferry
