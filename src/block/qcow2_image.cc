// Qcow2Image: open, the L1/L2 mapping, reads and writes.
//
// Crash consistency. Metadata is written through to the file (nothing dirty is
// cached), in an order that keeps every reference covered by its refcount, so
// a kill or a power loss at any point leaves leaked clusters at worst, never
// corruption. The dirty bit (lazy refcounts) is not used.
//  - Clusters are allocated from a run reserved at the end of the file: the
//    file is extended, the run's refcounts are set to 1 and synced, and only
//    then are clusters of it handed out. An L2 or L1 entry thus never points at
//    a cluster whose refcount isn't on disk, without a sync per allocation.
//  - A new data cluster is written before the L2 entry that points at it, a
//    new L2 table before its L1 entry (reserved clusters read as zeros, so an
//    L1 entry that reaches the disk first points at an empty table).
//  - New refcount blocks and a grown refcount table are written and synced
//    before the refcount table entry or the header points at them
//    (qcow2_refcounts.cc).
//  - Frees wait for flush(): the L2 entries that dropped clusters are synced,
//    then the refcounts go down. Allocation only takes fresh clusters at the
//    end of the file, so a freed cluster is never reused meanwhile.
// What a crash can leak: the unused rest of a reservation and the frees not
// yet done (`qemu-img check -r leaks` reclaims them). Closing the image gives
// the reservation back and truncates the file.
#include "block/qcow2_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ferry {

using namespace qcow2;

namespace {

bool has_offset(uint64_t entry) { return (entry & kOffsetMask) != 0; }

}  // namespace

Qcow2Image::Qcow2Image(std::string path, int fd, bool read_only)
    : path_(std::move(path)), fd_(fd), read_only_(read_only) {}

std::unique_ptr<Qcow2Image> Qcow2Image::open(const std::string& path, bool read_only,
                                             bool inactive) {
  if (!inactive) return open_in_chain(path, read_only, 0);
  const int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) throw BlockError("Could not open '" + path + "': " + std::strerror(errno));
  std::unique_ptr<Qcow2Image> image(new Qcow2Image(path, fd, read_only));
  image->active_ = false;  // before load_metadata: it must not write the header
  image->load_metadata();
  image->open_backing(0);
  return image;
}

void Qcow2Image::deactivate() {
  if (!active_) return;
  if (!read_only_) {
    flush();
    release_reservation();
    sync();
  }
  active_ = false;
}

void Qcow2Image::activate() {
  active_ = true;
  load_metadata();  // what the other process wrote; clears autoclear bits if needed
}

std::unique_ptr<Qcow2Image> Qcow2Image::open_in_chain(const std::string& path, bool read_only,
                                                      int depth) {
  const int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) throw BlockError("Could not open '" + path + "': " + std::strerror(errno));
  std::unique_ptr<Qcow2Image> image(new Qcow2Image(path, fd, read_only));
  image->load_metadata();
  image->open_backing(depth);
  return image;
}

Qcow2Image::~Qcow2Image() {
  if (fd_ < 0) return;
  if (!read_only_ && active_) {
    try {
      flush();
      release_reservation();
      sync();
    } catch (const BlockError&) {
      // Nothing to report to at close; what is left is at worst leaked clusters.
    }
  }
  ::close(fd_);
}

void Qcow2Image::fail(const std::string& what) const { throw BlockError(path_ + ": " + what); }

void Qcow2Image::check_writable() const {
  if (read_only_) fail("image is open read-only");
  if (!active_) fail("image is not this VM's to write (migration hand-over)");
}

void Qcow2Image::check_range(uint64_t offset, uint64_t len) const {
  if (offset > header_.size || len > header_.size - offset) {
    fail("access at " + std::to_string(offset) + " + " + std::to_string(len) +
         " beyond the virtual size " + std::to_string(header_.size));
  }
}

void Qcow2Image::pread_all(uint64_t off, void* buf, size_t len, bool zero_past_eof) const {
  auto* out = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd_, out + done, len - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read at " + std::to_string(off + done) + " failed: " + std::strerror(errno));
    if (n == 0) {
      if (!zero_past_eof) fail("unexpected end of file at " + std::to_string(off + done));
      std::memset(out + done, 0, len - done);
      return;
    }
    done += static_cast<size_t>(n);
  }
}

