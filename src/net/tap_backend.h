// TapBackend: a host tap device (-netdev tap,ifname=TAP or fd=N), the guest's
// Ethernet wire. ferry opens an existing tap by name (it runs no ifup
// scripts: the caller creates the tap and puts it on a bridge) or takes an
// open tap descriptor.
//
// When the kernel offers it (IFF_VNET_HDR), frames carry the virtio-net
// header both ways, so the host does the checksums and segmentation the
// guest asks for and hands the guest large frames it may take (offloads set
// from the guest's features), as QEMU's vnet_hdr=on.
//
// Frames the card cannot take yet stay in the tap's queue in the kernel:
// the back end reads only while the card has room.
#pragma once

#include <string>
#include <vector>

#include "net/net_backend.h"
#include "net/netdev_config.h"

namespace ferry {

class TapBackend : public NetBackend {
 public:
  // Throws std::runtime_error naming the tap when it can't be opened.
  explicit TapBackend(const NetdevConfig& config);
  ~TapBackend() override;

  std::string kind() const override { return "tap"; }
  const std::string& id() const override { return id_; }
  std::string describe() const override;
  bool has_vnet_header() const override { return vnet_hdr_; }
  void set_offloads(const NetOffloads& offloads) override;
  bool send(const struct iovec* iov, int iovcnt) override;
  void add_pollfds(std::vector<pollfd>& fds, int* timeout_ms, bool want_frames) override;
  void handle_poll(const std::vector<pollfd>& fds, size_t first, bool poll_failed,
                   FrameSink& sink) override;

 private:
  std::string id_;
  std::string ifname_;
  int fd_ = -1;
  bool vnet_hdr_ = false;
  bool polled_ = false;  // add_pollfds added the tap this round
  std::vector<uint8_t> frame_;   // a frame read but not yet taken by the card
  size_t frame_len_ = 0;
  std::vector<uint8_t> buffer_;  // the read buffer
};

}  // namespace ferry
