#include "vm/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry {
namespace {

using Action = OptionsResult::Action;

OptionsResult parse(std::vector<std::string> args) { return parse_options(args); }

VmConfig ok(std::vector<std::string> args) {
  OptionsResult r = parse(args);
  EXPECT_EQ(r.action, Action::kRun) << r.output;
  EXPECT_EQ(r.exit_code, 0);
  return r.config;
}

std::string err(std::vector<std::string> args) {
  OptionsResult r = parse(args);
  EXPECT_EQ(r.action, Action::kExit);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.output.empty());
  EXPECT_EQ(r.output.back(), '\n');
  return r.output;
}

// ---- defaults --------------------------------------------------------------

TEST(OptionsTest, NoArgumentsGivesDefaults) {
  VmConfig c = ok({});
  EXPECT_EQ(c.machine, "virt");
  EXPECT_EQ(c.ram_size, 128ull << 20);
  EXPECT_EQ(c.smp, 1);
  EXPECT_EQ(c.kernel, "");
  EXPECT_EQ(c.bios, "");
  EXPECT_FALSE(c.start_paused);
  EXPECT_FALSE(c.nographic);
  EXPECT_TRUE(c.qmp.empty());
  EXPECT_EQ(c.incoming, "");
  // Without -nographic: serial on stdio, no monitor.
  EXPECT_EQ(c.serial, "stdio");
  EXPECT_EQ(c.monitor, "none");
}

TEST(OptionsTest, TypicalCommandLine) {
  VmConfig c = ok({"-M", "virt", "-m", "256M", "-smp", "1", "-bios", "none", "-kernel",
                   "guest.elf", "-append", "console=ttyS0 quiet", "-nographic", "-name", "vm0",
                   "-S", "-qmp", "unix:/tmp/q.sock,server,nowait"});
  EXPECT_EQ(c.ram_size, 256ull << 20);
  EXPECT_EQ(c.bios, "none");
  EXPECT_EQ(c.kernel, "guest.elf");
  EXPECT_EQ(c.append, "console=ttyS0 quiet");
  EXPECT_TRUE(c.nographic);
  EXPECT_EQ(c.name, "vm0");
  EXPECT_TRUE(c.start_paused);
  ASSERT_EQ(c.qmp.size(), 1u);
  EXPECT_EQ(c.qmp[0], "unix:/tmp/q.sock,server,nowait");
  // -qmp turns the default monitor off: plain stdio serial, no mux.
  EXPECT_EQ(c.serial, "stdio");
  EXPECT_EQ(c.monitor, "none");
}

// ---- -machine --------------------------------------------------------------

TEST(OptionsTest, MachineSpellings) {
  EXPECT_EQ(ok({"-M", "virt"}).machine, "virt");
  EXPECT_EQ(ok({"-machine", "virt"}).machine, "virt");
  EXPECT_EQ(ok({"-machine", "type=virt"}).machine, "virt");
  EXPECT_EQ(ok({"--machine", "virt"}).machine, "virt");
  EXPECT_EQ(ok({"-machine", "virt,accel=tcg"}).machine, "virt");
}

TEST(OptionsTest, OtherMachinesAreRejected) {
  std::string e = err({"-M", "sifive_u"});
  EXPECT_NE(e.find("ferry: "), std::string::npos);
  EXPECT_NE(e.find("unsupported machine type 'sifive_u'"), std::string::npos) << e;
  EXPECT_NE(err({"-machine", "type=spike"}).find("unsupported machine type 'spike'"),
            std::string::npos);
  EXPECT_NE(err({"-machine", "virt,aia=aplic-imsic"}).find("unsupported machine property 'aia'"),
            std::string::npos);
  EXPECT_NE(err({"-machine", "virt,accel=kvm"}).find("kvm"), std::string::npos);
}

TEST(OptionsTest, MachineHelpListsVirt) {
  for (const char* spelling : {"-M", "-machine", "--machine"}) {
    OptionsResult r = parse({spelling, "help"});
    EXPECT_EQ(r.action, Action::kExit);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("virt"), std::string::npos);
    EXPECT_NE(r.output.find("Supported machines are:"), std::string::npos);
  }
  EXPECT_EQ(parse({"-M", "?"}).exit_code, 0);
}