void Qcow2Image::pwrite_all(uint64_t off, const void* buf, size_t len) {
  const auto* in = static_cast<const uint8_t*>(buf);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pwrite(fd_, in + done, len - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write at " + std::to_string(off + done) + " failed: " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  file_size_ = std::max(file_size_, off + len);
}

void Qcow2Image::sync() {
  if (::fdatasync(fd_) != 0) fail(std::string("fdatasync failed: ") + std::strerror(errno));
}

void Qcow2Image::load_metadata() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail(std::string("cannot stat: ") + std::strerror(errno));
  file_size_ = static_cast<uint64_t>(st.st_size);

  uint8_t head[kHeaderV3Length + 8] = {};
  const size_t head_len = static_cast<size_t>(std::min<uint64_t>(sizeof head, file_size_));
  pread_all(0, head, head_len, false);
  header_ = decode_header(path_, head, head_len, file_size_);
  cluster_bits_ = header_.cluster_bits;
  cluster_size_ = uint64_t{1} << cluster_bits_;
  l2_entries_ = cluster_size_ / 8;
  refcount_bits_ = uint64_t{1} << header_.refcount_order;
  ref_entries_ = cluster_size_ * 8 / refcount_bits_;

  std::vector<uint8_t> first(std::min(cluster_size_, file_size_));
  pread_all(0, first.data(), first.size(), false);
  extras_ = decode_extras(path_, header_, first.data(), first.size());

  const uint64_t unsupported =
      header_.incompatible_features & ~(kIncompatDirty | kIncompatCorrupt);
  if (unsupported != 0) {
    fail("unsupported qcow2 incompatible feature(s): " +
         describe_features(extras_, 0, unsupported));
  }
  if (header_.compression_type != 0) {
    fail("qcow2 compression type " + std::to_string(header_.compression_type) +
         " is not supported (only zlib)");
  }
  if (!read_only_) {
    if (header_.incompatible_features & kIncompatDirty) {
      fail("the qcow2 dirty bit is set (refcounts may be stale); run 'qemu-img check -r all " +
           path_ + "' first");
    }
    if (header_.incompatible_features & kIncompatCorrupt) {
      fail("the image is marked corrupt; run 'qemu-img check -r all " + path_ + "' first");
    }
    if (header_.nb_snapshots != 0) {
      fail("the image has " + std::to_string(header_.nb_snapshots) +
           " internal snapshot(s); ferry writes only images without snapshots");
    }
  }

  // L1 table: every L2 table it names must be cluster aligned and in the file.
  std::vector<uint8_t> raw(uint64_t{header_.l1_size} * 8);
  pread_all(header_.l1_table_offset, raw.data(), raw.size(), false);
  l1_.assign(header_.l1_size, 0);
  for (uint32_t i = 0; i < header_.l1_size; ++i) {
    l1_[i] = get_be64(&raw[i * 8]);
    const uint64_t l2 = l1_[i] & kOffsetMask;
    if (l2 != 0 && (l2 % cluster_size_ != 0 || l2 >= file_size_)) {
      fail("L1 entry " + std::to_string(i) + " points to an L2 table at " + std::to_string(l2) +
           (l2 % cluster_size_ != 0 ? " that is not cluster aligned" : " beyond the end of the file"));
    }
  }

  // Refcount table: the same for the refcount blocks.
  raw.assign(uint64_t{header_.refcount_table_clusters} * cluster_size_, 0);
  pread_all(header_.refcount_table_offset, raw.data(), raw.size(), true);
  refcount_table_.assign(raw.size() / 8, 0);
  for (size_t i = 0; i < refcount_table_.size(); ++i) {
    const uint64_t block = get_be64(&raw[i * 8]) & ~uint64_t{511};
    if (block != 0 && (block % cluster_size_ != 0 || block >= file_size_)) {
      fail("refcount table entry " + std::to_string(i) + " points to a refcount block at " +
           std::to_string(block) +
           (block % cluster_size_ != 0 ? " that is not cluster aligned"
                                       : " beyond the end of the file"));
    }
    refcount_table_[i] = block;
  }

  l2_cache_.clear();
  ref_cache_.clear();
  pending_frees_.clear();
  end_cluster_ = (file_size_ + cluster_size_ - 1) >> cluster_bits_;
  next_free_ = end_cluster_;

  // Autoclear bits name extensions ferry doesn't keep up to date (bitmaps):
  // a writer that doesn't know them must clear them.
  if (!read_only_ && active_ && header_.autoclear_features != 0 && header_.version >= 3) {
    uint8_t zero[8] = {};
    pwrite_all(kOffAutoclear, zero, sizeof zero);
    sync();
    header_.autoclear_features = 0;
  }
}

