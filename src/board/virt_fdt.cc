#include "board/virt_fdt.h"

#include <libfdt.h>

#include "board/fdt_chosen.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string_view>

namespace ferry {
namespace {

// QEMU keeps the blob below this address (riscv_load_fdt's 3 GiB limit).
constexpr uint64_t kFdtAddressLimit = 0xc0000000;
constexpr int kInitialBufferSize = 64 * 1024;

// Thin wrapper over libfdt's sequential-write API that throws on error.
class FdtWriter {
 public:
  explicit FdtWriter(size_t size) : buf_(size) {
    check(fdt_create(buf_.data(), static_cast<int>(buf_.size())), "create");
    check(fdt_finish_reservemap(buf_.data()), "reserve map");
  }

  void begin(const std::string& name) {
    check(fdt_begin_node(buf_.data(), name.c_str()), name);
  }
  void end() { check(fdt_end_node(buf_.data()), "end node"); }

  void empty(const char* name) { raw(name, nullptr, 0); }
  void string(const char* name, std::string_view value) {
    std::string s(value);
    raw(name, s.c_str(), static_cast<int>(s.size() + 1));
  }
  // A string list ("a\0b\0").
  void strings(const char* name, std::initializer_list<std::string_view> list) {
    strings(name, std::vector<std::string_view>(list));
  }
  void strings(const char* name, const std::vector<std::string_view>& list) {
    std::string s;
    for (auto item : list) {
      s.append(item);
      s.push_back('\0');
    }
    raw(name, s.data(), static_cast<int>(s.size()));
  }
  void cell(const char* name, uint32_t value) {
    check(fdt_property_cell(buf_.data(), name, value), name);
  }
  void bytes(const char* name, const std::vector<uint8_t>& value) {
    raw(name, value.data(), static_cast<int>(value.size()));
  }
  void cells(const char* name, std::initializer_list<uint32_t> values) {
    cells(name, std::vector<uint32_t>(values));
  }
  void cells(const char* name, const std::vector<uint32_t>& values) {
    std::vector<fdt32_t> be;
    for (uint32_t v : values) be.push_back(cpu_to_fdt32(v));
    raw(name, be.data(), static_cast<int>(be.size() * sizeof(fdt32_t)));
  }
  // reg = <addr size> with #address-cells = #size-cells = 2.
  void reg(uint64_t address, uint64_t size) {
    cells("reg", {static_cast<uint32_t>(address >> 32),
                  static_cast<uint32_t>(address),
                  static_cast<uint32_t>(size >> 32),
                  static_cast<uint32_t>(size)});
  }

  std::vector<uint8_t> finish() {
    check(fdt_finish(buf_.data()), "finish");
    check(fdt_pack(buf_.data()), "pack");
    buf_.resize(fdt_totalsize(buf_.data()));
    return std::move(buf_);
  }

 private:
  void raw(const char* name, const void* data, int len) {
    check(fdt_property(buf_.data(), name, data, len), name);
  }
  static void check(int err, std::string_view what) {
    if (err < 0)
      throw std::runtime_error("device tree: " + std::string(what) + ": " +
                               fdt_strerror(err));
  }

  std::vector<uint8_t> buf_;
};

std::string node_name(const char* base, uint64_t address) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s@%llx", base,
                static_cast<unsigned long long>(address));
  return buf;
}

void add_chosen(FdtWriter& w, const VirtFdtParams& p) {
  w.begin("chosen");
  w.string("stdout-path", "/soc/" + node_name("serial", p.uart_base));
  if (!p.bootargs.empty()) w.string("bootargs", p.bootargs);
  if (p.initrd_start != 0 && p.initrd_end != 0) {
    w.bytes("linux,initrd-start", fdt_initrd_address(p.initrd_start));
    w.bytes("linux,initrd-end", fdt_initrd_address(p.initrd_end));
  }
  // Filled with fresh random bytes at every reset (randomize_rng_seed), as
  // QEMU does: without it the guest's random number generator starts
  // uninitialised, and Linux then draws from its input pool on every
  // syscall (the stack offset randomisation), which costs dearly.
  w.bytes("rng-seed", std::vector<uint8_t>(kRngSeedBytes, 0));
  w.end();
}

