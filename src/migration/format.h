// The migration stream format (docs/migration-format.md is the prose version).
//
//   stream   := header config section* eof
//   header   := "FERRYMIG" (8 bytes) u32 version
//   config   := u8 kSectionConfig  str machine  str cpu  u32 page_size
//               u64 ram_base  u64 ram_size  u32 harts  u8 ram_assumption
//               u8 handover  u32 handover_timeout_ms  footer
//   section  := u8 type  (START | FULL):  u32 section_id  str name  u32 instance  u32 version
//                        (PART | END):    u32 section_id
//               payload  footer
//   footer   := u8 kFooter u32 section_id            (catches framing errors)
//   eof      := u8 kSectionEof
//   str      := u8 length, bytes (no terminator)
// Integers are little-endian. A live handler (RAM, disks) sends START, any
// number of PART and one END, its payload its own (RAM below). A device sends
// one FULL whose payload is `u32 length` then that many bytes: a list of
// fields (see state_codec.h) ended by kFieldEnd. The length lets a reader take
// a device's state off the wire before anything is applied.
//
// ram_assumption: what the destination may assume of pages the stream never
// sends. kRamUnsentZero: they are zero (the source sends every page it ever
// wrote, images included), so the destination first drops whatever its own
// loader put into RAM.
//
// handover: kHandoverConfirm = READY / GO on the return path (below);
// kHandoverNone = no return path: the destination runs at the end of the
// stream (exec:, file: one-way pipes, as QEMU does).
//
// RAM payload: records of u64 (page guest-physical address | flags):
//   kRamZero  the page is all zeros (no data follows)
//   kRamPage  4096 bytes of page data follow
//   kRamEos   end of this section's RAM records
//
// Return path (destination -> source), one message each:
//   u8 kReturnReady              the stream loaded; the destination waits to start
//   u8 kReturnFailed  str reason the stream could not be loaded
// and from the source after READY:
//   u8 kReturnGo                 the source has stopped for good: run
//   u8 kReturnAbort              the source cancelled or gave up: don't run
#pragma once

#include <cstdint>

namespace ferry::migration_format {

constexpr char kMagic[8] = {'F', 'E', 'R', 'R', 'Y', 'M', 'I', 'G'};
constexpr uint32_t kVersion = 3;

constexpr uint8_t kSectionConfig = 0x01;
constexpr uint8_t kSectionStart = 0x02;
constexpr uint8_t kSectionPart = 0x03;
constexpr uint8_t kSectionEnd = 0x04;
constexpr uint8_t kSectionFull = 0x05;
constexpr uint8_t kSectionEof = 0x06;
constexpr uint8_t kFooter = 0x7e;

constexpr uint8_t kRamUnsentZero = 1;
constexpr uint8_t kHandoverNone = 0;
constexpr uint8_t kHandoverConfirm = 1;

constexpr uint64_t kRamZero = 0x02;
constexpr uint64_t kRamPage = 0x08;
constexpr uint64_t kRamEos = 0x10;
constexpr uint64_t kRamFlagMask = 0xfff;

// Field type tags in device sections.
constexpr uint8_t kFieldEnd = 0;  // no name follows
constexpr uint8_t kFieldU8 = 1;
constexpr uint8_t kFieldU32 = 2;
constexpr uint8_t kFieldU64 = 3;
constexpr uint8_t kFieldBool = 4;
constexpr uint8_t kFieldU64Array = 5;
constexpr uint8_t kFieldU32Array = 6;
constexpr uint8_t kFieldBytes = 7;
// u32 count, then per element its fields and kFieldEnd.
constexpr uint8_t kFieldStructArray = 8;
// An optional part: its fields, then kFieldEnd.
constexpr uint8_t kFieldSubsection = 9;

constexpr uint8_t kReturnReady = 0x01;
constexpr uint8_t kReturnGo = 0x02;
constexpr uint8_t kReturnFailed = 0x03;
constexpr uint8_t kReturnAbort = 0x04;

// Bounds on lengths read from the wire, checked before allocating.
constexpr uint32_t kMaxArrayLength = 1 << 16;
constexpr uint32_t kMaxBytesLength = 1 << 20;
constexpr uint32_t kMaxDeviceState = 16 << 20;  // one FULL section's payload

}  // namespace ferry::migration_format
