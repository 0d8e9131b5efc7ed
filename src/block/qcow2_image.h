// Qcow2Image: a qcow2 (version 3, or 2) image file behind BlockImage.
//
// What it handles: clusters of 512 B to 2 MiB, refcounts of any order (16-bit
// as qemu-img writes them), standard L2 entries with the zero flag, reading
// zlib-compressed clusters (a write to one moves it to a fresh cluster), a
// raw or qcow2 backing file. What it refuses, by name, at open: encryption,
// an external data file, extended L2 entries, non-zlib compression, unknown
// incompatible features; for writing also internal snapshots and the dirty
// or corrupt bits (run `qemu-img check -r all`).
//
// Crash consistency (the layout of the writes is in qcow2_image.cc) keeps an
// image that `qemu-img check` finds free of corruption after a kill or a power
// loss at any point; what such a crash can leave is leaked clusters only.
//
// Threads: one thread at a time, as BlockImage says.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "block/qcow2_backing.h"
#include "block/qcow2_format.h"

namespace ferry {

class Qcow2Image : public BlockImage {
 public:
  // Opens the image and its backing chain (read-only), checking the header and
  // the L1 and refcount tables. Throws BlockError naming the file and problem.
  static std::unique_ptr<Qcow2Image> open(const std::string& path, bool read_only,
                                          bool inactive = false);
  // The same for an image `depth` levels down a backing chain (read-only).
  static std::unique_ptr<Qcow2Image> open_in_chain(const std::string& path, bool read_only,
                                                   int depth);

  // Writes back what is pending (flush) and gives back unused reserved clusters.
  ~Qcow2Image() override;
  Qcow2Image(const Qcow2Image&) = delete;
  Qcow2Image& operator=(const Qcow2Image&) = delete;

  std::string_view format() const override { return "qcow2"; }
  const std::string& path() const override { return path_; }
  uint64_t size() const override { return header_.size; }
  bool read_only() const override { return read_only_; }
  uint64_t cluster_size() const { return cluster_size_; }

  void read(uint64_t offset, void* buf, size_t len) override;
  void write(uint64_t offset, const void* buf, size_t len) override;
  void write_zeroes(uint64_t offset, uint64_t len) override;
  void discard(uint64_t offset, uint64_t len) override;
  void flush() override;
  void drop_caches() override;
  std::vector<BlockExtent> allocated_extents() override;
  void deactivate() override;
  void activate() override;
  bool active() const override { return active_; }
  bool has_backing() const override { return backing_ != nullptr; }

 private:
  struct L2Table {
    uint64_t offset = 0;  // host offset of the table
    std::vector<uint64_t> entries;
    uint64_t last_use = 0;
  };
  struct RefBlock {
    uint64_t offset = 0;  // host offset of the block
    std::vector<uint8_t> bytes;
    uint64_t last_use = 0;
  };
  static constexpr size_t kL2CacheTables = 32;
  static constexpr size_t kRefBlockCacheBlocks = 4;

  Qcow2Image(std::string path, int fd, bool read_only);
  void load_metadata();  // header, L1, refcount table; open and drop_caches
  void open_backing(int depth);

  // File I/O. Reads past the end of the file give zeros when `zero_past_eof`,
  // else an error.
  void pread_all(uint64_t off, void* buf, size_t len, bool zero_past_eof) const;
  void pwrite_all(uint64_t off, const void* buf, size_t len);
  void sync();
  [[noreturn]] void fail(const std::string& what) const;
  void check_writable() const;
  void check_range(uint64_t offset, uint64_t len) const;

  // L2 tables (qcow2_image.cc).
  L2Table& l2_table(uint64_t l2_offset);
  uint64_t l2_entry(uint64_t guest_cluster);  // 0 when unallocated
  void set_l2_entry(uint64_t guest_cluster, uint64_t entry);
  void check_host_cluster(uint64_t host, const char* what) const;

  // Cluster contents.
  void read_cluster_part(uint64_t guest_cluster, uint64_t entry, uint64_t in_cluster,
                         uint8_t* out, size_t len);
  void read_compressed(uint64_t entry, uint8_t* out);  // one whole cluster
  void read_backing(uint64_t offset, uint8_t* out, size_t len);
  void write_cluster_part(uint64_t guest_cluster, uint64_t in_cluster, const uint8_t* data,
                          size_t len);
  // Replaces a whole cluster's entry by `entry` (zero flag or unallocated),
  // freeing what the old entry held.
  void replace_with_unallocated(uint64_t guest_cluster, uint64_t entry);
  void free_entry_clusters(uint64_t entry);  // queued until flush()

  // Refcounts and allocation (qcow2_refcounts.cc).
  uint64_t refcount(uint64_t host_cluster);
  void add_refcount(uint64_t host_cluster, int64_t delta);
  void add_refcounts(uint64_t first, uint64_t count, int64_t delta);
  RefBlock& ref_block(uint64_t offset);
  uint64_t allocate_cluster();  // host offset, reads as zeros
  void reserve_clusters();
  void create_ref_block(uint64_t block_index);
  void grow_refcount_table(uint64_t block_index);
  void release_reservation();
  void apply_pending_frees();
  uint64_t get_refcount_entry(const RefBlock& b, uint64_t i) const;
  void set_refcount_entry(RefBlock& b, uint64_t i, uint64_t value);

  std::string path_;
  int fd_ = -1;
  bool read_only_ = true;
  bool active_ = true;  // false: writes nothing to the file (see BlockImage::deactivate)
  uint64_t file_size_ = 0;

  qcow2::Header header_;
  qcow2::HeaderExtras extras_;
  uint64_t cluster_size_ = 0;
  uint32_t cluster_bits_ = 0;
  uint64_t l2_entries_ = 0;      // entries per L2 table
  uint64_t refcount_bits_ = 16;  // per refcount entry
  uint64_t ref_entries_ = 0;     // entries per refcount block

  std::vector<uint64_t> l1_;
  std::vector<L2Table> l2_cache_;
  std::vector<uint64_t> refcount_table_;
  std::vector<RefBlock> ref_cache_;
  uint64_t use_clock_ = 0;

  // Host clusters [next_free_, end_cluster_) have refcount 1, are referenced by
  // nothing yet and read as zeros: handed out by allocate_cluster().
  uint64_t next_free_ = 0;
  uint64_t end_cluster_ = 0;
  std::vector<uint64_t> pending_frees_;  // host clusters to decrement at flush

  std::unique_ptr<qcow2::BackingFile> backing_;
};

}  // namespace ferry
