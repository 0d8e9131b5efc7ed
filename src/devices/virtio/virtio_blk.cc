#include "devices/virtio/virtio_blk.h"

#include <algorithm>
#include <cstring>

#include "devices/virtio/chain_view.h"

namespace ferry {
namespace {

constexpr uint64_t kFeatureSegMax = 1ull << 2, kFeatureRo = 1ull << 5,
                   kFeatureBlkSize = 1ull << 6, kFeatureFlush = 1ull << 9,
                   kFeatureDiscard = 1ull << 13, kFeatureWriteZeroes = 1ull << 14;
constexpr uint32_t kTypeIn = 0, kTypeOut = 1, kTypeFlush = 4, kTypeGetId = 8,
                   kTypeDiscard = 11, kTypeWriteZeroes = 13;
constexpr uint8_t kStatusOk = 0, kStatusIoErr = 1, kStatusUnsupported = 2;
constexpr uint64_t kSector = 512;
constexpr uint32_t kSegMax = Virtqueue::kMaxSize - 2;
constexpr uint64_t kMaxRequestBytes = 64ull << 20;  // far above what drivers send
constexpr uint32_t kMaxDiscardSectors = 1u << 22;   // 2 GiB a request
constexpr unsigned kIdBytes = 20;

uint64_t le(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

VirtioBlk::VirtioBlk(AddressSpace& bus, GuestRam& ram, IrqLine* irq,
                     std::unique_ptr<BlockImage> image, const VirtioBlkConfig& config)
    : VirtioMmio(ram, irq, 1), bus_(bus), image_(std::move(image)), config_(config),
      dirty_chunks_((image_->size() / kChunk + 64) / 64) {
  if (!config_.incoming) lock_image();
  thread_ = std::thread([this] { io_main(); });
}

VirtioBlk::~VirtioBlk() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // The image's own close flushes it, if it is still this VM's.
}

void VirtioBlk::lock_image() {
  lock_.acquire(image_->path(), !image_->read_only(), image_->format() != "raw");
}

uint64_t VirtioBlk::device_features() const {
  uint64_t f = kFeatureSegMax | kFeatureBlkSize | kFeatureFlush;
  if (image_->read_only()) f |= kFeatureRo;
  else f |= kFeatureDiscard | kFeatureWriteZeroes;
  return f;
}

uint64_t VirtioBlk::config_read(uint64_t offset, unsigned size) {
  uint8_t c[60] = {};
  auto put = [&](unsigned at, uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) c[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0, image_->size() / kSector, 8);  // capacity in sectors
  put(12, kSegMax, 4);
  put(20, kSector, 4);  // blk_size
  put(36, kMaxDiscardSectors, 4);
  put(40, 1, 4);  // max_discard_seg
  put(44, 1, 4);  // discard_sector_alignment
  put(48, kMaxDiscardSectors, 4);
  put(52, 1, 4);  // max_write_zeroes_seg
  put(56, 1, 1);  // write_zeroes_may_unmap
  if (offset >= sizeof c || size > sizeof c - offset) return 0;
  return le(c + offset, size);
}

void VirtioBlk::queue_notify(unsigned) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    kicked_ = true;
  }
  wake_.notify_one();
}

void VirtioBlk::device_reset() { ++generation_; }

void VirtioBlk::vm_state_changed(bool running) {
  std::unique_lock<std::mutex> lock(mutex_);
  running_ = running;
  if (running) {
    kicked_ = true;  // chains made available while stopped (or on the source) wait
    lock.unlock();
    wake_.notify_one();
    return;
  }
  idle_.wait(lock, [this] { return !busy_; });
  lock.unlock();
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  if (image_->active() && unflushed_) {  // a flush with nothing to write still waits on the host
    try {
      flush_image();
    } catch (const BlockError&) {
      // The flush requests the guest sent got their own status; a failure
      // here shows again at the next flush or at the hand-over.
    }
  }
}

void VirtioBlk::release_storage() {
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  image_->deactivate();  // flushed; nothing more is written from here
  lock_.release();
}

void VirtioBlk::reclaim_storage() {
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  if (!lock_.held()) lock_image();
  if (!image_->active()) image_->activate();
}

void VirtioBlk::take_storage() {
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  if (image_->active()) return;  // a block migration copied into it: it is ours already
  lock_image();
  image_->activate();
}

void VirtioBlk::flush_image() {
  image_->flush();
  unflushed_ = false;
}

void VirtioBlk::note_written(uint64_t offset, uint64_t len) {
  unflushed_ = true;
  if (!dirty_logging_.load(std::memory_order_acquire) || !len) return;
  for (uint64_t c = offset / kChunk; c <= (offset + len - 1) / kChunk; ++c)
    dirty_chunks_[c / 64].fetch_or(1ull << (c % 64), std::memory_order_release);
}

void VirtioBlk::set_dirty_logging(bool on) {
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  dirty_logging_.store(on, std::memory_order_release);
  for (auto& w : dirty_chunks_) w.store(0, std::memory_order_relaxed);
}

