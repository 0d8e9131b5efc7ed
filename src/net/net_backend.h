// NetBackend: where a network card's frames go and come from (a tap device
// on the host, or libslirp's user-mode network), as QEMU's -netdev.
//
// A back end is driven by one thread, its card's I/O thread, through a poll
// loop: the thread asks the back end which descriptors to watch (and for how
// long at most), polls them with its own, and hands the results back. The
// back end delivers the frames it receives to a FrameSink. Nothing here
// touches guest RAM: the card does that.
//
// Frames: a plain Ethernet frame, or, when has_vnet_header(), the same frame
// preceded by a virtio_net_hdr_v1 (12 bytes, little-endian), the header the
// guest's driver writes and reads; the host kernel then does what it asks
// (checksums, segmentation), as with QEMU's vnet_hdr=on.
//
// Threads: the card's I/O thread calls everything, except save_state /
// load_state, which the migration calls with that thread kept away (the
// card holds its back-end lock around them and around the poll loop's
// calls).
#pragma once

#include <poll.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ferry {

// Receives the frames a back end reads. False: no room now (the back end
// keeps the frame, or drops it when it can't keep one).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual bool deliver_frame(const uint8_t* frame, size_t len) = 0;
};

// What the guest's driver can take in received frames (with a vnet header).
struct NetOffloads {
  bool csum = false;  // partial checksums (VIRTIO_NET_F_GUEST_CSUM)
  bool tso4 = false, tso6 = false, ecn = false;
};

class NetBackend {
 public:
  virtual ~NetBackend() = default;

  // "tap" or "user", and the -netdev id.
  virtual std::string kind() const = 0;
  virtual const std::string& id() const = 0;
  // One line for `info network`.
  virtual std::string describe() const = 0;

  virtual bool has_vnet_header() const { return false; }
  virtual void set_offloads(const NetOffloads& /*offloads*/) {}

  // Sends one frame (gathered from `iov`). False: the host could not take
  // it now (a full tap queue); the frame is dropped, as a wire would.
  virtual bool send(const struct iovec* iov, int iovcnt) = 0;

  // --- the poll loop ---
  // Adds the descriptors to watch; `want_frames`: the card can take frames
  // now (else the back end leaves them in the host's queue, if it has one).
  // May lower *timeout_ms (-1 = none): for the back end's own timers, and
  // to 0 when it holds frames and the card can take them (a back end may
  // make frames inside send(), as libslirp does an ARP reply; they wait for
  // the next handle_poll).
  virtual void add_pollfds(std::vector<pollfd>& fds, int* timeout_ms, bool want_frames) = 0;
  // After poll(): `fds` from index `first` on are this back end's, with
  // their revents; delivers what arrived (while `sink` takes frames).
  virtual void handle_poll(const std::vector<pollfd>& fds, size_t first, bool poll_failed,
                           FrameSink& sink) = 0;

  // --- migration: the back end's own state (libslirp's), if it has one ---
  virtual bool has_state() const { return false; }
  virtual std::vector<uint8_t> save_state() { return {}; }
  // Throws std::runtime_error when the state can't be taken.
  virtual void load_state(const std::vector<uint8_t>& /*state*/) {}
};

}  // namespace ferry
