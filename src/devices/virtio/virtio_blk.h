// VirtioBlk: a virtio block device (virtio 1.x, device ID 2) on the
// virtio-mmio transport, backed by a BlockImage (raw or qcow2).
//
// Requests: read, write, flush, get-id, discard and write-zeroes. They are
// served on the disk's own I/O thread, so a slow disk does not stall the
// guest: a queue notify only wakes that thread. The thread takes the device
// lock to take chains from the queue and to return them (and raise the
// interrupt), not while it waits for the disk; data lands in guest RAM
// through the RAM write path (GuestRam::write), so the dirty log sees it.
//
// Run state: when the VM stops, the thread finishes the request in hand,
// takes no new one and flushes the image; the device state is then saved
// with no request in flight. When the VM runs again the thread looks at the
// queue afresh (chains the driver made available before a migration are
// served on the destination).
//
// Image ownership: a VM that starts normally takes the image locks at once
// (a second user fails at start). A migration destination opens the image
// without them and takes them at the hand-over (take_storage), after the
// source flushed and released them (release_storage).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "block/block_image.h"
#include "block/image_lock.h"
#include "devices/virtio/virtio_mmio.h"
#include "memory/address_space.h"

namespace ferry {

struct VirtioBlkConfig {
  std::string serial;     // what GET_ID returns (up to 20 bytes; "" = zeros)
  bool incoming = false;  // a migration destination: no locks until the hand-over
};

class VirtioBlk : public VirtioMmio {
 public:
  VirtioBlk(AddressSpace& bus, GuestRam& ram, IrqLine* irq, std::unique_ptr<BlockImage> image,
            const VirtioBlkConfig& config);
  ~VirtioBlk() override;

  std::string_view state_name() const override { return "virtio-blk"; }
  int state_version() const override { return 1; }
  void vm_state_changed(bool running) override;
  void release_storage() override;
  void reclaim_storage() override;
  void take_storage() override;

  // --- block migration (migration threads) ---
  // The image is shared with the I/O thread: these take the image lock.
  static constexpr uint64_t kChunk = 1 << 20;  // the dirty log's granularity
  uint64_t disk_size() const { return image_->size(); }
  bool read_only() const { return image_->read_only(); }
  const std::string& image_path() const { return image_->path(); }
  // Starts (or stops) logging which chunks the guest writes.
  void set_dirty_logging(bool on);
  // Takes the chunks written since the last call (bit i = chunk i).
  std::vector<uint64_t> take_dirty_chunks();
  // Ranges with data of the image itself, or of its whole backing chain too.
  std::vector<BlockExtent> migration_extents(bool with_backing);
  void migration_read(uint64_t offset, void* buf, size_t len);
  // Destination: writes what the source's disk holds (taking the image for
  // itself first: a copied disk is not shared).
  void migration_write(uint64_t offset, const void* buf, size_t len, bool zeroes);

 protected:
  uint32_t device_id() const override { return 2; }
  uint64_t device_features() const override;
  uint64_t config_read(uint64_t offset, unsigned size) override;
  void queue_notify(unsigned index) override;
  void device_reset() override;
  void visit_device_state(StateVisitor& v) override;

 private:
  void io_main();
  // Serves what the queue holds; returns when it is empty or the VM stops.
  void serve_queue();
  // Executes one request; returns the bytes written into the chain.
  uint32_t execute(const VirtqueueChain& chain);
  void lock_image();
  // After a write to the image (image mutex held): the dirty log, and a flush is due.
  void note_written(uint64_t offset, uint64_t len);
  void flush_image();

  AddressSpace& bus_;
  std::unique_ptr<BlockImage> image_;
  VirtioBlkConfig config_;
  ImageLock lock_;

  std::mutex image_mutex_;  // the image: the I/O thread and the block migration
  std::atomic<bool> dirty_logging_{false};
  bool unflushed_ = false;  // written since the last flush (image mutex)
  std::vector<std::atomic<uint64_t>> dirty_chunks_;

  std::mutex mutex_;  // guards the fields below (never held with the device lock taken after it)
  std::condition_variable wake_;
  std::condition_variable idle_;
  bool kicked_ = false;
  bool running_ = false;  // the VM runs: requests may be served
  bool busy_ = false;     // the thread is serving the queue
  bool quit_ = false;
  uint64_t generation_ = 0;  // bumped by a device reset: drop what was in hand
  std::thread thread_;
};

}  // namespace ferry
