// StateVisitor: the one description of a component's state.
//
// Each device, the hart and the timers write a single `visit_state(StateVisitor&)`
// that names every field it owns. The same function saves (the visitor reads the
// fields), loads (the visitor writes them) and prints them (ferry-stream). A field
// added in a later version of a section is tagged with `since`; when a stream of an
// older version is loaded, the field keeps its reset value.
//
// Beyond plain fields:
//   - struct_array(): a table of structures (a virtqueue's rings, a list of
//     entries) whose count travels and is bounded before anything is allocated;
//   - subsection(): an optional part, sent only when `needed` (QEMU's rule), so
//     a field added later does not break loading an older stream: a stream
//     without the subsection loads (the fields keep their values), a stream
//     with a subsection this build does not know is refused by name.
//
// Visitors latch errors (a bad length, a truncated stream) and keep going; callers
// check `ok()` once at the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

class StateVisitor {
 public:
  virtual ~StateVisitor() = default;

  // The version of the section being visited (saved or loaded).
  virtual int version() const = 0;
  // True when the visitor writes into the fields (loading).
  virtual bool loading() const = 0;

  virtual void u64(std::string_view name, uint64_t& value) = 0;
  virtual void u32(std::string_view name, uint32_t& value) = 0;
  virtual void u8(std::string_view name, uint8_t& value) = 0;
  virtual void boolean(std::string_view name, bool& value) = 0;
  // A fixed-size array; its length is part of the section's layout.
  virtual void u64_array(std::string_view name, std::span<uint64_t> values) = 0;
  virtual void u32_array(std::string_view name, std::span<uint32_t> values) = 0;
  // A variable-length byte string of at most `max_len` bytes (e.g. a FIFO).
  virtual void bytes(std::string_view name, std::vector<uint8_t>& value,
                     size_t max_len) = 0;

  // Field helpers that take the version a field was added in.
  template <typename T>
  void field(std::string_view name, T& value, int since = 0) {
    if (version() < since) return;
    visit_one(name, value);
  }

  // A variable number (at most `max_count`) of structures, each described by
  // `each(visitor, element)`. Loading resizes `items` to the count read.
  template <typename T, typename Fn>
  void struct_array(std::string_view name, std::vector<T>& items, size_t max_count, Fn each) {
    uint32_t count = static_cast<uint32_t>(items.size());
    if (!begin_array(name, count, max_count, false)) return;
    if (loading()) items.resize(count);
    for (T& item : items) {
      each(*this, item);
      end_element();
    }
  }
  // A fixed number of structures (e.g. one per interrupt source).
  template <typename T, typename Fn>
  void struct_array(std::string_view name, std::span<T> items, Fn each) {
    uint32_t count = static_cast<uint32_t>(items.size());
    if (!begin_array(name, count, items.size(), true)) return;
    for (T& item : items) {
      each(*this, item);
      end_element();
    }
  }

  // An optional part of the state: saved only when `needed`; when loading,
  // `fn` runs only if the stream holds the subsection.
  template <typename Fn>
  void subsection(std::string_view name, bool needed, Fn fn) {
    if (!begin_subsection(name, needed)) return;
    fn(*this);
    end_subsection();
  }

 protected:
  // Saving writes `count`; loading reads it and checks it against
  // `max_count` (or equality when `exact`). False: skip the elements.
  virtual bool begin_array(std::string_view name, uint32_t& count, size_t max_count,
                           bool exact) = 0;
  // Saving: opens the subsection when `needed`. Loading: true when the
  // stream's next item is this subsection.
  virtual bool begin_subsection(std::string_view name, bool needed) = 0;
  // Closes one array element / the subsection.
  virtual void end_element() = 0;
  virtual void end_subsection() = 0;

 private:
  void visit_one(std::string_view n, uint64_t& v) { u64(n, v); }
  void visit_one(std::string_view n, uint32_t& v) { u32(n, v); }
  void visit_one(std::string_view n, uint8_t& v) { u8(n, v); }
  void visit_one(std::string_view n, bool& v) { boolean(n, v); }
  void visit_one(std::string_view n, int64_t& v) {
    uint64_t u = static_cast<uint64_t>(v);
    u64(n, u);
    v = static_cast<int64_t>(u);
  }
};

// A component whose state travels with the VM. The board registers it with
// the VM's StateRegistry under `state_name()` and `state_version()`; the
// migration core knows nothing else of it.
//
// Hooks (all on the vCPU thread, or while the VM is stopped):
//   vm_state_changed  the VM stopped or started running: a device with I/O in
//                     flight drains it on stop, before its state is saved;
//   pre_save          just before the state is snapshotted;
//   post_load         after a load, to rebuild anything derived from the fields.
//
// Storage that both sides of a migration may open (a disk image) changes
// owner at the hand-over; these run with the world stopped and may throw
// std::runtime_error with a message:
//   release_storage   source, before its stream ends: flush, drop the image locks;
//   reclaim_storage   source, when the migration failed: take them back;
//   take_storage      destination, the stream loaded, before it confirms:
//                     take the locks and drop anything cached from the image.
class StateOwner {
 public:
  virtual ~StateOwner() = default;
  virtual std::string_view state_name() const = 0;
  virtual int state_version() const = 0;
  // Oldest version this build can still load.
  virtual int state_min_version() const { return 1; }
  // When loading, may throw std::runtime_error to refuse a state this
  // device cannot take (the loader reports it with the section's name).
  virtual void visit_state(StateVisitor& v) = 0;
  virtual void vm_state_changed(bool /*running*/) {}
  virtual void pre_save() {}
  virtual void post_load() {}
  virtual void release_storage() {}
  virtual void reclaim_storage() {}
  virtual void take_storage() {}
};

}  // namespace ferry
