// Test helpers for device state round trips: a RecordingVisitor that saves a
// StateOwner's fields into a list of entries, and a ReplayingVisitor that
// loads such a list back (checking names, kinds and lengths), plus
// `round_trip(from, to)` which does both and runs post_load.
//
// Usage:
//   Uart16550 a(...), b(...);
//   ... drive a ...
//   ASSERT_EQ(round_trip(a, b), "");         // "" = success, else the error
//   EXPECT_EQ(save_state(a), save_state(b));  // same fields, same values
//
// Single-threaded; header-only so any test can include it.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "state/state_visitor.h"

namespace ferry::test_util {

struct StateEntry {
  enum class Kind { kU64, kU32, kU8, kBool, kU64Array, kU32Array, kBytes };
  std::string name;
  Kind kind;
  std::vector<uint64_t> values;  // scalars: one value; arrays: each element
  std::vector<uint8_t> bytes;    // kBytes

  bool operator==(const StateEntry&) const = default;
};

class RecordingVisitor : public StateVisitor {
 public:
  explicit RecordingVisitor(int version) : version_(version) {}

  int version() const override { return version_; }
  bool loading() const override { return false; }

  void u64(std::string_view n, uint64_t& v) override { scalar(n, Kind::kU64, v); }
  void u32(std::string_view n, uint32_t& v) override { scalar(n, Kind::kU32, v); }
  void u8(std::string_view n, uint8_t& v) override { scalar(n, Kind::kU8, v); }
  void boolean(std::string_view n, bool& v) override {
    scalar(n, Kind::kBool, v ? 1 : 0);
  }
  void u64_array(std::string_view n, std::span<uint64_t> v) override {
    entries_.push_back({std::string(n), Kind::kU64Array, {v.begin(), v.end()}, {}});
  }
  void u32_array(std::string_view n, std::span<uint32_t> v) override {
    entries_.push_back({std::string(n), Kind::kU32Array, {v.begin(), v.end()}, {}});
  }
  void bytes(std::string_view n, std::vector<uint8_t>& v, size_t max_len) override {
    if (v.size() > max_len) error_ = std::string(n) + ": longer than its maximum";
    entries_.push_back({std::string(n), Kind::kBytes, {}, v});
  }

  const std::vector<StateEntry>& entries() const { return entries_; }
  const std::string& error() const { return error_; }

 protected:
  // An array's count and a subsection's presence are recorded as entries.
  bool begin_array(std::string_view n, uint32_t& count, size_t, bool) override {
    scalar(n, Kind::kU32, count);
    return true;
  }
  bool begin_subsection(std::string_view n, bool needed) override {
    scalar(n, Kind::kBool, needed ? 1 : 0);
    return needed;
  }
  void end_element() override {}
  void end_subsection() override {}

 private:
  using Kind = StateEntry::Kind;
  void scalar(std::string_view n, Kind k, uint64_t v) {
    entries_.push_back({std::string(n), k, {v}, {}});
  }

  int version_;
  std::vector<StateEntry> entries_;
  std::string error_;
};

class ReplayingVisitor : public StateVisitor {
 public:
  ReplayingVisitor(const std::vector<StateEntry>& entries, int version)
      : entries_(entries), version_(version) {}

  int version() const override { return version_; }
  bool loading() const override { return true; }

