#include "vm/options.h"

#include "util/option_list.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "chardev/chardev_spec.h"
#include "vm/drive_options.h"
#include "vm/net_options.h"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry {
namespace {

constexpr uint64_t kMaxSmp = 8;  // Plic::kMaxHarts

constexpr uint64_t kDefaultRamSize = 128ull << 20;
constexpr uint64_t kRamAlign = 8192;  // QEMU aligns -m up to 8 KiB

struct KeyValue {
  std::string key;
  std::string value;
};

// QemuOpts-style "a,b=c,d": ",," is a literal comma; a first element
// without '=' is the value of `implied_key`; later bare words are "on".
std::vector<KeyValue> split_opts(const std::string& text, const char* implied_key) {
  const std::vector<std::string> parts = split_option_list(text);

  std::vector<KeyValue> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    size_t eq = p.find('=');
    if (eq != std::string::npos) {
      out.push_back({p.substr(0, eq), p.substr(eq + 1)});
    } else if (i == 0 && implied_key) {
      out.push_back({implied_key, p});
    } else {
      out.push_back({p, "on"});
    }
  }
  return out;
}

std::optional<uint64_t> parse_uint(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string machine_help() {
  return "Supported machines are:\n"
         "virt                 RISC-V VirtIO board (default)\n";
}

class Parser {
 public:
  explicit Parser(const std::vector<std::string>& args) : args_(args) {}
  OptionsResult run();

 private:
  // Each returns false after setting the error.
  bool handle(const std::string& spelled, const std::string& name);
  bool need_arg(const std::string& spelled, std::string* arg);
  bool fail(const std::string& message);
  bool finish(const std::string& message);  // successful early exit (help…)

  bool opt_machine(const std::string& spelled, const std::string& arg);
  bool opt_memory(const std::string& spelled, const std::string& arg);
  bool opt_smp(const std::string& spelled, const std::string& arg);
  bool opt_display(const std::string& spelled, const std::string& arg);
  bool opt_name(const std::string& spelled, const std::string& arg);
  bool check_chardev(const std::string& spelled, const std::string& arg,
                     std::optional<ChardevSpec>* spec);
  bool resolve_defaults();

  const std::vector<std::string>& args_;
  size_t pos_ = 0;
  OptionsResult result_;
  bool done_ = false;
  bool serial_given_ = false;
  bool monitor_given_ = false;
  DriveOptions drives_;
  NetOptions nets_;
  int device_order_ = 0;  // -device arguments so far (slot order)
  int nic_order_ = 2000;  // -nic cards come after every other virtio device
};

bool Parser::fail(const std::string& message) {
  result_.action = OptionsResult::Action::kExit;
  result_.exit_code = 1;
  result_.output = "ferry: " + message + "\n";
  done_ = true;
  return false;
}

bool Parser::finish(const std::string& message) {
  result_.action = OptionsResult::Action::kExit;
  result_.exit_code = 0;
  result_.output = message;
  done_ = true;
  return false;
}

bool Parser::need_arg(const std::string& spelled, std::string* arg) {
  if (pos_ >= args_.size()) return fail(spelled + ": requires an argument");
  *arg = args_[pos_++];
  return true;
}

OptionsResult Parser::run() {
  while (pos_ < args_.size() && !done_) {
    const std::string& spelled = args_[pos_++];
    if (spelled.size() < 2 || spelled[0] != '-') {
      // A bare image path, as QEMU's -hda.
      const std::string error = drives_.add_image(spelled);
      if (!error.empty()) {
        fail(error);
        break;
      }
      continue;
    }
    std::string name = spelled.substr(spelled[1] == '-' ? 2 : 1);
    if (!handle(spelled, name)) break;
  }
  if (!done_) resolve_defaults();
  return result_;
}

bool Parser::handle(const std::string& spelled, const std::string& name) {
  VmConfig& c = result_.config;
  std::string arg;

  if (name == "h" || name == "help") return finish(usage_text());
  if (name == "version") return finish(version_text());

  if (name == "M" || name == "machine") {
    return need_arg(spelled, &arg) && opt_machine(spelled, arg);
  }
  if (name == "m") return need_arg(spelled, &arg) && opt_memory(spelled, arg);
  if (name == "smp") return need_arg(spelled, &arg) && opt_smp(spelled, arg);
  if (name == "kernel") {
    if (!need_arg(spelled, &arg)) return false;
    if (arg.empty()) return fail(spelled + ": empty file name");
    c.kernel = arg;
    return true;
  }
  if (name == "bios") {
    if (!need_arg(spelled, &arg)) return false;
    if (arg.empty()) return fail(spelled + ": empty file name");
    c.bios = arg == "default" ? "" : arg;
    return true;
  }
  if (name == "append") {
    if (!need_arg(spelled, &arg)) return false;
    c.append = arg;
    return true;
  }
  if (name == "initrd") {
    if (!need_arg(spelled, &arg)) return false;
    if (arg.empty()) return fail(spelled + ": empty file name");
    c.initrd = arg;
    return true;
  }
  if (name == "dtb") {
    if (!need_arg(spelled, &arg)) return false;
    if (arg.empty()) return fail(spelled + ": empty file name");
    c.dtb = arg;
    return true;
  }
  if (name == "nographic") {
    c.nographic = true;
    return true;
  }
  if (name == "display") return need_arg(spelled, &arg) && opt_display(spelled, arg);
  if (name == "nodefaults") {
    c.nodefaults = true;
    return true;
  }
  if (name == "S") {
    c.start_paused = true;
    return true;
  }
  if (name == "name") return need_arg(spelled, &arg) && opt_name(spelled, arg);
  if (name == "serial") {
    if (!need_arg(spelled, &arg)) return false;
    std::optional<ChardevSpec> spec;
    if (!check_chardev(spelled, arg, &spec)) return false;
    if (serial_given_) {
      return fail(spelled + " " + arg + ": only one serial port is supported");
    }
    serial_given_ = true;
    c.serial = arg;
    return true;
  }
  if (name == "monitor") {
    if (!need_arg(spelled, &arg)) return false;
    std::optional<ChardevSpec> spec;
    if (!check_chardev(spelled, arg, &spec)) return false;
    if (monitor_given_) return fail(spelled + " " + arg + ": only one -monitor is supported");
    monitor_given_ = true;
    c.monitor = spec->mux ? arg.substr(4) : arg;
    return true;
  }
  if (name == "qmp") {
    if (!need_arg(spelled, &arg)) return false;
    std::optional<ChardevSpec> spec;
    if (!check_chardev(spelled, arg, &spec)) return false;
    if (spec->mux) return fail(spelled + " " + arg + ": 'mon:' is not supported for QMP");
    c.qmp.push_back(arg);
    return true;
  }
  if (name == "drive" || name == "device" || name == "hda") {
    if (!need_arg(spelled, &arg)) return false;
    std::string error;
    if (name == "device" && NetOptions::is_net_device(arg))
      error = nets_.add_device(arg, device_order_++);
    else if (name == "device")
      error = drives_.add_device(arg, device_order_++);
    else
      error = name == "drive" ? drives_.add_drive(arg) : drives_.add_image(arg);
    return error.empty() || fail(error);
  }
  if (name == "netdev" || name == "nic") {
    if (!need_arg(spelled, &arg)) return false;
    const std::string error =
        name == "netdev" ? nets_.add_netdev(arg) : nets_.add_nic(arg, nic_order_++);
    return error.empty() || fail(error);
  }
  if (name == "incoming") {
    if (!need_arg(spelled, &arg)) return false;
    if (arg.empty()) return fail(spelled + ": empty URI");
    c.incoming = arg;
    return true;
  }

  static constexpr std::string_view kKnownUnsupported[] = {
      "cpu", "accel", "enable-kvm", "net", "chardev",
      "mon", "hdb", "hdc", "hdd", "cdrom", "boot", "snapshot", "rtc",
      "icount", "d", "D", "gdb", "s", "no-reboot", "no-shutdown", "daemonize", "pidfile",
      "global", "object", "blockdev", "fsdev", "virtfs", "audiodev", "audio", "vga", "usb",
      "usbdevice", "parallel", "qmp-pretty", "trace", "L", "sandbox", "overcommit", "msg",
      "k", "full-screen", "sd", "mtdblock", "pflash", "runas", "chroot", "uuid", "smbios",
      "numa", "mem-path", "mem-prealloc", "action", "preconfig", "loadvm", "readconfig",
      "writeconfig", "no-user-config", "nodefconfig", "singlestep", "one-insn-per-tb",
      "seed", "spice", "vnc", "sdl", "curses", "g", "add-fd", "compat", "semihosting",
      "semihosting-config", "plugin", "watchdog-action", "virtioconsole", "echr",
      "bt", "option-rom", "prom-env", "tpmdev", "iscsi", "set", "machine-help", "run-with"};
  for (std::string_view u : kKnownUnsupported) {
    if (name == u) return fail(spelled + ": unsupported option");
  }
  return fail(spelled + ": invalid option");
}

bool Parser::opt_machine(const std::string& spelled, const std::string& arg) {
  for (const KeyValue& kv : split_opts(arg, "type")) {
    if (kv.key == "type") {
      if (kv.value == "help" || kv.value == "?") return finish(machine_help());
      if (kv.value != "virt") {
        return fail(spelled + " " + arg + ": unsupported machine type '" + kv.value +
                    "'\nUse -machine help to list supported machines");
      }
      result_.config.machine = "virt";
    } else if (kv.key == "dumpdtb") {
      if (kv.value.empty()) return fail(spelled + " " + arg + ": dumpdtb needs a file name");
      result_.config.dumpdtb = kv.value;
    } else if (kv.key == "accel") {
      if (kv.value != "tcg") {
        return fail(spelled + " " + arg + ": unsupported accelerator '" + kv.value +
                    "' (ferry has only its interpreter, accel=tcg)");
      }
    } else {
      return fail(spelled + " " + arg + ": unsupported machine property '" + kv.key + "'");
    }
  }
  return true;
}

bool Parser::opt_memory(const std::string& spelled, const std::string& arg) {
  for (const KeyValue& kv : split_opts(arg, "size")) {
    if (kv.key == "size") {
      uint64_t bytes;
      if (!parse_ram_size(kv.value, &bytes)) {
        return fail(spelled + " " + arg + ": invalid RAM size '" + kv.value +
                    "' (a number of MiB, or with a suffix K, M, G or T)");
      }
      if (bytes == 0) bytes = kDefaultRamSize;
      if (bytes > UINT64_MAX - kRamAlign) return fail(spelled + " " + arg + ": ram size too large");
      result_.config.ram_size = (bytes + kRamAlign - 1) / kRamAlign * kRamAlign;
    } else if (kv.key == "slots" || kv.key == "maxmem") {
      return fail(spelled + " " + arg + ": memory hotplug ('" + kv.key + "') is not supported");
    } else {
      return fail(spelled + " " + arg + ": Invalid parameter '" + kv.key + "'");
    }
  }
  return true;
}

bool Parser::opt_smp(const std::string& spelled, const std::string& arg) {
  static constexpr std::string_view kKeys[] = {"cpus",  "maxcpus", "sockets", "dies", "clusters",
                                               "cores", "threads", "books",   "drawers"};
  int cpus = 0, cores = 0, maxcpus = 0;
  for (const KeyValue& kv : split_opts(arg, "cpus")) {
    bool known = false;
    for (std::string_view k : kKeys) known = known || kv.key == k;
    if (!known) return fail(spelled + " " + arg + ": Invalid parameter '" + kv.key + "'");
    std::optional<uint64_t> n = parse_uint(kv.value);
    if (!n) {
      return fail(spelled + " " + arg + ": Parameter '" + kv.key + "' expects a number");
    }
    if (kv.key == "cpus" || kv.key == "maxcpus" || kv.key == "cores") {
      if (*n < 1 || *n > kMaxSmp)
        return fail(spelled + " " + arg + ": " + kv.key + "=" + kv.value +
                    ": ferry's virt board has 1 to " + std::to_string(kMaxSmp) + " CPUs");
      if (kv.key == "cpus") cpus = static_cast<int>(*n);
      if (kv.key == "cores") cores = static_cast<int>(*n);
      if (kv.key == "maxcpus") maxcpus = static_cast<int>(*n);
    } else if (*n != 1) {
      // One socket, die, cluster and thread per core: hart topology beyond
      // a flat list of cores is not emulated.
      return fail(spelled + " " + arg + ": unsupported CPU topology (" + kv.key + "=" +
                  kv.value + "): ferry's harts are all cores of one socket");
    }
  }
  if (!cpus) cpus = cores ? cores : 1;
  if (cores && cores != cpus)
    return fail(spelled + " " + arg + ": cores=" + std::to_string(cores) +
                " must equal the number of CPUs (" + std::to_string(cpus) + ")");
  if (maxcpus && maxcpus != cpus)
    return fail(spelled + " " + arg + ": maxcpus=" + std::to_string(maxcpus) +
                ": CPU hotplug (maxcpus != cpus) is not supported");
  result_.config.smp = cpus;
  return true;
}

bool Parser::opt_display(const std::string& spelled, const std::string& arg) {
  std::string type = arg.substr(0, arg.find(','));
  if (type == "help" || type == "?") return finish("Available display backend types:\nnone\n");
  if (type != "none") {
    return fail(spelled + " " + arg + ": unsupported display type '" + type +
                "' (only 'none'; ferry has no graphical console)");
  }
  if (type.size() != arg.size()) {
    return fail(spelled + " " + arg + ": display 'none' takes no options");
  }
  return true;
}

bool Parser::opt_name(const std::string& spelled, const std::string& arg) {
  for (const KeyValue& kv : split_opts(arg, "guest")) {
    if (kv.key == "guest") {
      result_.config.name = kv.value;
    } else if (kv.key == "process" || kv.key == "debug-threads") {
      // Host-side cosmetics in QEMU (process title, thread names): accepted.
    } else {
      return fail(spelled + " " + arg + ": Invalid parameter '" + kv.key + "'");
    }
  }
  return true;
}

bool Parser::check_chardev(const std::string& spelled, const std::string& arg,
                           std::optional<ChardevSpec>* spec) {
  std::string error;
  *spec = parse_chardev_spec(arg, &error);
  if (!*spec) return fail(spelled + " " + arg + ": " + error);
  return true;
}

bool Parser::resolve_defaults() {
  VmConfig& c = result_.config;
  const std::string drive_error = drives_.resolve(&c.disks);
  if (!drive_error.empty()) return fail(drive_error);
  const std::string net_error = nets_.resolve(&c.netdevs, &c.nics);
  if (!net_error.empty()) return fail(net_error);
  if (c.disks.size() + c.nics.size() > kVirtioDeviceLimit)
    return fail("too many virtio devices: the virt board has " +
                std::to_string(kVirtioDeviceLimit) + " virtio-mmio slots");
  // As QEMU: the command line and the initrd are for a kernel.
  if (c.kernel.empty()) {
    if (!c.append.empty()) return fail("-append only allowed with -kernel option");
    if (!c.initrd.empty()) return fail("-initrd only allowed with -kernel option");
  }
  bool serial_is_mon = c.serial.compare(0, 4, "mon:") == 0;
  bool default_serial = !serial_given_ && !c.nodefaults;
  bool default_monitor = !monitor_given_ && c.qmp.empty() && !serial_is_mon && !c.nodefaults;

  auto uses_stdio = [](const std::string& spec) {
    return spec == "stdio" || spec == "mon:stdio";
  };

  if (c.nographic) {
    if (default_serial && default_monitor) {
      c.serial = "mon:stdio";
    } else {
      if (default_serial) c.serial = "stdio";
      if (default_monitor) c.monitor = "stdio";
    }
  } else if (default_serial) {
    bool stdio_taken = uses_stdio(c.monitor);
    for (const std::string& q : c.qmp) stdio_taken = stdio_taken || uses_stdio(q);
    c.serial = stdio_taken ? "null" : "stdio";
  }
  if (c.serial.empty()) c.serial = "none";
  if (c.monitor.empty()) c.monitor = "none";

  int stdio_users = uses_stdio(c.serial) + uses_stdio(c.monitor);
  for (const std::string& q : c.qmp) stdio_users += uses_stdio(q);
  if (stdio_users > 1) return fail("cannot use stdio by multiple character devices");
  return true;
}

}  // namespace