void Qcow2Image::open_backing(int depth) {
  if (extras_.backing_file.empty()) return;
  backing_ = open_backing_file(path_, extras_.backing_file, extras_.backing_format, depth + 1);
}

void Qcow2Image::drop_caches() {
  // Pending frees and a reservation belong to the view being dropped; at
  // worst they stay as leaks.
  load_metadata();
}

// ---- L2 tables ----

void Qcow2Image::check_host_cluster(uint64_t host, const char* what) const {
  if (host % cluster_size_ != 0 || host >= file_size_) {
    fail(std::string(what) + " at " + std::to_string(host) +
         (host % cluster_size_ != 0 ? " is not cluster aligned" : " lies beyond the end of the file"));
  }
}

Qcow2Image::L2Table& Qcow2Image::l2_table(uint64_t l2_offset) {
  ++use_clock_;
  for (auto& t : l2_cache_) {
    if (t.offset == l2_offset) {
      t.last_use = use_clock_;
      return t;
    }
  }
  check_host_cluster(l2_offset, "L2 table");
  std::vector<uint8_t> raw(cluster_size_);
  pread_all(l2_offset, raw.data(), raw.size(), true);
  L2Table* slot;
  if (l2_cache_.size() < kL2CacheTables) {
    slot = &l2_cache_.emplace_back();
  } else {
    slot = &*std::min_element(l2_cache_.begin(), l2_cache_.end(),
                              [](const L2Table& a, const L2Table& b) { return a.last_use < b.last_use; });
  }
  slot->offset = l2_offset;
  slot->last_use = use_clock_;
  slot->entries.resize(l2_entries_);
  for (uint64_t i = 0; i < l2_entries_; ++i) slot->entries[i] = get_be64(&raw[i * 8]);
  return *slot;
}

uint64_t Qcow2Image::l2_entry(uint64_t guest_cluster) {
  const uint64_t l1_index = guest_cluster / l2_entries_;
  const uint64_t l2 = l1_index < l1_.size() ? l1_[l1_index] & kOffsetMask : 0;
  if (l2 == 0) return 0;
  return l2_table(l2).entries[guest_cluster % l2_entries_];
}

void Qcow2Image::set_l2_entry(uint64_t guest_cluster, uint64_t entry) {
  const uint64_t l1_index = guest_cluster / l2_entries_;
  const uint64_t i = guest_cluster % l2_entries_;
  uint8_t be[8];
  uint64_t l2 = l1_[l1_index] & kOffsetMask;
  if (l2 != 0) {
    L2Table& t = l2_table(l2);
    put_be64(be, entry);
    pwrite_all(l2 + i * 8, be, 8);
    t.entries[i] = entry;
    return;
  }
  // A new table, written whole with its one entry before the L1 entry names it.
  l2 = allocate_cluster();
  std::vector<uint8_t> raw(cluster_size_, 0);
  put_be64(&raw[i * 8], entry);
  pwrite_all(l2, raw.data(), raw.size());
  put_be64(be, l2 | kFlagCopied);
  pwrite_all(header_.l1_table_offset + l1_index * 8, be, 8);
  l1_[l1_index] = l2 | kFlagCopied;
}

// ---- reading ----

void Qcow2Image::read_backing(uint64_t offset, uint8_t* out, size_t len) {
  if (backing_) {
    backing_->read(offset, out, len);
  } else {
    std::memset(out, 0, len);
  }
}

void Qcow2Image::read_compressed(uint64_t entry, uint8_t* out) {
  // Bits 0..x-1: host byte offset; x..61: extra 512-byte sectors after the first.
  const uint32_t x = 62 - (cluster_bits_ - 8);
  const uint64_t host = entry & ((uint64_t{1} << x) - 1);
  const uint64_t sectors = ((entry & ~(kFlagCopied | kFlagCompressed)) >> x) + 1;
  uint64_t len = sectors * 512 - (host & 511);
  if (host >= file_size_) fail("compressed cluster at " + std::to_string(host) + " lies beyond the end of the file");
  len = std::min(len, file_size_ - host);
  std::vector<uint8_t> in(len);
  pread_all(host, in.data(), in.size(), false);

  z_stream z{};
  if (inflateInit2(&z, -12) != Z_OK) fail("zlib initialisation failed");
  z.next_in = in.data();
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out;
  z.avail_out = static_cast<uInt>(cluster_size_);
  const int rc = inflate(&z, Z_FINISH);
  const bool full = z.avail_out == 0;
  inflateEnd(&z);
  // A full cluster is enough: the compressed data may end with padding.
  if (!(rc == Z_STREAM_END || ((rc == Z_OK || rc == Z_BUF_ERROR) && full)) || !full) {
    fail("compressed cluster at " + std::to_string(host) + " does not decompress");
  }
}