// ---- -m --------------------------------------------------------------------

TEST(OptionsTest, MemorySizes) {
  EXPECT_EQ(ok({"-m", "512"}).ram_size, 512ull << 20);  // bare number = MiB
  EXPECT_EQ(ok({"-m", "256M"}).ram_size, 256ull << 20);
  EXPECT_EQ(ok({"-m", "256m"}).ram_size, 256ull << 20);
  EXPECT_EQ(ok({"-m", "1G"}).ram_size, 1ull << 30);
  EXPECT_EQ(ok({"-m", "2g"}).ram_size, 2ull << 30);
  EXPECT_EQ(ok({"-m", "1T"}).ram_size, 1ull << 40);
  EXPECT_EQ(ok({"-m", "65536K"}).ram_size, 64ull << 20);
  EXPECT_EQ(ok({"-m", "1.5G"}).ram_size, 3ull << 29);
  EXPECT_EQ(ok({"-m", "size=1G"}).ram_size, 1ull << 30);
  EXPECT_EQ(ok({"--m", "64"}).ram_size, 64ull << 20);
}

TEST(OptionsTest, MemoryZeroMeansDefaultAndSizesAlignUp) {
  EXPECT_EQ(ok({"-m", "0"}).ram_size, 128ull << 20);
  EXPECT_EQ(ok({"-m", "1000B"}).ram_size, 8192u);
  EXPECT_EQ(ok({"-m", "9K"}).ram_size, 16384u);
}

TEST(OptionsTest, BadMemorySizes) {
  for (const char* bad : {"foo", "", "12X", "1.5.5G", "-1", "1.5B", "G", "99999999999999999999",
                          "20000000T"}) {
    std::string e = err({"-m", bad});
    EXPECT_NE(e.find("ferry: -m"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_NE(err({"-m", "1G,maxmem=4G"}).find("maxmem"), std::string::npos);
  EXPECT_NE(err({"-m", "1G,slots=2"}).find("slots"), std::string::npos);
  EXPECT_NE(err({"-m", "1G,bogus=1"}).find("Invalid parameter 'bogus'"), std::string::npos);
}

TEST(OptionsTest, ParseRamSizeDirectly) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_ram_size("4096B", &v));
  EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parse_ram_size("0.5M", &v));
  EXPECT_EQ(v, 512u << 10);
  EXPECT_FALSE(parse_ram_size("0x10", &v));
  EXPECT_FALSE(parse_ram_size(" 1G", &v));
}

// ---- -smp ------------------------------------------------------------------

TEST(OptionsTest, SmpOne) {
  EXPECT_EQ(ok({"-smp", "1"}).smp, 1);
  EXPECT_EQ(ok({"-smp", "cpus=1"}).smp, 1);
  EXPECT_EQ(ok({"-smp", "1,sockets=1,cores=1,threads=1,maxcpus=1"}).smp, 1);
}

TEST(OptionsTest, SmpSeveralHarts) {
  EXPECT_EQ(ok({"-smp", "4"}).smp, 4);
  EXPECT_EQ(ok({"-smp", "cpus=8"}).smp, 8);
  EXPECT_EQ(ok({"-smp", "2,sockets=1,cores=2,threads=1,maxcpus=2"}).smp, 2);
  EXPECT_EQ(ok({"-smp", "cores=3"}).smp, 3);
}

TEST(OptionsTest, SmpOutOfRangeOrOtherTopologiesAreErrors) {
  std::string e = err({"-smp", "9"});
  EXPECT_NE(e.find("ferry: -smp 9"), std::string::npos) << e;
  EXPECT_NE(e.find("1 to 8 CPUs"), std::string::npos) << e;
  EXPECT_NE(err({"-smp", "1,maxcpus=2"}).find("maxcpus=2"), std::string::npos);
  EXPECT_NE(err({"-smp", "1,cores=2"}).find("cores=2"), std::string::npos);
  EXPECT_NE(err({"-smp", "2,sockets=2"}).find("sockets=2"), std::string::npos);
  EXPECT_NE(err({"-smp", "0"}).find("ferry: -smp 0"), std::string::npos);
  EXPECT_NE(err({"-smp", "two"}).find("expects a number"), std::string::npos);
  EXPECT_NE(err({"-smp", "1,bogus=1"}).find("Invalid parameter 'bogus'"), std::string::npos);
}