void add_syscon_node(FdtWriter& w, const VirtFdtParams& p, const char* name,
                     const char* compatible, uint32_t value) {
  w.begin(name);
  w.cell("value", value);
  w.cell("offset", 0);
  w.cell("regmap", fdt_phandle_test(p.harts));
  w.string("compatible", compatible);
  w.end();
}

bool has_extension(const VirtFdtParams& p, std::string_view name) {
  for (const auto& e : p.isa_multi)
    if (e == name) return true;
  return false;
}

void add_cpus(FdtWriter& w, const VirtFdtParams& p) {
  w.begin("cpus");
  w.cell("#address-cells", 1);
  w.cell("#size-cells", 0);
  w.cell("timebase-frequency", p.timebase_frequency);

  // QEMU numbers the phandles from the last hart to the first, but its blob
  // lists the nodes from the first.
  for (unsigned i = 0; i < p.harts; ++i) {
    w.begin("cpu@" + std::to_string(i));
    w.cell("phandle", fdt_phandle_cpu(i, p.harts));
    w.string("device_type", "cpu");
    w.cell("reg", i);
    w.string("status", "okay");
    w.string("compatible", "riscv");
    w.string("riscv,isa", virt_isa_string(p));
    // The newer binding: the same extensions, one string each.
    w.string("riscv,isa-base", "rv64i");
    std::vector<std::string_view> extensions;
    for (const char& letter : p.isa_letters) extensions.emplace_back(&letter, 1);
    for (const auto& e : p.isa_multi) extensions.emplace_back(e);
    w.strings("riscv,isa-extensions", extensions);
    if (has_extension(p, "zicbom")) w.cell("riscv,cbom-block-size", p.cbo_block_size);
    if (has_extension(p, "zicboz")) w.cell("riscv,cboz-block-size", p.cbo_block_size);
    w.string("mmu-type", p.mmu_type);
    w.begin("interrupt-controller");
    w.cell("#interrupt-cells", 1);
    w.empty("interrupt-controller");
    w.string("compatible", "riscv,cpu-intc");
    w.cell("phandle", fdt_phandle_cpu_intc(i, p.harts));
    w.end();  // interrupt-controller
    w.end();  // cpu@i
  }

  w.begin("cpu-map");
  w.begin("cluster0");
  for (unsigned i = 0; i < p.harts; ++i) {
    w.begin("core" + std::to_string(i));
    w.cell("cpu", fdt_phandle_cpu(i, p.harts));
    w.end();
  }
  w.end();
  w.end();

  w.end();  // cpus
}

// interrupts-extended of a per-hart controller: each hart's intc with `irqs`.
std::vector<uint32_t> per_hart_interrupts(const VirtFdtParams& p, std::initializer_list<uint32_t> irqs) {
  std::vector<uint32_t> cells;
  for (unsigned i = 0; i < p.harts; ++i)
    for (uint32_t irq : irqs) {
      cells.push_back(fdt_phandle_cpu_intc(i, p.harts));
      cells.push_back(irq);
    }
  return cells;
}

void add_plic_device(FdtWriter& w, const VirtFdtParams& p, const std::string& name, uint32_t irq,
                     uint64_t base, uint64_t size,
                     std::initializer_list<std::string_view> compatible) {
  w.begin(name);
  w.cell("interrupts", irq);
  w.cell("interrupt-parent", fdt_phandle_plic(p.harts));
  w.reg(base, size);
  w.strings("compatible", compatible);
  w.end();
}

