// Qcow2Image: refcounts and cluster allocation.
//
// New clusters always come from the end of the file, through a reservation
// (see the top of qcow2_image.cc): metadata that the reservation needs first
// (a refcount block, a larger refcount table) is placed at the end of the file
// too, written and synced before anything on disk names it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "block/qcow2_image.h"

namespace ferry {

using namespace qcow2;

namespace {

// How much a reservation takes at once: one refcount update and one sync per
// this many bytes of new clusters, and at most this much leaked by a crash.
constexpr uint64_t kReserveBytes = 4u << 20;

}  // namespace

uint64_t Qcow2Image::get_refcount_entry(const RefBlock& b, uint64_t i) const {
  switch (refcount_bits_) {
    case 8: return b.bytes[i];
    case 16: return get_be16(&b.bytes[i * 2]);
    case 32: return get_be32(&b.bytes[i * 4]);
    case 64: return get_be64(&b.bytes[i * 8]);
    default: {  // 1, 2 or 4 bits, the lowest bits of a byte first
      const uint64_t per_byte = 8 / refcount_bits_;
      const uint64_t shift = (i % per_byte) * refcount_bits_;
      return (b.bytes[i / per_byte] >> shift) & ((1u << refcount_bits_) - 1);
    }
  }
}

void Qcow2Image::set_refcount_entry(RefBlock& b, uint64_t i, uint64_t value) {
  switch (refcount_bits_) {
    case 8: b.bytes[i] = static_cast<uint8_t>(value); break;
    case 16: put_be16(&b.bytes[i * 2], static_cast<uint16_t>(value)); break;
    case 32: put_be32(&b.bytes[i * 4], static_cast<uint32_t>(value)); break;
    case 64: put_be64(&b.bytes[i * 8], value); break;
    default: {
      const uint64_t per_byte = 8 / refcount_bits_;
      const uint64_t shift = (i % per_byte) * refcount_bits_;
      const uint8_t mask = static_cast<uint8_t>(((1u << refcount_bits_) - 1) << shift);
      uint8_t& byte = b.bytes[i / per_byte];
      byte = static_cast<uint8_t>((byte & ~mask) | ((value << shift) & mask));
    }
  }
}

Qcow2Image::RefBlock& Qcow2Image::ref_block(uint64_t offset) {
  ++use_clock_;
  for (auto& b : ref_cache_) {
    if (b.offset == offset) {
      b.last_use = use_clock_;
      return b;
    }
  }
  check_host_cluster(offset, "refcount block");
  RefBlock* slot;
  if (ref_cache_.size() < kRefBlockCacheBlocks) {
    slot = &ref_cache_.emplace_back();
  } else {
    slot = &*std::min_element(ref_cache_.begin(), ref_cache_.end(),
                              [](const RefBlock& a, const RefBlock& b) { return a.last_use < b.last_use; });
  }
  slot->offset = offset;
  slot->last_use = use_clock_;
  slot->bytes.resize(cluster_size_);
  pread_all(offset, slot->bytes.data(), slot->bytes.size(), true);
  return *slot;
}

uint64_t Qcow2Image::refcount(uint64_t host_cluster) {
  const uint64_t b = host_cluster / ref_entries_;
  if (b >= refcount_table_.size() || refcount_table_[b] == 0) return 0;
  return get_refcount_entry(ref_block(refcount_table_[b]), host_cluster % ref_entries_);
}

void Qcow2Image::add_refcount(uint64_t host_cluster, int64_t delta) {
  add_refcounts(host_cluster, 1, delta);
}

void Qcow2Image::add_refcounts(uint64_t first, uint64_t count, int64_t delta) {
  const uint64_t max = refcount_bits_ == 64 ? ~uint64_t{0} : (uint64_t{1} << refcount_bits_) - 1;
  while (count > 0) {
    const uint64_t b = first / ref_entries_;
    const uint64_t i0 = first % ref_entries_;
    const uint64_t n = std::min(count, ref_entries_ - i0);
    if (b >= refcount_table_.size() || refcount_table_[b] == 0) {
      fail("no refcount block for host cluster " + std::to_string(first));
    }
    RefBlock& block = ref_block(refcount_table_[b]);
    for (uint64_t i = i0; i < i0 + n; ++i) {
      const uint64_t old = get_refcount_entry(block, i);
      if ((delta < 0 && old < static_cast<uint64_t>(-delta)) ||
          (delta > 0 && max - old < static_cast<uint64_t>(delta))) {
        fail("refcount of host cluster " + std::to_string(b * ref_entries_ + i) +
             " out of range (corrupt image?)");
      }
      set_refcount_entry(block, i, old + static_cast<uint64_t>(delta));
    }
    // Write back the bytes that hold the changed entries.
    const uint64_t byte0 = i0 * refcount_bits_ / 8;
    const uint64_t byte1 = ((i0 + n) * refcount_bits_ + 7) / 8;
    pwrite_all(block.offset + byte0, block.bytes.data() + byte0, byte1 - byte0);
    first += n;
    count -= n;
  }
}

uint64_t Qcow2Image::allocate_cluster() {
  if (next_free_ == end_cluster_) reserve_clusters();
  return next_free_++ << cluster_bits_;
}

void Qcow2Image::reserve_clusters() {
  const uint64_t want = std::max<uint64_t>(1, kReserveBytes >> cluster_bits_);
  // Refcount blocks (and table room) for the whole run first; each step may
  // place metadata at the end and so move the run.
  for (bool ready = false; !ready;) {
    ready = true;
    const uint64_t last = end_cluster_ + want - 1;
    for (uint64_t b = end_cluster_ / ref_entries_; b <= last / ref_entries_; ++b) {
      if (b >= refcount_table_.size()) {
        grow_refcount_table(b);
      } else if (refcount_table_[b] == 0) {
        create_ref_block(b);
      } else {
        continue;
      }
      ready = false;
      break;
    }
  }
  const uint64_t start = end_cluster_;
  const uint64_t end_bytes = (start + want) << cluster_bits_;
  if (file_size_ < end_bytes) {
    if (::ftruncate(fd_, static_cast<off_t>(end_bytes)) != 0) {
      fail(std::string("cannot extend the file: ") + std::strerror(errno));
    }
    file_size_ = end_bytes;
  }
  add_refcounts(start, want, +1);
  sync();  // the refcounts are on disk before any entry names these clusters
  next_free_ = start;
  end_cluster_ = start + want;
}

void Qcow2Image::create_ref_block(uint64_t block_index) {
  // The block goes at the end of the file. When that is inside the range it
  // covers, it counts itself; else the (existing) block of its own range does.
  const uint64_t at = end_cluster_;
  const uint64_t own = at / ref_entries_;
  RefBlock fresh;
  fresh.offset = at << cluster_bits_;
  fresh.bytes.assign(cluster_size_, 0);
  if (own == block_index) set_refcount_entry(fresh, at % ref_entries_, 1);
  pwrite_all(fresh.offset, fresh.bytes.data(), fresh.bytes.size());
  end_cluster_ = next_free_ = at + 1;
  if (own != block_index) add_refcount(at, +1);
  sync();
  uint8_t be[8];
  put_be64(be, fresh.offset);
  pwrite_all(header_.refcount_table_offset + block_index * 8, be, 8);
  refcount_table_[block_index] = fresh.offset;
}

void Qcow2Image::grow_refcount_table(uint64_t block_index) {
  const uint64_t per_cluster = cluster_size_ / 8;
  uint64_t clusters = std::max<uint64_t>(uint64_t{header_.refcount_table_clusters} * 2,
                                         (block_index + per_cluster) / per_cluster);
  const uint64_t at = end_cluster_;
  std::vector<uint64_t> table;
  std::vector<uint64_t> new_blocks;  // block indices, placed after the table
  for (;;) {
    if (clusters * cluster_size_ > kMaxRefcountTableBytes) {
      fail("the image is too large: its refcount table would exceed " +
           std::to_string(kMaxRefcountTableBytes) + " bytes");
    }
    table = refcount_table_;
    table.resize(clusters * per_cluster, 0);
    // The new table and blocks need refcounts too, possibly in new blocks.
    new_blocks.clear();
    for (;;) {
      const uint64_t end = at + clusters + new_blocks.size();
      std::vector<uint64_t> missing;
      for (uint64_t b = at / ref_entries_; b <= (end - 1) / ref_entries_; ++b) {
        if (b >= table.size() || table[b] == 0) missing.push_back(b);
      }
      if (missing.size() == new_blocks.size()) break;
      new_blocks = std::move(missing);
    }
    if ((new_blocks.empty() || new_blocks.back() < table.size()) && block_index < table.size()) {
      break;
    }
    clusters *= 2;
  }

  std::vector<RefBlock> blocks(new_blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i].offset = (at + clusters + i) << cluster_bits_;
    blocks[i].bytes.assign(cluster_size_, 0);
    table[new_blocks[i]] = blocks[i].offset;
  }
  for (uint64_t c = at; c < at + clusters + blocks.size(); ++c) {
    const auto it = std::find(new_blocks.begin(), new_blocks.end(), c / ref_entries_);
    if (it != new_blocks.end()) {
      set_refcount_entry(blocks[it - new_blocks.begin()], c % ref_entries_, 1);
    } else {
      add_refcount(c, +1);
    }
  }
  for (const RefBlock& b : blocks) pwrite_all(b.offset, b.bytes.data(), b.bytes.size());
  std::vector<uint8_t> raw(clusters * cluster_size_);
  for (size_t i = 0; i < table.size(); ++i) put_be64(&raw[i * 8], table[i]);
  pwrite_all(at << cluster_bits_, raw.data(), raw.size());
  end_cluster_ = next_free_ = at + clusters + blocks.size();
  sync();  // all of it on disk before the header names the new table