// ---- boot ------------------------------------------------------------------

TEST(OptionsTest, Bios) {
  EXPECT_EQ(ok({"-bios", "none"}).bios, "none");
  EXPECT_EQ(ok({"-bios", "fw_jump.elf"}).bios, "fw_jump.elf");
  EXPECT_EQ(ok({"-bios", "default"}).bios, "");
}

TEST(OptionsTest, AppendKeepsSpacesAndCommas) {
  EXPECT_EQ(ok({"-kernel", "Image", "-append", "a=1,b=2 c"}).append, "a=1,b=2 c");
  EXPECT_EQ(ok({"-append", ""}).append, "");
}

TEST(OptionsTest, InitrdAndDtb) {
  VmConfig c = ok({"-kernel", "Image", "-initrd", "initrd.gz", "-dtb", "board.dtb",
                   "-append", "console=ttyS0"});
  EXPECT_EQ(c.kernel, "Image");
  EXPECT_EQ(c.initrd, "initrd.gz");
  EXPECT_EQ(c.dtb, "board.dtb");
  EXPECT_EQ(ok({}).initrd, "");
  EXPECT_EQ(ok({}).dtb, "");
  // A device tree alone is fine (firmware reads it), as in QEMU.
  EXPECT_EQ(ok({"-dtb", "board.dtb"}).dtb, "board.dtb");
  EXPECT_EQ(err({"-initrd", ""}), "ferry: -initrd: empty file name\n");
  EXPECT_EQ(err({"-dtb", ""}), "ferry: -dtb: empty file name\n");
}

TEST(OptionsTest, MachineDumpdtb) {
  EXPECT_EQ(ok({"-machine", "dumpdtb=virt.dtb"}).dumpdtb, "virt.dtb");
  EXPECT_EQ(ok({"-M", "virt,dumpdtb=a,,b.dtb"}).dumpdtb, "a,b.dtb");
  EXPECT_EQ(ok({}).dumpdtb, "");
  EXPECT_NE(err({"-M", "virt,dumpdtb="}).find("dumpdtb needs a file name"), std::string::npos);
}

TEST(OptionsTest, AppendAndInitrdNeedAKernel) {
  // QEMU's words.
  EXPECT_EQ(err({"-append", "console=ttyS0"}), "ferry: -append only allowed with -kernel option\n");
  EXPECT_EQ(err({"-initrd", "initrd.gz"}), "ferry: -initrd only allowed with -kernel option\n");
  EXPECT_EQ(err({"-bios", "fw.bin", "-initrd", "initrd.gz"}),
            "ferry: -initrd only allowed with -kernel option\n");
}

TEST(OptionsTest, MissingArguments) {
  for (const char* opt : {"-m", "-M", "-machine", "-smp", "-kernel", "-bios", "-append",
                          "-initrd", "-dtb",
                          "-serial", "-monitor", "-qmp", "-name", "-incoming", "-display"}) {
    std::string e = err({opt});
    EXPECT_EQ(e, std::string("ferry: ") + opt + ": requires an argument\n");
  }
  EXPECT_EQ(err({"-kernel", "x", "--m"}), "ferry: --m: requires an argument\n");
}

// ---- invalid / unsupported ------------------------------------------------

TEST(OptionsTest, UnknownOptionsAreErrors) {
  EXPECT_EQ(err({"-foo"}), "ferry: -foo: invalid option\n");
  EXPECT_EQ(err({"--foo"}), "ferry: --foo: invalid option\n");
  EXPECT_EQ(err({"-m", "1G", "-bogus", "x"}), "ferry: -bogus: invalid option\n");
}

