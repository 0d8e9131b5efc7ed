// CSR numbers and bit fields used by the hart (RISC-V privileged spec 1.12).
#pragma once

#include <cstdint>

namespace ferry::csr {

// Floating point (F/D).
constexpr uint16_t kFflags = 0x001, kFrm = 0x002, kFcsr = 0x003;
// Unprivileged counters.
constexpr uint16_t kCycle = 0xc00, kTime = 0xc01, kInstret = 0xc02;
constexpr uint16_t kHpmCounter3 = 0xc03;
// Supervisor.
constexpr uint16_t kSstatus = 0x100, kSie = 0x104, kStvec = 0x105,
                   kScounteren = 0x106, kSenvcfg = 0x10a, kSscratch = 0x140,
                   kSepc = 0x141, kScause = 0x142, kStval = 0x143, kSip = 0x144,
                   kStimecmp = 0x14d, kSatp = 0x180;
// Machine.
constexpr uint16_t kMvendorid = 0xf11, kMarchid = 0xf12, kMimpid = 0xf13,
                   kMhartid = 0xf14, kMconfigptr = 0xf15;
constexpr uint16_t kMstatus = 0x300, kMisa = 0x301, kMedeleg = 0x302,
                   kMideleg = 0x303, kMie = 0x304, kMtvec = 0x305,
                   kMcounteren = 0x306, kMenvcfg = 0x30a, kMcountinhibit = 0x320,
                   kMhpmevent3 = 0x323, kMscratch = 0x340, kMepc = 0x341,
                   kMcause = 0x342, kMtval = 0x343, kMip = 0x344,
                   kPmpcfg0 = 0x3a0, kPmpaddr0 = 0x3b0, kMcycle = 0xb00,
                   kMinstret = 0xb02, kMhpmcounter3 = 0xb03;

// Implemented hardware performance counters: 3..18 (16), as firmware probes.
constexpr unsigned kHpmFirst = 3, kHpmLast = 18;
constexpr unsigned kPmpEntries = 16;

}  // namespace ferry::csr

namespace ferry::mstatus {
constexpr uint64_t kSie = 1ull << 1, kMie = 1ull << 3, kSpie = 1ull << 5,
                   kUbe = 1ull << 6, kMpie = 1ull << 7, kSpp = 1ull << 8,
                   kMppShift = 11, kMpp = 3ull << 11, kFs = 3ull << 13,
                   kMprv = 1ull << 17, kSum = 1ull << 18, kMxr = 1ull << 19,
                   kTvm = 1ull << 20, kTw = 1ull << 21, kTsr = 1ull << 22,
                   kUxl = 3ull << 32, kSxl = 3ull << 34, kSd = 1ull << 63;
constexpr uint64_t kUxl64 = 2ull << 32, kSxl64 = 2ull << 34;
// FS: the F/D state is Off (FP instructions trap), Initial, Clean or Dirty.
constexpr uint64_t kFsInitial = 1ull << 13, kFsClean = 2ull << 13, kFsDirty = 3ull << 13;
// Bits software may change through mstatus / sstatus.
constexpr uint64_t kMWritable = kSie | kMie | kSpie | kMpie | kSpp | kMpp | kFs |
                                kMprv | kSum | kMxr | kTvm | kTw | kTsr;
constexpr uint64_t kSVisible = kSie | kSpie | kUbe | kSpp | kFs | kSum | kMxr |
                               kUxl | kSd;
constexpr uint64_t kSWritable = kSie | kSpie | kSpp | kFs | kSum | kMxr;
// SD summarizes FS == Dirty (no XS or VS state here).
constexpr uint64_t with_sd(uint64_t status) {
  return (status & kFs) == kFsDirty ? status | kSd : status & ~kSd;
}
}  // namespace ferry::mstatus

// menvcfg / senvcfg fields (senvcfg has all but STCE).
namespace ferry::envcfg {
constexpr uint64_t kFiom = 1ull << 0, kCbie = 3ull << 4, kCbcfe = 1ull << 6,
                   kCbze = 1ull << 7, kStce = 1ull << 63;
constexpr uint64_t kSWritable = kFiom | kCbie | kCbcfe | kCbze;
constexpr uint64_t kMWritable = kSWritable | kStce;
}  // namespace ferry::envcfg

namespace ferry::irq {
constexpr uint64_t kSsip = 1ull << 1, kMsip = 1ull << 3, kStip = 1ull << 5,
                   kMtip = 1ull << 7, kSeip = 1ull << 9, kMeip = 1ull << 11;
constexpr uint64_t kSMask = kSsip | kStip | kSeip;
constexpr uint64_t kAll = kSMask | kMsip | kMtip | kMeip;
}  // namespace ferry::irq

namespace ferry::cause {
constexpr uint64_t kInsnMisaligned = 0, kInsnAccess = 1, kIllegal = 2,
                   kBreakpoint = 3, kLoadMisaligned = 4, kLoadAccess = 5,
                   kStoreMisaligned = 6, kStoreAccess = 7, kEcallU = 8,
                   kEcallS = 9, kEcallM = 11, kInsnPage = 12, kLoadPage = 13,
                   kStorePage = 15;
constexpr uint64_t kInterrupt = 1ull << 63;
}  // namespace ferry::cause
