// VirtioNet: a virtio network card (virtio 1.x, device ID 1) on the
// virtio-mmio transport, wired to a NetBackend (a tap, or libslirp).
//
// Queues: receive (0), transmit (1) and control (2). Features: MAC, link
// status, mergeable receive buffers, the control queue with the driver's
// own announce (VIRTIO_NET_F_GUEST_ANNOUNCE); with a back end that carries
// the virtio-net header (a tap with vnet_hdr), also checksum and
// segmentation offloads both ways.
//
// Packet I/O runs on the card's own thread, which polls the back end and an
// eventfd the vCPU's queue notifies write: transmit takes the chains the
// driver made available and hands them to the back end; receive writes the
// frames the back end reads into the receive queue through the RAM write
// path. The control queue is small and served on the vCPU's notify.
//
// Run state: only while the VM runs does the thread touch guest RAM or send
// anything. When it stops, the thread finishes the batch in hand and takes
// no more; a tap's frames wait in the host's queue, user-mode frames in
// libslirp's (bounded: beyond that they are dropped, as a wire would). So
// after the final pass of a migration nothing is written into RAM, and a
// source in postmigrate sends nothing on its back end.
//
// Announce: after a migration (and on QMP announce-self) the thread sends
// RARP frames for the card's MAC on the announce schedule and, when the
// driver took VIRTIO_NET_F_GUEST_ANNOUNCE, asks the guest to announce itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "devices/virtio/virtio_mmio.h"
#include "memory/address_space.h"
#include "net/announce.h"
#include "net/net_backend.h"
#include "net/netdev_config.h"

namespace ferry {

struct NetStats {
  uint64_t rx_frames = 0, tx_frames = 0, rx_dropped = 0, tx_dropped = 0, announces = 0;
};

class VirtioNet : public VirtioMmio, private FrameSink {
 public:
  VirtioNet(AddressSpace& bus, GuestRam& ram, IrqLine* irq, std::unique_ptr<NetBackend> backend,
            const NicConfig& config);
  ~VirtioNet() override;

  std::string_view state_name() const override { return "virtio-net"; }
  int state_version() const override { return 1; }
  void vm_state_changed(bool running) override;
  void post_load() override;

  // --- the monitor (main thread) ---
  // Starts announcing on `params`' schedule (replacing a schedule running);
  // rounds wait while the VM is not running.
  void announce(const AnnounceParams& params);
  void set_link(bool up);
  bool link_up() const { return link_up_.load(); }
  const std::string& id() const { return config_.id; }
  const NicConfig& config() const { return config_; }
  NetBackend& backend() { return *backend_; }
  NetStats stats() const;

 protected:
  uint32_t device_id() const override { return 1; }
  uint64_t device_features() const override;
  uint64_t config_read(uint64_t offset, unsigned size) override;
  void queue_notify(unsigned index) override;
  void device_reset() override;
  void status_written() override;
  void visit_device_state(StateVisitor& v) override;

 private:
  void io_main();
  // The transmit queue's chains, to the back end (the thread, running).
  void transmit();
  // FrameSink: one frame into the receive queue (the thread, running).
  bool deliver_frame(const uint8_t* frame, size_t len) override;
  // The control queue (device lock held).
  void serve_control();
  void send_announce_round();
  void wake();
  void apply_offloads();

  AddressSpace& bus_;
  std::unique_ptr<NetBackend> backend_;
  NicConfig config_;
  int wake_fd_ = -1;  // eventfd: a notify, a run-state change, an announce, quit

  // Device state (device lock).
  uint16_t status_ = 1;  // VIRTIO_NET_S_LINK_UP, VIRTIO_NET_S_ANNOUNCE
  uint64_t generation_ = 0;  // bumped by a device reset: chains in hand are void

  std::mutex backend_mutex_;  // the back end: the thread's poll calls, sends, its state
  std::atomic<bool> link_up_{true};
  std::atomic<bool> rx_blocked_{false};  // no receive buffers: wait for the driver's notify
  bool active_ = false;   // the thread's pass may touch RAM (the thread only)
  bool tx_more_ = false;  // transmit stopped with chains left (the thread only)

  std::mutex mutex_;  // guards the fields below
  std::condition_variable idle_;
  bool running_ = false;
  bool busy_ = false;  // the thread is in a pass that may touch RAM
  bool quit_ = false;
  AnnounceSchedule announce_;

  std::atomic<uint64_t> rx_frames_{0}, tx_frames_{0}, rx_dropped_{0}, tx_dropped_{0},
      announces_{0};
  std::thread thread_;
};

}  // namespace ferry
