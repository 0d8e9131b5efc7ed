#include "block/qcow2_format.h"

#include <cstring>

#include "block/block_image.h"

namespace ferry::qcow2 {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw BlockError(path + ": " + what);
}

const char* const kKnownIncompatible[] = {"dirty bit", "corrupt bit", "external data file",
                                          "compression type", "extended L2 entries"};

}  // namespace

Header decode_header(const std::string& path, const uint8_t* d, size_t len,
                     uint64_t file_size) {
  if (len < 4 || std::memcmp(d, kMagic, 4) != 0) fail(path, "not a qcow2 image (bad magic)");
  if (len < 8) fail(path, "qcow2 header truncated");
  Header h;
  h.version = get_be32(d + 4);
  if (h.version != 2 && h.version != 3) {
    fail(path, "qcow2 version " + std::to_string(h.version) + " is not supported (only 2 and 3)");
  }
  const size_t fixed = h.version == 2 ? kHeaderV2Length : kHeaderV3Length;
  if (len < fixed) {
    fail(path, "qcow2 header truncated (" + std::to_string(len) + " of " +
                   std::to_string(fixed) + " bytes)");
  }
  h.backing_file_offset = get_be64(d + 8);
  h.backing_file_size = get_be32(d + 16);
  h.cluster_bits = get_be32(d + 20);
  h.size = get_be64(d + 24);
  h.crypt_method = get_be32(d + 32);
  h.l1_size = get_be32(d + 36);
  h.l1_table_offset = get_be64(d + 40);
  h.refcount_table_offset = get_be64(d + 48);
  h.refcount_table_clusters = get_be32(d + 56);
  h.nb_snapshots = get_be32(d + 60);
  h.snapshots_offset = get_be64(d + 64);
  if (h.version == 3) {
    h.incompatible_features = get_be64(d + 72);
    h.compatible_features = get_be64(d + 80);
    h.autoclear_features = get_be64(d + 88);
    h.refcount_order = get_be32(d + 96);
    h.header_length = get_be32(d + 100);
    if (h.header_length < kHeaderV3Length || h.header_length % 8 != 0) {
      fail(path, "invalid qcow2 header length " + std::to_string(h.header_length));
    }
    if (h.header_length > kHeaderV3Length) {
      if (len < kHeaderV3Length + 1) fail(path, "qcow2 header truncated");
      h.compression_type = d[104];
    }
  }

  if (h.cluster_bits < kMinClusterBits || h.cluster_bits > kMaxClusterBits) {
    fail(path, "unsupported qcow2 cluster size 2^" + std::to_string(h.cluster_bits) +
                   " (512 B to 2 MiB)");
  }
  const uint64_t cs = uint64_t{1} << h.cluster_bits;
  if (h.header_length > cs) fail(path, "qcow2 header larger than a cluster");
  if (h.refcount_order > 6) {
    fail(path, "invalid qcow2 refcount order " + std::to_string(h.refcount_order));
  }
  if (h.crypt_method != 0) fail(path, "encrypted qcow2 images are not supported");
  if (h.size > (uint64_t{1} << 62)) fail(path, "qcow2 virtual size is too large");

  // L1: enough entries for the virtual size, not more than QEMU allows, inside the file.
  const uint64_t l2_span = cs / 8 * cs;  // guest bytes one L2 table maps
  const uint64_t l1_needed = (h.size + l2_span - 1) / l2_span;
  if (uint64_t{h.l1_size} * 8 > kMaxL1Bytes) {
    fail(path, "qcow2 L1 table of " + std::to_string(h.l1_size) + " entries is too large");
  }
  if (h.l1_size < l1_needed) {
    fail(path, "qcow2 L1 table of " + std::to_string(h.l1_size) +
                   " entries is too small for the virtual size (needs " +
                   std::to_string(l1_needed) + ")");
  }
  if (h.l1_size > 0) {
    if (h.l1_table_offset % cs != 0 || h.l1_table_offset == 0) {
      fail(path, "qcow2 L1 table offset " + std::to_string(h.l1_table_offset) +
                     " is not cluster aligned");
    }
    if (h.l1_table_offset > file_size || file_size - h.l1_table_offset < uint64_t{h.l1_size} * 8) {
      fail(path, "qcow2 L1 table at " + std::to_string(h.l1_table_offset) +
                     " lies beyond the end of the file (" + std::to_string(file_size) +
                     " bytes)");
    }
  }

  if (h.refcount_table_clusters == 0 ||
      uint64_t{h.refcount_table_clusters} * cs > kMaxRefcountTableBytes) {
    fail(path, "invalid qcow2 refcount table size (" +
                   std::to_string(h.refcount_table_clusters) + " clusters)");
  }
  if (h.refcount_table_offset % cs != 0 || h.refcount_table_offset == 0) {
    fail(path, "qcow2 refcount table offset is not cluster aligned");
  }
  if (h.refcount_table_offset >= file_size) {
    fail(path, "qcow2 refcount table at " + std::to_string(h.refcount_table_offset) +
                   " lies beyond the end of the file (" + std::to_string(file_size) +
                   " bytes)");
  }

  if (h.backing_file_offset != 0) {
    if (h.backing_file_size > kMaxBackingNameLength || h.backing_file_offset >= cs ||
        h.backing_file_offset + h.backing_file_size > cs ||
        h.backing_file_offset + h.backing_file_size > file_size ||
        h.backing_file_offset < h.header_length) {
      fail(path, "invalid qcow2 backing file name location");
    }
  }
  return h;
}