TEST(OptionsTest, KnownQemuOptionsWeLackSayUnsupported) {
  EXPECT_EQ(err({"-enable-kvm"}), "ferry: -enable-kvm: unsupported option\n");
  EXPECT_EQ(err({"-device", "virtio-gpu-device"}),
            "ferry: -device virtio-gpu-device: unsupported device 'virtio-gpu-device' (ferry "
            "has virtio-blk-device and virtio-net-device)\n");
  EXPECT_EQ(err({"-netdev", "bridge,id=n"}),
            "ferry: -netdev bridge,id=n: unsupported network back end 'bridge' (ferry has tap "
            "and user)\n");
  EXPECT_EQ(err({"--cpu", "rv64"}), "ferry: --cpu: unsupported option\n");
}

TEST(OptionsTest, DisksInQemuSpelling) {
  // A bare image, -drive if=virtio (the default) and -drive if=none with -device:
  // the -device ones first, then the drives with their own device.
  VmConfig c = ok({"-m", "1G", "a,b.qcow2", "-drive", "file=r.img,format=raw,readonly=on",
                   "-drive", "if=none,id=d0,file=x.qcow2,format=qcow2,cache=none",
                   "-device", "virtio-blk-device,drive=d0,serial=SER1"});
  ASSERT_EQ(c.disks.size(), 3u);
  EXPECT_EQ(c.disks[0].file, "x.qcow2");
  EXPECT_EQ(c.disks[0].format, "qcow2");
  EXPECT_EQ(c.disks[0].cache, "none");
  EXPECT_EQ(c.disks[0].serial, "SER1");
  EXPECT_EQ(c.disks[1].file, "a,b.qcow2");
  EXPECT_EQ(c.disks[1].format, "");
  EXPECT_FALSE(c.disks[1].read_only);
  EXPECT_EQ(c.disks[2].file, "r.img");
  EXPECT_TRUE(c.disks[2].read_only);
  EXPECT_EQ(ok({"-hda", "h.img"}).disks.at(0).file, "h.img");
}

TEST(OptionsTest, DiskErrorsNameTheProblem) {
  EXPECT_EQ(err({"-drive", "file=x,format=vmdk"}),
            "ferry: -drive file=x,format=vmdk: Unknown driver 'vmdk' (ferry reads raw and qcow2)\n");
  EXPECT_EQ(err({"-drive", "format=raw"}), "ferry: -drive format=raw: a disk needs file=PATH\n");
  EXPECT_EQ(err({"-drive", "file=x,if=ide"}),
            "ferry: -drive file=x,if=ide: unsupported interface 'ide' (the virt board's disks "
            "are virtio; if=none with -device)\n");
  EXPECT_EQ(err({"-drive", "file=x,bogus=1"}), "ferry: -drive file=x,bogus=1: Invalid parameter 'bogus'\n");
  EXPECT_EQ(err({"-device", "virtio-blk-device,drive=nope"}),
            "ferry: -device virtio-blk-device,drive=nope: Property 'virtio-blk-device.drive' "
            "can't find value 'nope'\n");
  EXPECT_EQ(err({"-drive", "if=none,id=d,file=x", "-device", "virtio-blk-device,drive=d",
                 "-device", "virtio-blk-device,drive=d"}),
            "ferry: -device virtio-blk-device,drive=d: Drive 'd' is already in use by another "
            "device\n");
  EXPECT_EQ(err({"-drive", "id=d,file=x", "-drive", "id=d,file=y"}),
            "ferry: -drive id=d,file=y: Duplicate ID 'd' for drive\n");
  EXPECT_EQ(err({"-device", "virtio-blk-device"}),
            "ferry: -device virtio-blk-device: drive property not set\n");
}

TEST(OptionsTest, ErrorStopsAtFirstProblem) {
  EXPECT_EQ(err({"-foo", "-bar"}), "ferry: -foo: invalid option\n");
}

// ---- help / version ---------------------------------------------------------

