#include "cpu/register_dump.h"

#include <cinttypes>
#include <cstdio>
#include <utility>

#include "cpu/csr_numbers.h"
#include "cpu/hart.h"

namespace ferry {
namespace {

constexpr const char* kIntNames[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
constexpr const char* kFpNames[32] = {
    "ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
    "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
    "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
    "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};

void line(std::string& out, const char* name, uint64_t value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " %-8s %016" PRIx64 "\n", name, value);
  out += buf;
}

// Four registers a line: " x10/a0   0000000000000001".
void table(std::string& out, char prefix, const char* const* names,
           uint64_t (*get)(Hart&, unsigned), Hart& hart) {
  char buf[48];
  for (unsigned i = 0; i < 32; ++i) {
    std::snprintf(buf, sizeof buf, " %c%-2u/%-4s %016" PRIx64, prefix, i, names[i], get(hart, i));
    out += buf;
    out += (i % 4 == 3) ? "\n" : "";
  }
}

}  // namespace

std::string dump_registers(Hart& hart) {
  static constexpr std::pair<const char*, uint16_t> kCsrs[] = {
      {"mhartid", csr::kMhartid}, {"mstatus", csr::kMstatus}, {"mip", csr::kMip},
      {"mie", csr::kMie},         {"mideleg", csr::kMideleg}, {"medeleg", csr::kMedeleg},
      {"mtvec", csr::kMtvec},     {"stvec", csr::kStvec},     {"mepc", csr::kMepc},
      {"sepc", csr::kSepc},       {"mcause", csr::kMcause},   {"scause", csr::kScause},
      {"mtval", csr::kMtval},     {"stval", csr::kStval},     {"mscratch", csr::kMscratch},
      {"sscratch", csr::kSscratch}, {"satp", csr::kSatp},     {"menvcfg", csr::kMenvcfg},
      {"stimecmp", csr::kStimecmp}, {"time", csr::kTime},     {"instret", csr::kInstret}};
  static constexpr const char* kPrivNames[] = {"U", "S", "?", "M"};
  std::string out;
  line(out, "pc", hart.pc());
  out += " priv     ";
  out += kPrivNames[static_cast<unsigned>(hart.priv()) & 3];
  out += "\n";
  for (const auto& [name, number] : kCsrs) {
    uint64_t value = 0;
    if (hart.debug_read_csr(number, value)) line(out, name, value);
  }
  table(out, 'x', kIntNames, [](Hart& h, unsigned i) { return h.reg(i); }, hart);
  uint64_t mstatus_value = 0;
  if (hart.debug_read_csr(csr::kMstatus, mstatus_value) && (mstatus_value & mstatus::kFs)) {
    table(out, 'f', kFpNames, [](Hart& h, unsigned i) { return h.freg(i); }, hart);
    uint64_t fcsr = 0;
    if (hart.debug_read_csr(csr::kFcsr, fcsr)) line(out, "fcsr", fcsr);
  }
  return out;
}

}  // namespace ferry