void Qcow2Image::read_cluster_part(uint64_t guest_cluster, uint64_t entry, uint64_t in_cluster,
                                   uint8_t* out, size_t len) {
  if (entry & kFlagCompressed) {
    std::vector<uint8_t> cluster(cluster_size_);
    read_compressed(entry, cluster.data());
    std::memcpy(out, cluster.data() + in_cluster, len);
  } else if (header_.version >= 3 && (entry & kFlagZero)) {
    std::memset(out, 0, len);
  } else if (has_offset(entry)) {
    const uint64_t host = entry & kOffsetMask;
    check_host_cluster(host, "data cluster");
    pread_all(host + in_cluster, out, len, true);
  } else {
    read_backing((guest_cluster << cluster_bits_) + in_cluster, out, len);
  }
}

void Qcow2Image::read(uint64_t offset, void* buf, size_t len) {
  check_range(offset, len);
  auto* out = static_cast<uint8_t*>(buf);
  const bool v3 = header_.version >= 3;
  auto plain = [&](uint64_t e) {
    return !(e & kFlagCompressed) && !(v3 && (e & kFlagZero)) && has_offset(e);
  };
  while (len > 0) {
    const uint64_t gc = offset >> cluster_bits_;
    const uint64_t in = offset & (cluster_size_ - 1);
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, cluster_size_ - in));
    const uint64_t entry = l2_entry(gc);
    if (plain(entry)) {
      // One pread for a run of clusters that lie one after another on the host.
      const uint64_t host = entry & kOffsetMask;
      check_host_cluster(host, "data cluster");
      for (uint64_t k = 1; n < len; ++k) {
        const uint64_t next = l2_entry(gc + k);
        if (!plain(next) || (next & kOffsetMask) != host + (k << cluster_bits_) ||
            (next & kOffsetMask) >= file_size_) {
          break;
        }
        n += static_cast<size_t>(std::min<uint64_t>(len - n, cluster_size_));
      }
      pread_all(host + in, out, n, true);
    } else {
      read_cluster_part(gc, entry, in, out, n);
    }
    out += n;
    offset += n;
    len -= n;
  }
}

// ---- writing ----

void Qcow2Image::free_entry_clusters(uint64_t entry) {
  if (entry & kFlagCompressed) {
    const uint32_t x = 62 - (cluster_bits_ - 8);
    const uint64_t host = entry & ((uint64_t{1} << x) - 1);
    const uint64_t sectors = ((entry & ~(kFlagCopied | kFlagCompressed)) >> x) + 1;
    const uint64_t end = (host & ~uint64_t{511}) + sectors * 512;
    for (uint64_t c = host >> cluster_bits_; c <= (end - 1) >> cluster_bits_; ++c) {
      pending_frees_.push_back(c);
    }
  } else if (has_offset(entry)) {
    pending_frees_.push_back((entry & kOffsetMask) >> cluster_bits_);
  }
}

void Qcow2Image::write_cluster_part(uint64_t guest_cluster, uint64_t in_cluster,
                                    const uint8_t* data, size_t len) {
  const uint64_t entry = l2_entry(guest_cluster);
  const uint64_t host = entry & kOffsetMask;
  const bool compressed = entry & kFlagCompressed;
  // Bit 0 is part of the offset in a compressed entry, the zero flag only in a standard one.
  const bool zero = !compressed && header_.version >= 3 && (entry & kFlagZero);
  if (!compressed && host != 0) {
    check_host_cluster(host, "data cluster");
    // Without snapshots every cluster is ours alone; check when the flag is missing.
    if ((entry & kFlagCopied) || refcount(host >> cluster_bits_) == 1) {
      if (zero) {
        // A preallocated zero cluster: zeros around the data, then clear the flag.
        std::vector<uint8_t> buf(cluster_size_, 0);
        std::memcpy(buf.data() + in_cluster, data, len);
        pwrite_all(host, buf.data(), buf.size());
      } else {
        pwrite_all(host + in_cluster, data, len);
      }
      if (entry != (host | kFlagCopied)) set_l2_entry(guest_cluster, host | kFlagCopied);
      return;
    }
  }
  // A fresh cluster, which reads as zeros: write only the data unless something
  // else (backing file, a compressed or shared cluster) must show around it.
  const bool whole = in_cluster == 0 && len == cluster_size_;
  const bool zero_around = zero || (!compressed && host == 0 && !backing_);
  std::vector<uint8_t> buf;
  uint64_t at = in_cluster;
  if (!whole && !zero_around) {
    buf.resize(cluster_size_);
    read_cluster_part(guest_cluster, entry, 0, buf.data(), buf.size());
    std::memcpy(buf.data() + in_cluster, data, len);
    data = buf.data();
    len = buf.size();
    at = 0;
  }
  const uint64_t fresh = allocate_cluster();
  pwrite_all(fresh + at, data, len);
  set_l2_entry(guest_cluster, fresh | kFlagCopied);
  free_entry_clusters(entry);
}