std::vector<uint64_t> VirtioBlk::take_dirty_chunks() {
  std::vector<uint64_t> out(dirty_chunks_.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = dirty_chunks_[i].exchange(0);
  return out;
}

std::vector<BlockExtent> VirtioBlk::migration_extents(bool with_backing) {
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  if (with_backing && image_->has_backing()) return {{0, image_->size()}};
  return image_->allocated_extents();
}

void VirtioBlk::migration_read(uint64_t offset, void* buf, size_t len) {
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  image_->read(offset, buf, len);
}

void VirtioBlk::migration_write(uint64_t offset, const void* buf, size_t len, bool zeroes) {
  std::lock_guard<std::mutex> image_lock(image_mutex_);
  if (!image_->active()) {
    lock_image();  // refused when another process (a source on shared storage) has it
    image_->activate();
  }
  if (zeroes) image_->write_zeroes(offset, len);
  else image_->write(offset, buf, len);
}

void VirtioBlk::visit_device_state(StateVisitor& v) {
  // The disk must be the one the source had: the same virtual size.
  uint64_t capacity = image_->size();
  v.field("capacity", capacity);
  if (v.loading() && capacity != image_->size())
    throw std::runtime_error("virtio-blk: the source's disk has " + std::to_string(capacity) +
                             " bytes, '" + image_->path() + "' here has " +
                             std::to_string(image_->size()));
}

void VirtioBlk::io_main() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return quit_ || (kicked_ && running_); });
    if (quit_) return;
    kicked_ = false;
    busy_ = true;
    lock.unlock();
    serve_queue();
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
}

void VirtioBlk::serve_queue() {
  std::mutex& device_lock = *bus_.device_lock();
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!running_ || quit_) return;
    }
    std::optional<VirtqueueChain> chain;
    uint64_t generation;
    {
      std::lock_guard<std::mutex> device(device_lock);
      if (!driver_ok()) return;
      try {
        chain = queue(0).pop(ram_, event_idx());
        if (!chain && queue(0).enable_notification(ram_, event_idx())) continue;
      } catch (const VirtqueueError&) {
        set_needs_reset();
        return;
      }
      if (!chain) return;
      generation = generation_;
    }
    const uint32_t written = execute(*chain);
    std::lock_guard<std::mutex> device(device_lock);
    if (generation != generation_) continue;  // the driver reset the device meanwhile
    queue(0).push(ram_, chain->head, written);
    if (queue(0).should_interrupt(ram_, event_idx())) interrupt_used();
  }
}

uint32_t VirtioBlk::execute(const VirtqueueChain& chain) {
  ChainView view(ram_, chain);
  if (view.out_len() < 1) return 0;  // no room even for the status byte
  const uint64_t status_at = view.out_len() - 1;
  uint8_t status = kStatusOk;
  uint64_t data_written = 0;
  uint8_t header[16] = {};
  if (view.in_len() < sizeof header) {
    status = kStatusIoErr;
  } else {
    view.read(0, header, sizeof header);
    const uint32_t type = static_cast<uint32_t>(le(header, 4));
    const uint64_t sector = le(header + 8, 8);
    const uint64_t offset = sector * kSector;
    // Inside the disk (the sector is checked first: sector * 512 may wrap).
    auto fits = [&](uint64_t len) {
      return sector <= image_->size() / kSector && len <= image_->size() - offset;
    };
    std::lock_guard<std::mutex> image_lock(image_mutex_);
    try {
      switch (type) {
        case kTypeIn: {
          const uint64_t len = status_at;
          if (len % kSector || len > kMaxRequestBytes || !fits(len)) {
            status = kStatusIoErr;
            break;
          }
          std::vector<uint8_t> buf(len);
          image_->read(offset, buf.data(), len);
          view.write(ram_, 0, buf.data(), len);
          data_written = len;
          break;
        }
        case kTypeOut: {
          const uint64_t len = view.in_len() - sizeof header;
          if (image_->read_only() || len % kSector || len > kMaxRequestBytes || !fits(len)) {
            status = kStatusIoErr;
            break;
          }
          std::vector<uint8_t> buf(len);
          view.read(sizeof header, buf.data(), len);
          image_->write(offset, buf.data(), len);
          note_written(offset, len);
          break;
        }
        case kTypeFlush: flush_image(); break;
        case kTypeGetId: {
          uint8_t id[kIdBytes] = {};
          std::memcpy(id, config_.serial.data(), std::min<size_t>(config_.serial.size(), kIdBytes));
          const uint64_t len = std::min<uint64_t>(status_at, kIdBytes);
          view.write(ram_, 0, id, len);
          data_written = len;
          break;
        }
        case kTypeDiscard:
        case kTypeWriteZeroes: {
          if (image_->read_only()) {
            status = kStatusIoErr;
            break;
          }
          // One segment: sector u64, num_sectors u32, flags u32.
          uint8_t seg[16];
          if (view.in_len() < sizeof header + sizeof seg) {
            status = kStatusIoErr;
            break;
          }
          view.read(sizeof header, seg, sizeof seg);
          const uint64_t start = le(seg, 8), count = le(seg + 8, 4);
          if (count > kMaxDiscardSectors || start > image_->size() / kSector ||
              count > image_->size() / kSector - start) {
            status = kStatusIoErr;
            break;
          }
          if (type == kTypeDiscard) image_->discard(start * kSector, count * kSector);
          else image_->write_zeroes(start * kSector, count * kSector);
          note_written(start * kSector, count * kSector);
          break;
        }
        default: status = kStatusUnsupported; break;
      }
    } catch (const BlockError&) {
      status = kStatusIoErr;
    }
  }
  view.write(ram_, status_at, &status, 1);
  return static_cast<uint32_t>(data_written + 1);
}

}  // namespace ferry