bool parse_ram_size(const std::string& text, uint64_t* bytes) {
  if (text.empty()) return false;
  size_t i = 0;
  uint64_t whole = 0;
  bool digits = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    uint64_t d = static_cast<uint64_t>(text[i] - '0');
    if (whole > (UINT64_MAX - d) / 10) return false;
    whole = whole * 10 + d;
    digits = true;
    ++i;
  }
  double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    bool frac_digits = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      fraction += (text[i] - '0') * scale;
      scale /= 10;
      frac_digits = true;
      ++i;
    }
    if (!frac_digits) return false;
    digits = true;
  }
  if (!digits) return false;

  uint64_t mul = 1ull << 20;  // a bare number is MiB
  if (i < text.size()) {
    switch (text[i]) {
      case 'B': case 'b': mul = 1; break;
      case 'K': case 'k': mul = 1ull << 10; break;
      case 'M': case 'm': mul = 1ull << 20; break;
      case 'G': case 'g': mul = 1ull << 30; break;
      case 'T': case 't': mul = 1ull << 40; break;
      case 'P': case 'p': mul = 1ull << 50; break;
      case 'E': case 'e': mul = 1ull << 60; break;
      default: return false;
    }
    ++i;
  }
  if (i != text.size()) return false;
  if (fraction != 0 && mul == 1) return false;  // fractional bytes
  if (whole > UINT64_MAX / mul) return false;
  uint64_t frac_bytes = static_cast<uint64_t>(std::floor(fraction * static_cast<double>(mul)));
  if (whole * mul > UINT64_MAX - frac_bytes) return false;
  *bytes = whole * mul + frac_bytes;
  return true;
}