void Qcow2Image::write(uint64_t offset, const void* buf, size_t len) {
  check_writable();
  check_range(offset, len);
  const auto* in = static_cast<const uint8_t*>(buf);
  while (len > 0) {
    const uint64_t c = offset & (cluster_size_ - 1);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(len, cluster_size_ - c));
    write_cluster_part(offset >> cluster_bits_, c, in, n);
    in += n;
    offset += n;
    len -= n;
  }
}

void Qcow2Image::replace_with_unallocated(uint64_t guest_cluster, uint64_t entry) {
  const uint64_t old = l2_entry(guest_cluster);
  if (old == entry) return;
  set_l2_entry(guest_cluster, entry);
  free_entry_clusters(old);
}

void Qcow2Image::write_zeroes(uint64_t offset, uint64_t len) {
  check_writable();
  check_range(offset, len);
  std::vector<uint8_t> zeros;
  while (len > 0) {
    const uint64_t gc = offset >> cluster_bits_;
    const uint64_t c = offset & (cluster_size_ - 1);
    const uint64_t n = std::min<uint64_t>(len, cluster_size_ - c);
    // The last cluster of a disk whose size isn't a multiple counts as whole.
    const bool whole = c == 0 && (n == cluster_size_ || offset + n == header_.size);
    if (whole && header_.version >= 3) {
      if (backing_ || l2_entry(gc) != 0) replace_with_unallocated(gc, kFlagZero);
    } else if (whole && !backing_) {
      replace_with_unallocated(gc, 0);  // version 2: no zero flag
    } else {
      zeros.resize(cluster_size_, 0);
      write_cluster_part(gc, c, zeros.data(), static_cast<size_t>(n));
    }
    offset += n;
    len -= n;
  }
}

void Qcow2Image::discard(uint64_t offset, uint64_t len) {
  check_writable();
  check_range(offset, len);
  // Only whole clusters go; they read from the backing file (or as zeros) after.
  const uint64_t end = offset + len;
  uint64_t first = (offset + cluster_size_ - 1) >> cluster_bits_;
  uint64_t last = end == header_.size ? (end + cluster_size_ - 1) >> cluster_bits_
                                      : end >> cluster_bits_;
  for (uint64_t gc = first; gc < last; ++gc) {
    if (l2_entry(gc) != 0) replace_with_unallocated(gc, 0);
  }
}

void Qcow2Image::flush() {
  if (read_only_ || !active_) return;
  sync();
  if (!pending_frees_.empty()) {
    apply_pending_frees();
    sync();
  }
}

std::vector<BlockExtent> Qcow2Image::allocated_extents() {
  std::vector<BlockExtent> out;
  const uint64_t clusters = (header_.size + cluster_size_ - 1) >> cluster_bits_;
  for (uint64_t gc = 0; gc < clusters;) {
    const uint64_t l1_index = gc / l2_entries_;
    if ((l1_[l1_index] & kOffsetMask) == 0) {
      gc = (l1_index + 1) * l2_entries_;
      continue;
    }
    if (l2_entry(gc) != 0) {
      const uint64_t start = gc << cluster_bits_;
      const uint64_t length = std::min(cluster_size_, header_.size - start);
      if (!out.empty() && out.back().offset + out.back().length == start) {
        out.back().length += length;
      } else {
        out.push_back({start, length});
      }
    }
    ++gc;
  }
  return out;
}

}  // namespace ferry