TEST(OptionsTest, Help) {
  for (const char* h : {"-h", "-help", "--help"}) {
    OptionsResult r = parse({h});
    EXPECT_EQ(r.action, Action::kExit);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("usage: ferry"), std::string::npos);
    EXPECT_NE(r.output.find("-nographic"), std::string::npos);
    EXPECT_NE(r.output.find("-qmp"), std::string::npos);
  }
  // Help wins even after other options.
  EXPECT_EQ(parse({"-m", "1G", "--help"}).exit_code, 0);
}

TEST(OptionsTest, Version) {
  for (const char* v : {"-version", "--version"}) {
    OptionsResult r = parse({v});
    EXPECT_EQ(r.action, Action::kExit);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output.rfind("ferry version ", 0), 0u) << r.output;
    EXPECT_NE(r.output.find("QEMU"), std::string::npos);
  }
}

TEST(OptionsTest, ArgvOverload) {
  const char* argv[] = {"ferry", "-m", "1G", "-S"};
  OptionsResult r = parse_options(4, argv);
  EXPECT_EQ(r.action, Action::kRun);
  EXPECT_EQ(r.config.ram_size, 1ull << 30);
  EXPECT_TRUE(r.config.start_paused);
}

// ---- display / name / incoming ---------------------------------------------

TEST(OptionsTest, Display) {
  EXPECT_FALSE(ok({"-display", "none"}).nographic);
  EXPECT_NE(err({"-display", "gtk"}).find("unsupported display type 'gtk'"), std::string::npos);
  EXPECT_NE(err({"-display", "sdl,gl=on"}).find("'sdl'"), std::string::npos);
  EXPECT_EQ(parse({"-display", "help"}).exit_code, 0);
}

TEST(OptionsTest, Name) {
  EXPECT_EQ(ok({"-name", "guest0"}).name, "guest0");
  EXPECT_EQ(ok({"-name", "guest=guest1"}).name, "guest1");
  EXPECT_EQ(ok({"-name", "guest=a,,b,process=ferry-a"}).name, "a,b");
  EXPECT_EQ(ok({"-name", "vm,debug-threads=on"}).name, "vm");
  EXPECT_NE(err({"-name", "vm,color=red"}).find("Invalid parameter 'color'"), std::string::npos);
}

TEST(OptionsTest, Incoming) {
  EXPECT_EQ(ok({"-incoming", "tcp:0.0.0.0:4444"}).incoming, "tcp:0.0.0.0:4444");
  EXPECT_EQ(ok({"-incoming", "defer"}).incoming, "defer");
  EXPECT_NE(err({"-incoming", ""}).find("ferry: -incoming"), std::string::npos);
}

TEST(OptionsTest, BooleanFlags) {
  VmConfig c = ok({"-S", "-nodefaults", "--nographic"});
  EXPECT_TRUE(c.start_paused);
  EXPECT_TRUE(c.nodefaults);
  EXPECT_TRUE(c.nographic);
}

// ---- chardevs and defaults ---------------------------------------------------

TEST(OptionsTest, NographicDefaultsToMux) {
  VmConfig c = ok({"-nographic"});
  EXPECT_EQ(c.serial, "mon:stdio");
  EXPECT_EQ(c.monitor, "none");
}

TEST(OptionsTest, NographicWithSerialPutsMonitorOnStdio) {
  VmConfig c = ok({"-nographic", "-serial", "file:/tmp/out.txt"});
  EXPECT_EQ(c.serial, "file:/tmp/out.txt");
  EXPECT_EQ(c.monitor, "stdio");
}

TEST(OptionsTest, NographicWithMonitorElsewherePutsSerialOnStdio) {
  VmConfig c = ok({"-nographic", "-monitor", "unix:/tmp/m.sock,server,nowait"});
  EXPECT_EQ(c.serial, "stdio");
  EXPECT_EQ(c.monitor, "unix:/tmp/m.sock,server,nowait");
  c = ok({"-nographic", "-monitor", "none"});
  EXPECT_EQ(c.serial, "stdio");
  EXPECT_EQ(c.monitor, "none");
}

TEST(OptionsTest, NographicWithMonitorStdioClashesLikeQemu) {
  EXPECT_EQ(err({"-nographic", "-monitor", "stdio"}),
            "ferry: cannot use stdio by multiple character devices\n");
}