std::string version_text() {
  return std::string("ferry version ") + FERRY_VERSION +
         "\n"
         "A RISC-V virtual machine monitor built for live migration; emulates QEMU's\n"
         "'virt' board and accepts QEMU-compatible options and QMP.\n";
}

std::string usage_text() {
  return std::string("ferry version ") + FERRY_VERSION +
         "\n"
         "usage: ferry [options]\n"
         "\n"
         "Options use QEMU's spelling (-opt or --opt).\n"
         "\n"
         "Standard options:\n"
         "-h or -help     display this help and exit\n"
         "-version        display version information and exit\n"
         "-machine [type=]virt[,accel=tcg][,dumpdtb=file]\n"
         "                dumpdtb: write the device tree to 'file' and exit\n"
         "-M virt         select the emulated machine (only 'virt'; -M help lists it)\n"
         "-m [size=]megs  set the RAM size; a bare number is MiB, optional suffix\n"
         "                K, M, G or T (default: 128M)\n"
         "-smp N          number of CPUs (harts), 1 to 8\n"
         "-name [guest=]name\n"
         "                set the name of the guest (shown by query-name)\n"
         "\n"
         "Boot options:\n"
         "-kernel file    load 'file' (ELF, RISC-V Linux Image or raw binary) as the kernel\n"
         "-append cmdline use 'cmdline' as the kernel command line\n"
         "-initrd file    use 'file' as initial ram disk\n"
         "-dtb file       use 'file' as device tree image (ferry still sets /chosen's\n"
         "                bootargs and initrd range in it, as QEMU does)\n"
         "-bios file      set the firmware; 'none' to boot the kernel directly\n"
         "\n"
         "Block device options:\n"
         "-drive file=PATH[,format=raw|qcow2][,if=virtio|none][,id=ID][,readonly=on|off]\n"
         "                [,cache=MODE]   a disk (if=virtio: with its own virtio-blk card)\n"
         "-device virtio-blk-device,drive=ID[,serial=S]\n"
         "-hda PATH, or a bare PATH: a virtio disk\n"
         "\n"
         "Network options:\n"
         "-netdev tap,id=ID,ifname=TAP[,script=no,downscript=no][,vnet_hdr=on|off]\n"
         "-netdev tap,id=ID,fd=N\n"
         "-netdev user,id=ID[,net=ADDR[/MASK]][,host=ADDR][,dhcpstart=ADDR][,dns=ADDR]\n"
         "        [,hostname=NAME][,restrict=on|off][,hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT]\n"
         "-device virtio-net-device,netdev=ID[,mac=52:54:00:12:34:56][,id=NAME]\n"
         "-nic tap|user[,…netdev options][,mac=MAC][,model=virtio-net-device]\n"
         "                (ferry runs no ifup scripts: make and attach the tap first)\n"
         "\n"
         "Display and console options:\n"
         "-nographic      no graphics: serial console and monitor share stdio\n"
         "                (Ctrl-A h for help, Ctrl-A c switches, Ctrl-A x quits)\n"
         "-display none   no display (ferry never has one)\n"
         "-serial dev     redirect the serial port to character device 'dev'\n"
         "-monitor dev    redirect the human monitor to character device 'dev'\n"
         "-qmp dev        QMP (JSON) monitor on 'dev'; may be repeated\n"
         "-nodefaults     create no default serial port or monitor\n"
         "\n"
         "Character devices ('dev'):\n"
         "  none | null | stdio | mon:stdio | file:PATH\n"
         "  unix:PATH[,server=on|off][,wait=on|off]   (also: server,nowait)\n"
         "  tcp:[HOST]:PORT[,server=on|off][,wait=on|off][,nodelay=on|off]\n"
         "\n"
         "Debug/expert options:\n"
         "-S              freeze the CPU at startup (use 'cont' to start)\n"
         "-incoming uri   wait for an incoming migration: tcp:HOST:PORT, unix:PATH,\n"
         "                exec:CMD, fd:N, file:PATH, or 'defer'\n"
         "\n"
         "Without -nographic the serial port defaults to stdio (unless a monitor\n"
         "uses stdio) and there is no default monitor.\n";
}

OptionsResult parse_options(const std::vector<std::string>& args) {
  Parser parser(args);
  return parser.run();
}

OptionsResult parse_options(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_options(args);
}

}  // namespace ferry
