// The qcow2 on-disk format (QEMU's docs/interop/qcow2.txt), versions 2 and 3:
// the header, its extensions and the bit layout of table entries. Everything
// on disk is big-endian; it is encoded and decoded here explicitly, never by
// copying structs.
//
//   cluster 0:  header | header extensions | backing file name
//   L1 table -> L2 tables -> data clusters   (guest offset -> host offset)
//   refcount table -> refcount blocks         (host cluster -> use count)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ferry::qcow2 {

inline constexpr uint8_t kMagic[4] = {'Q', 'F', 'I', 0xfb};
inline constexpr size_t kHeaderV2Length = 72;
inline constexpr size_t kHeaderV3Length = 104;

inline constexpr uint32_t kMinClusterBits = 9;   // 512 B
inline constexpr uint32_t kMaxClusterBits = 21;  // 2 MiB
// Limits QEMU also applies, so that a corrupt header can't ask for a huge table.
inline constexpr uint64_t kMaxL1Bytes = 32u << 20;
inline constexpr uint64_t kMaxRefcountTableBytes = 8u << 20;
inline constexpr uint32_t kMaxBackingNameLength = 1023;

// Incompatible feature bits.
inline constexpr uint64_t kIncompatDirty = 1u << 0;
inline constexpr uint64_t kIncompatCorrupt = 1u << 1;
inline constexpr uint64_t kIncompatDataFile = 1u << 2;
inline constexpr uint64_t kIncompatCompression = 1u << 3;
inline constexpr uint64_t kIncompatExtendedL2 = 1u << 4;

// Header extension types.
inline constexpr uint32_t kExtEnd = 0;
inline constexpr uint32_t kExtBackingFormat = 0xe2792aca;
inline constexpr uint32_t kExtFeatureTable = 0x6803f857;
inline constexpr size_t kFeatureTableEntry = 48;  // type, bit, 46-byte name

// Header field offsets that ferry rewrites in place.
inline constexpr size_t kOffRefcountTable = 48;  // offset (8) + clusters (4)
inline constexpr size_t kOffAutoclear = 88;

// L1 and L2 entries.
inline constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ull;  // bits 9..55
inline constexpr uint64_t kFlagCopied = 1ull << 63;  // refcount is exactly 1
inline constexpr uint64_t kFlagCompressed = 1ull << 62;
inline constexpr uint64_t kFlagZero = 1ull << 0;  // standard L2 entry, v3 only

struct Header {
  uint32_t version = 0;
  uint64_t backing_file_offset = 0;
  uint32_t backing_file_size = 0;
  uint32_t cluster_bits = 0;
  uint64_t size = 0;
  uint32_t crypt_method = 0;
  uint32_t l1_size = 0;
  uint64_t l1_table_offset = 0;
  uint64_t refcount_table_offset = 0;
  uint32_t refcount_table_clusters = 0;
  uint32_t nb_snapshots = 0;
  uint64_t snapshots_offset = 0;
  uint64_t incompatible_features = 0;
  uint64_t compatible_features = 0;
  uint64_t autoclear_features = 0;
  uint32_t refcount_order = 4;
  uint32_t header_length = kHeaderV2Length;
  uint8_t compression_type = 0;
};

// What the header extensions and the backing file name say.
struct HeaderExtras {
  std::string backing_file;    // empty: none
  std::string backing_format;  // empty: not given
  std::string feature_names[3][64];  // [incompatible, compatible, autoclear][bit]
};

inline uint16_t get_be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t get_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline uint64_t get_be64(const uint8_t* p) {
  return uint64_t{get_be32(p)} << 32 | get_be32(p + 4);
}
inline void put_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
inline void put_be64(uint8_t* p, uint64_t v) {
  put_be32(p, static_cast<uint32_t>(v >> 32));
  put_be32(p + 4, static_cast<uint32_t>(v));
}

// Decodes and checks the fixed header from the first `len` bytes of the file
// (`file_size` in all). Throws BlockError naming `path` and the problem.
Header decode_header(const std::string& path, const uint8_t* data, size_t len,
                     uint64_t file_size);

// Walks the header extensions and reads the backing file name from the first
// cluster (`len` bytes of it, fewer when the file is shorter).
HeaderExtras decode_extras(const std::string& path, const Header& h, const uint8_t* cluster,
                           size_t len);

// "dirty bit (bit 0), bit 9": the bits of `mask` by name, for messages.
std::string describe_features(const HeaderExtras& extras, int kind, uint64_t mask);

}  // namespace ferry::qcow2