  uint8_t hdr[12];
  put_be64(hdr, at << cluster_bits_);
  put_be32(hdr + 8, static_cast<uint32_t>(clusters));
  pwrite_all(kOffRefcountTable, hdr, sizeof hdr);
  sync();  // the old table is unused on disk before it is freed

  const uint64_t old_offset = header_.refcount_table_offset;
  const uint64_t old_clusters = header_.refcount_table_clusters;
  refcount_table_ = std::move(table);
  header_.refcount_table_offset = at << cluster_bits_;
  header_.refcount_table_clusters = static_cast<uint32_t>(clusters);
  add_refcounts(old_offset >> cluster_bits_, old_clusters, -1);
}

void Qcow2Image::release_reservation() {
  if (next_free_ >= end_cluster_) return;
  add_refcounts(next_free_, end_cluster_ - next_free_, -1);
  sync();
  const uint64_t keep = next_free_ << cluster_bits_;
  if (file_size_ > keep && ::ftruncate(fd_, static_cast<off_t>(keep)) == 0) file_size_ = keep;
  end_cluster_ = next_free_;
}

void Qcow2Image::apply_pending_frees() {
  // The caller synced the L2 entries that dropped these clusters.
  std::vector<uint64_t> frees;
  frees.swap(pending_frees_);
  for (const uint64_t c : frees) {
    add_refcount(c, -1);
    if (refcount(c) == 0) {
      // Give the space back to the host file system; failure only wastes space.
      (void)::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(c << cluster_bits_), static_cast<off_t>(cluster_size_));
    }
  }
}

}  // namespace ferry
