// The migration stream format (docs/migration-format.md is the prose version).
//
//   stream   := header config section* eof
//   header   := "FERRYMIG" (8 bytes) u32 version
//   config   := u8 kSectionConfig  <config fields, see config_section.cc>  footer
//   section  := u8 type  (START | FULL):  u32 section_id  str id  u32 instance  u32 version
//                        (PART | END):    u32 section_id
//               payload  footer
//   footer   := u8 kFooter u32 section_id            (catches framing errors)
//   eof      := u8 kSectionEof
//   str      := u8 length, bytes (no terminator)
// Integers are little-endian. A live handler (RAM) sends START, any number of
// PART and one END; a device sends one FULL. A device payload is a list of
// fields (see state_codec.h) ended by kFieldEnd.
//
// RAM payload: records of u64 (page guest-physical address | flags):
//   kRamZero  the page is all zeros (no data follows)
//   kRamPage  4096 bytes of page data follow
//   kRamEos   end of this section's RAM records
//
// Return path (destination -> source, sockets only), one message each:
//   u8 kReturnReady              the stream loaded; the destination waits to start
//   u8 kReturnFailed  str reason the stream could not be loaded
// and from the source after READY:
//   u8 kReturnGo                 the source has stopped for good: run
#pragma once

#include <cstdint>

namespace ferry::migration_format {

constexpr char kMagic[8] = {'F', 'E', 'R', 'R', 'Y', 'M', 'I', 'G'};
constexpr uint32_t kVersion = 1;

constexpr uint8_t kSectionConfig = 0x01;
constexpr uint8_t kSectionStart = 0x02;
constexpr uint8_t kSectionPart = 0x03;
constexpr uint8_t kSectionEnd = 0x04;
constexpr uint8_t kSectionFull = 0x05;
constexpr uint8_t kSectionEof = 0x06;
constexpr uint8_t kFooter = 0x7e;

constexpr uint64_t kRamZero = 0x02;
constexpr uint64_t kRamPage = 0x08;
constexpr uint64_t kRamEos = 0x10;
constexpr uint64_t kRamFlagMask = 0xfff;

// Field type tags in device sections.
constexpr uint8_t kFieldEnd = 0;
constexpr uint8_t kFieldU8 = 1;
constexpr uint8_t kFieldU32 = 2;
constexpr uint8_t kFieldU64 = 3;
constexpr uint8_t kFieldBool = 4;
constexpr uint8_t kFieldU64Array = 5;
constexpr uint8_t kFieldU32Array = 6;
constexpr uint8_t kFieldBytes = 7;

constexpr uint8_t kReturnReady = 0x01;
constexpr uint8_t kReturnGo = 0x02;
constexpr uint8_t kReturnFailed = 0x03;

// Bounds on lengths read from the wire, checked before allocating.
constexpr uint32_t kMaxArrayLength = 1 << 16;
constexpr uint32_t kMaxBytesLength = 1 << 20;

}  // namespace ferry::migration_format