HeaderExtras decode_extras(const std::string& path, const Header& h, const uint8_t* c,
                           size_t len) {
  HeaderExtras x;
  if (h.backing_file_offset != 0) {
    if (h.backing_file_offset + h.backing_file_size > len) fail(path, "qcow2 header truncated");
    x.backing_file.assign(reinterpret_cast<const char*>(c + h.backing_file_offset),
                          h.backing_file_size);
  }
  // Extensions run from the end of the header to the backing file name (or the
  // end of the first cluster), each padded to 8 bytes; type 0 ends them.
  const uint64_t end = h.backing_file_offset != 0 ? h.backing_file_offset : len;
  uint64_t pos = h.header_length;
  while (pos + 8 <= end) {
    const uint32_t type = get_be32(c + pos);
    const uint32_t length = get_be32(c + pos + 4);
    if (type == kExtEnd) break;
    pos += 8;
    if (length > end - pos) {
      fail(path, "qcow2 header extension " + std::to_string(type) + " runs past its space");
    }
    const uint8_t* data = c + pos;
    if (type == kExtBackingFormat) {
      x.backing_format.assign(reinterpret_cast<const char*>(data), length);
      const size_t nul = x.backing_format.find('\0');
      if (nul != std::string::npos) x.backing_format.resize(nul);
    } else if (type == kExtFeatureTable) {
      for (uint32_t i = 0; i + kFeatureTableEntry <= length; i += kFeatureTableEntry) {
        const uint8_t kind = data[i];
        const uint8_t bit = data[i + 1];
        if (kind > 2 || bit > 63) continue;
        std::string name(reinterpret_cast<const char*>(data + i + 2), 46);
        const size_t nul = name.find('\0');
        if (nul != std::string::npos) name.resize(nul);
        x.feature_names[kind][bit] = name;
      }
    }  // Other extensions (bitmaps, encryption, data file name…) are skipped.
    pos += (uint64_t{length} + 7) & ~uint64_t{7};
  }
  return x;
}

std::string describe_features(const HeaderExtras& extras, int kind, uint64_t mask) {
  std::string out;
  for (int bit = 0; bit < 64; ++bit) {
    if (!(mask >> bit & 1)) continue;
    if (!out.empty()) out += ", ";
    std::string name = extras.feature_names[kind][bit];
    if (name.empty() && kind == 0 && bit < 5) name = kKnownIncompatible[bit];
    out += name.empty() ? "unknown feature bit " + std::to_string(bit)
                        : name + " (bit " + std::to_string(bit) + ")";
  }
  return out;
}

}  // namespace ferry::qcow2