TEST(OptionsTest, NographicNodefaults) {
  VmConfig c = ok({"-nographic", "-nodefaults"});
  EXPECT_EQ(c.serial, "none");
  EXPECT_EQ(c.monitor, "none");
  c = ok({"-nographic", "-nodefaults", "-serial", "mon:stdio"});
  EXPECT_EQ(c.serial, "mon:stdio");
  EXPECT_EQ(c.monitor, "none");
}

TEST(OptionsTest, SerialMonStdioWithoutNographic) {
  VmConfig c = ok({"-serial", "mon:stdio"});
  EXPECT_EQ(c.serial, "mon:stdio");
  EXPECT_EQ(c.monitor, "none");
}

TEST(OptionsTest, WithoutNographicSerialYieldsStdioToMonitor) {
  VmConfig c = ok({"-monitor", "stdio"});
  EXPECT_EQ(c.serial, "null");
  EXPECT_EQ(c.monitor, "stdio");
  c = ok({"-qmp", "stdio"});
  EXPECT_EQ(c.serial, "null");
  c = ok({"-display", "none", "-monitor", "tcp:127.0.0.1:5555,server,nowait"});
  EXPECT_EQ(c.serial, "stdio");
}

TEST(OptionsTest, NodefaultsWithoutNographic) {
  VmConfig c = ok({"-nodefaults"});
  EXPECT_EQ(c.serial, "none");
  EXPECT_EQ(c.monitor, "none");
}

TEST(OptionsTest, StdioTwiceIsAnError) {
  EXPECT_EQ(err({"-serial", "stdio", "-monitor", "stdio"}),
            "ferry: cannot use stdio by multiple character devices\n");
  EXPECT_EQ(err({"-serial", "mon:stdio", "-qmp", "stdio"}),
            "ferry: cannot use stdio by multiple character devices\n");
}

TEST(OptionsTest, QmpIsRepeatable) {
  VmConfig c = ok({"-qmp", "unix:/tmp/a.sock,server=on,wait=off", "-qmp",
                   "tcp:127.0.0.1:4444,server,nowait"});
  ASSERT_EQ(c.qmp.size(), 2u);
  EXPECT_EQ(c.qmp[1], "tcp:127.0.0.1:4444,server,nowait");
}

TEST(OptionsTest, ChardevSpecsAreValidated) {
  EXPECT_NE(err({"-serial", "pty"}).find("ferry: -serial pty:"), std::string::npos);
  EXPECT_NE(err({"-serial", "bogus"}).find("unknown backend 'bogus'"), std::string::npos);
  EXPECT_NE(err({"-qmp", "unix:/tmp/q,server,telnet"}).find("unsupported option 'telnet'"),
            std::string::npos);
  EXPECT_NE(err({"-qmp", "tcp:localhost"}).find("ferry: -qmp tcp:localhost"), std::string::npos);
  EXPECT_NE(err({"-qmp", "mon:stdio"}).find("'mon:' is not supported for QMP"), std::string::npos);
  EXPECT_NE(err({"-monitor", "unix:/tmp/m,wait=off"}).find("client connect mode"),
            std::string::npos);
}

TEST(OptionsTest, OnlyOneSerialAndMonitor) {
  EXPECT_NE(err({"-serial", "null", "-serial", "stdio"}).find("only one serial port"),
            std::string::npos);
  EXPECT_NE(err({"-monitor", "null", "-monitor", "none"}).find("only one -monitor"),
            std::string::npos);
}

TEST(OptionsTest, MonitorMonPrefixMeansTheDevice) {
  VmConfig c = ok({"-serial", "null", "-monitor", "mon:stdio"});
  EXPECT_EQ(c.monitor, "stdio");
}

TEST(OptionsTest, SerialNone) {
  VmConfig c = ok({"-serial", "none"});
  EXPECT_EQ(c.serial, "none");
  EXPECT_EQ(c.monitor, "none");
  c = ok({"-nographic", "-serial", "none"});
  EXPECT_EQ(c.monitor, "stdio");
}

}  // namespace
}  // namespace ferry
