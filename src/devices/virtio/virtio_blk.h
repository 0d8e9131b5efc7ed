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

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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

  BlockImage& image() { return *image_; }

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

  AddressSpace& bus_;
  std::unique_ptr<BlockImage> image_;
  VirtioBlkConfig config_;
  ImageLock lock_;

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