  void u64(std::string_view n, uint64_t& v) override {
    if (auto* e = next(n, Kind::kU64)) v = e->values[0];
  }
  void u32(std::string_view n, uint32_t& v) override {
    if (auto* e = next(n, Kind::kU32)) v = static_cast<uint32_t>(e->values[0]);
  }
  void u8(std::string_view n, uint8_t& v) override {
    if (auto* e = next(n, Kind::kU8)) v = static_cast<uint8_t>(e->values[0]);
  }
  void boolean(std::string_view n, bool& v) override {
    if (auto* e = next(n, Kind::kBool)) v = e->values[0] != 0;
  }
  void u64_array(std::string_view n, std::span<uint64_t> v) override {
    if (auto* e = next_array(n, Kind::kU64Array, v.size()))
      for (size_t i = 0; i < v.size(); ++i) v[i] = e->values[i];
  }
  void u32_array(std::string_view n, std::span<uint32_t> v) override {
    if (auto* e = next_array(n, Kind::kU32Array, v.size()))
      for (size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<uint32_t>(e->values[i]);
  }
  void bytes(std::string_view n, std::vector<uint8_t>& v, size_t max_len) override {
    const StateEntry* e = next(n, Kind::kBytes);
    if (!e) return;
    if (e->bytes.size() > max_len) {
      fail(std::string(n) + ": " + std::to_string(e->bytes.size()) +
           " bytes, more than " + std::to_string(max_len));
      return;
    }
    v = e->bytes;
  }

  bool ok() const { return error_.empty(); }
  bool all_consumed() const { return pos_ == entries_.size(); }
  const std::string& error() const { return error_; }

 protected:
  bool begin_array(std::string_view n, uint32_t& count, size_t max_count, bool exact) override {
    const StateEntry* e = next(n, Kind::kU32);
    if (!e) return false;
    if (exact ? e->values[0] != max_count : e->values[0] > max_count) {
      fail(std::string(n) + ": " + std::to_string(e->values[0]) + " elements, expected " +
           (exact ? "" : "at most ") + std::to_string(max_count));
      return false;
    }
    count = static_cast<uint32_t>(e->values[0]);
    return true;
  }
  bool begin_subsection(std::string_view n, bool) override {
    const StateEntry* e = next(n, Kind::kBool);
    return e && e->values[0] != 0;
  }
  void end_element() override {}
  void end_subsection() override {}

 private:
  using Kind = StateEntry::Kind;

  const StateEntry* next(std::string_view n, Kind k) {
    if (!error_.empty()) return nullptr;
    if (pos_ >= entries_.size()) {
      fail(std::string(n) + ": past the end of the saved state");
      return nullptr;
    }
    const StateEntry& e = entries_[pos_++];
    if (e.name != n || e.kind != k) {
      fail("expected field " + std::string(n) + ", saved state has " + e.name);
      return nullptr;
    }
    return &e;
  }
  const StateEntry* next_array(std::string_view n, Kind k, size_t len) {
    const StateEntry* e = next(n, k);
    if (e && e->values.size() != len) {
      fail(std::string(n) + ": saved " + std::to_string(e->values.size()) +
           " elements, expected " + std::to_string(len));
      return nullptr;
    }
    return e;
  }
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  const std::vector<StateEntry>& entries_;
  int version_;
  size_t pos_ = 0;
  std::string error_;
};

// The fields of `owner` as its visit_state saves them.
inline std::vector<StateEntry> save_state(StateOwner& owner) {
  RecordingVisitor rec(owner.state_version());
  owner.visit_state(rec);
  return rec.entries();
}

// Loads `entries` into `owner` (then post_load). Returns "" or the error.
inline std::string load_state(StateOwner& owner,
                              const std::vector<StateEntry>& entries,
                              int version) {
  ReplayingVisitor rep(entries, version);
  try {
    owner.visit_state(rep);  // a device refuses a state it can't take by throwing
  } catch (const std::exception& e) {
    return e.what();
  }
  if (!rep.ok()) return rep.error();
  if (!rep.all_consumed()) return "saved state has fields nobody loaded";
  owner.post_load();
  return "";
}

// Saves `from` and loads the result into `to`. Returns "" or the error.
inline std::string round_trip(StateOwner& from, StateOwner& to) {
  RecordingVisitor rec(from.state_version());
  from.visit_state(rec);
  if (!rec.error().empty()) return rec.error();
  return load_state(to, rec.entries(), from.state_version());
}

}  // namespace ferry::test_util