void add_soc(FdtWriter& w, const VirtFdtParams& p) {
  w.begin("soc");
  w.cell("#address-cells", 2);
  w.cell("#size-cells", 2);
  w.string("compatible", "simple-bus");
  w.empty("ranges");

  add_plic_device(w, p, node_name("rtc", p.rtc_base), p.rtc_irq, p.rtc_base,
                  0x1000, {"google,goldfish-rtc"});

  w.begin(node_name("serial", p.uart_base));
  w.cell("interrupts", p.uart_irq);
  w.cell("interrupt-parent", fdt_phandle_plic(p.harts));
  w.cell("clock-frequency", p.uart_clock);
  w.reg(p.uart_base, 0x100);
  w.string("compatible", "ns16550a");
  w.end();

  w.begin(node_name("test", p.test_base));
  w.cell("phandle", fdt_phandle_test(p.harts));
  w.reg(p.test_base, 0x1000);
  w.strings("compatible", {"sifive,test1", "sifive,test0", "syscon"});
  w.end();

  // QEMU lists the slots from the last to the first.
  for (unsigned i = p.virtio_count; i-- > 0;) {
    uint64_t base = p.virtio_base + i * p.virtio_stride;
    add_plic_device(w, p, node_name("virtio_mmio", base), p.virtio_first_irq + i,
                    base, 0x1000, {"virtio,mmio"});
  }

  w.begin(node_name("plic", p.plic_base));
  w.cell("phandle", fdt_phandle_plic(p.harts));
  w.cell("riscv,ndev", p.plic_ndev);
  w.reg(p.plic_base, p.plic_size);
  // Context 0 = M-mode external (11), context 1 = S-mode external (9).
  w.cells("interrupts-extended", per_hart_interrupts(p, {11, 9}));
  w.empty("interrupt-controller");
  w.strings("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
  w.cell("#address-cells", 0);
  w.cell("#interrupt-cells", 1);
  w.end();

  w.begin(node_name("clint", p.clint_base));
  // Software (3) and timer (7) interrupts of each hart.
  w.cells("interrupts-extended", per_hart_interrupts(p, {3, 7}));
  w.reg(p.clint_base, p.clint_size);
  w.strings("compatible", {"sifive,clint0", "riscv,clint0"});
  w.end();

  w.end();  // soc
}

}  // namespace

std::vector<uint8_t> build_virt_fdt(const VirtFdtParams& p) {
  FdtWriter w(kInitialBufferSize + p.bootargs.size() + 2 * virt_isa_string(p).size() * p.harts);
  w.begin("");
  w.cell("#address-cells", 2);
  w.cell("#size-cells", 2);
  w.string("compatible", "riscv-virtio");
  w.string("model", "riscv-virtio,qemu");

  add_chosen(w, p);
  add_syscon_node(w, p, "poweroff", "syscon-poweroff", 0x5555);
  add_syscon_node(w, p, "reboot", "syscon-reboot", 0x7777);

  w.begin(node_name("memory", p.ram_base));
  w.string("device_type", "memory");
  w.reg(p.ram_base, p.ram_size);
  w.end();

  add_cpus(w, p);
  add_soc(w, p);
  w.end();  // root
  return w.finish();
}

uint64_t virt_fdt_address(uint64_t ram_base, uint64_t ram_size, uint64_t reserved) {
  uint64_t ram_end = ram_base + ram_size;
  uint64_t top =
      ram_base < kFdtAddressLimit ? std::min(ram_end, kFdtAddressLimit) : ram_end;
  if (reserved > top) return 0;
  return (top - reserved) & ~((2ull << 20) - 1);
}

uint64_t virt_fdt_reserve_for_file(uint64_t file_size) {
  return (file_size + 10000) * 2;
}

std::string virt_isa_string(const VirtFdtParams& p) {
  std::string isa = "rv64" + p.isa_letters;
  for (const auto& e : p.isa_multi) isa += "_" + e;
  return isa;
}

}  // namespace ferry
