// StateVisitor: the one description of a component's state.
//
// Each device, the hart and the timers write a single `visit_state(StateVisitor&)`
// that names every field it owns. The same function saves (the visitor reads the
// fields), loads (the visitor writes them) and prints them (ferry-stream). A field
// added in a later version of a section is tagged with `since`; when a stream of an
// older version is loaded, the field keeps its reset value.
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

// A component whose state travels with the VM. Registered with the migration
// core under `state_name()` and `state_version()`; the core knows nothing else.
class StateOwner {
 public:
  virtual ~StateOwner() = default;
  virtual std::string_view state_name() const = 0;
  virtual int state_version() const = 0;
  // Oldest version this build can still load.
  virtual int state_min_version() const { return 1; }
  virtual void visit_state(StateVisitor& v) = 0;
  // Called after a load, to rebuild anything derived from the fields.
  virtual void post_load() {}
};

}  // namespace ferry
