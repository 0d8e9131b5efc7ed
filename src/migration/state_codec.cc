#include "migration/state_codec.h"

#include <cinttypes>
#include <cstdio>
#include <optional>

#include "migration/format.h"

namespace ferry {

namespace fmt = migration_format;

namespace {

// Saving: writes each field with its tag and name.
class SaveVisitor : public StateVisitor {
 public:
  SaveVisitor(StreamWriter& out, int version) : out_(out), version_(version) {}
  int version() const override { return version_; }
  bool loading() const override { return false; }

  void u64(std::string_view n, uint64_t& v) override { head(fmt::kFieldU64, n); out_.u64(v); }
  void u32(std::string_view n, uint32_t& v) override { head(fmt::kFieldU32, n); out_.u32(v); }
  void u8(std::string_view n, uint8_t& v) override { head(fmt::kFieldU8, n); out_.u8(v); }
  void boolean(std::string_view n, bool& v) override { head(fmt::kFieldBool, n); out_.u8(v ? 1 : 0); }
  void u64_array(std::string_view n, std::span<uint64_t> v) override {
    head(fmt::kFieldU64Array, n);
    out_.u32(static_cast<uint32_t>(v.size()));
    for (uint64_t x : v) out_.u64(x);
  }
  void u32_array(std::string_view n, std::span<uint32_t> v) override {
    head(fmt::kFieldU32Array, n);
    out_.u32(static_cast<uint32_t>(v.size()));
    for (uint32_t x : v) out_.u32(x);
  }
  void bytes(std::string_view n, std::vector<uint8_t>& v, size_t max_len) override {
    if (v.size() > max_len)
      out_.set_error("field '" + std::string(n) + "' holds more than its maximum of " +
                     std::to_string(max_len) + " bytes");
    head(fmt::kFieldBytes, n);
    out_.u32(static_cast<uint32_t>(v.size()));
    out_.bytes(v.data(), v.size());
  }

 protected:
  bool begin_array(std::string_view n, uint32_t& count, size_t max_count, bool) override {
    if (count > max_count)
      out_.set_error("array '" + std::string(n) + "' holds more than its maximum of " +
                     std::to_string(max_count) + " elements");
    head(fmt::kFieldStructArray, n);
    out_.u32(count);
    return true;
  }
  bool begin_subsection(std::string_view n, bool needed) override {
    if (needed) head(fmt::kFieldSubsection, n);
    return needed;
  }
  void end_element() override { out_.u8(fmt::kFieldEnd); }
  void end_subsection() override { out_.u8(fmt::kFieldEnd); }

 private:
  void head(uint8_t tag, std::string_view name) {
    out_.u8(tag);
    out_.str(std::string(name));
  }
  StreamWriter& out_;
  int version_;
};

// Loading: checks each field's tag and name against what the component
// visits, in order, and stores the value. The next item's head is read once
// and kept, so an optional subsection can be looked for without consuming
// what follows when it is absent.
class LoadVisitor : public StateVisitor {
 public:
  LoadVisitor(StreamReader& in, int version, std::string component)
      : in_(in), version_(version), component_(std::move(component)) {}
  int version() const override { return version_; }
  bool loading() const override { return true; }

  void u64(std::string_view n, uint64_t& v) override {
    if (head(fmt::kFieldU64, n)) v = in_.u64();
  }
  void u32(std::string_view n, uint32_t& v) override {
    if (head(fmt::kFieldU32, n)) v = in_.u32();
  }
  void u8(std::string_view n, uint8_t& v) override {
    if (head(fmt::kFieldU8, n)) v = in_.u8();
  }
  void boolean(std::string_view n, bool& v) override {
    if (head(fmt::kFieldBool, n)) v = in_.u8() != 0;
  }
  void u64_array(std::string_view n, std::span<uint64_t> v) override {
    if (!head(fmt::kFieldU64Array, n) || !count(n, v.size())) return;
    for (uint64_t& x : v) x = in_.u64();
  }
  void u32_array(std::string_view n, std::span<uint32_t> v) override {
    if (!head(fmt::kFieldU32Array, n) || !count(n, v.size())) return;
    for (uint32_t& x : v) x = in_.u32();
  }
  void bytes(std::string_view n, std::vector<uint8_t>& v, size_t max_len) override {
    if (!head(fmt::kFieldBytes, n)) return;
    const uint32_t len = in_.u32();
    if (len > max_len) {
      in_.fail(where() + "." + std::string(n) + ": length " + std::to_string(len) +
               " exceeds the maximum " + std::to_string(max_len));
      return;
    }
    // A device's state is in memory: a length past its end is refused before
    // a buffer of that size is made (the bound above may be far larger).
    if (len > in_.bytes_left()) {
      in_.fail(where() + "." + std::string(n) + ": length " + std::to_string(len) +
               " runs past the end of the state (" + std::to_string(in_.bytes_left()) +
               " bytes left; the stream is corrupt)");
      return;
    }
    v.resize(len);
    in_.bytes(v.data(), len);
  }

  // After the visit: the section must end here. Anything left is a field or
  // a subsection this build does not know.
  bool finish() {
    if (!peek()) return false;
    if (next_->tag == fmt::kFieldSubsection) {
      in_.fail("section '" + component_ + "': unknown subsection '" + next_->name +
               "' (the stream comes from a newer ferry; this one cannot load it)");
      return false;
    }
    if (next_->tag != fmt::kFieldEnd) {
      in_.fail("section '" + component_ + "': the stream has a field '" + next_->name +
               "' this version of ferry does not know");
      return false;
    }
    return true;
  }

 protected:
  bool begin_array(std::string_view n, uint32_t& c, size_t max_count, bool exact) override {
    if (!head(fmt::kFieldStructArray, n)) return false;
    const uint32_t got = in_.u32();
    if (!in_.ok()) return false;
    if (exact ? got != max_count : got > max_count) {
      in_.fail(where() + ": array '" + std::string(n) + "' has " + std::to_string(got) +
               " elements, expected " + (exact ? "" : "at most ") + std::to_string(max_count));
      return false;
    }
    c = got;
    return true;
  }
  bool begin_subsection(std::string_view n, bool) override {
    if (!peek() || next_->tag != fmt::kFieldSubsection || next_->name != n) return false;
    next_.reset();
    path_.push_back(std::string(n));
    return true;
  }
  void end_element() override {
    if (!peek()) return;
    if (next_->tag == fmt::kFieldSubsection) {
      in_.fail(where() + ": unknown subsection '" + next_->name +
               "' in an array element (the stream comes from a newer ferry)");
      return;
    }
    if (next_->tag != fmt::kFieldEnd) {
      in_.fail(where() + ": unexpected field '" + next_->name + "' where an array element ends");
      return;
    }
    next_.reset();
  }
  void end_subsection() override {
    end_element();
    if (!path_.empty()) path_.pop_back();
  }

 private:
  struct Head {
    uint8_t tag;
    std::string name;
  };
  std::string where() const {
    std::string w = "section '" + component_ + "'";
    for (const auto& p : path_) w += " / '" + p + "'";
    return w;
  }
  bool peek() {
    if (!in_.ok()) return false;
    if (!next_) {
      Head h;
      h.tag = in_.u8();
      if (h.tag != fmt::kFieldEnd) h.name = in_.str();
      if (!in_.ok()) return false;
      next_ = std::move(h);
    }
    return true;
  }
  bool head(uint8_t tag, std::string_view name) {
    if (!peek()) return false;
    if (next_->name != name || next_->tag != tag) {
      in_.fail(where() + ": expected field '" + std::string(name) + "' (type " +
               std::to_string(tag) + ") but the stream has " +
               (next_->tag == fmt::kFieldEnd ? std::string("the end of the state")
                                             : "'" + next_->name + "' (type " +
                                                   std::to_string(next_->tag) + ")"));
      return false;
    }
    next_.reset();
    return true;
  }
  bool count(std::string_view name, size_t expected) {
    const uint32_t n = in_.u32();
    if (n != expected) {
      in_.fail(where() + ": field '" + std::string(name) + "' has " + std::to_string(n) +
               " elements, expected " + std::to_string(expected));
      return false;
    }
    return true;
  }
  StreamReader& in_;
  int version_;
  std::string component_;
  std::optional<Head> next_;
  std::vector<std::string> path_;  // subsections being loaded, for messages
};

bool print_fields(StreamReader& in, std::ostream& out, int depth);

bool print_value(StreamReader& in, std::ostream& out, uint8_t tag, const std::string& name,
                 int depth) {
  char buf[64];
  switch (tag) {
    case fmt::kFieldU8:
    case fmt::kFieldBool:
      std::snprintf(buf, sizeof buf, "0x%02x", in.u8());
      out << buf;
      return true;
    case fmt::kFieldU32:
      std::snprintf(buf, sizeof buf, "0x%08" PRIx32, in.u32());
      out << buf;
      return true;
    case fmt::kFieldU64:
      std::snprintf(buf, sizeof buf, "0x%016" PRIx64, in.u64());
      out << buf;
      return true;
    case fmt::kFieldU64Array:
    case fmt::kFieldU32Array: {
      const uint32_t n = in.u32();
      if (n > fmt::kMaxArrayLength) {
        in.fail("field '" + name + "': array length " + std::to_string(n) + " is too large");
        return false;
      }
      out << "[";
      for (uint32_t i = 0; i < n && in.ok(); ++i) {
        if (tag == fmt::kFieldU64Array)
          std::snprintf(buf, sizeof buf, "%s0x%" PRIx64, i ? " " : "", in.u64());
        else
          std::snprintf(buf, sizeof buf, "%s0x%" PRIx32, i ? " " : "", in.u32());
        out << buf;
      }
      out << "]";
      return true;
    }
    case fmt::kFieldBytes: {
      const uint32_t n = in.u32();
      if (n > fmt::kMaxBytesLength) {
        in.fail("field '" + name + "': byte string length " + std::to_string(n) + " is too large");
        return false;
      }
      out << n << " bytes:";
      for (uint32_t i = 0; i < n && in.ok(); ++i) {
        std::snprintf(buf, sizeof buf, " %02x", in.u8());
        out << buf;
      }
      return true;
    }
    case fmt::kFieldStructArray: {
      const uint32_t n = in.u32();
      if (n > fmt::kMaxArrayLength) {
        in.fail("array '" + name + "': " + std::to_string(n) + " elements is too many");
        return false;
      }
      out << n << " elements";
      for (uint32_t i = 0; i < n && in.ok(); ++i) {
        out << "\n" << std::string(4 + 2 * depth, ' ') << "  [" << i << "]";
        if (!print_fields(in, out, depth + 2)) return false;
      }
      return true;
    }
    case fmt::kFieldSubsection:
      out << "(subsection)";
      return print_fields(in, out, depth + 1);
    default:
      in.fail("unknown field type " + std::to_string(tag) + " for field '" + name + "'");
      return false;
  }
}

// Prints "name = value" lines up to the kFieldEnd that closes this level.
bool print_fields(StreamReader& in, std::ostream& out, int depth) {
  if (depth > 8) {
    in.fail("state nested too deeply");
    return false;
  }
  for (;;) {
    const uint8_t tag = in.u8();
    if (!in.ok()) return false;
    if (tag == fmt::kFieldEnd) return true;
    const std::string name = in.str();
    out << "\n" << std::string(4 + 2 * depth, ' ') << name << " = ";
    if (!print_value(in, out, tag, name, depth) || !in.ok()) return false;
  }
}

}  // namespace

void save_state_fields(StateOwner& owner, int version, StreamWriter& out) {
  SaveVisitor v(out, version);
  owner.visit_state(v);
  out.u8(fmt::kFieldEnd);
}

bool load_state_fields(StateOwner& owner, int version, StreamReader& in) {
  LoadVisitor v(in, version, std::string(owner.state_name()));
  owner.visit_state(v);
  if (!v.finish()) return false;
  owner.post_load();
  return true;
}

bool print_state_fields(StreamReader& in, std::ostream& out) {
  const bool ok = print_fields(in, out, 0);
  out << "\n";
  return ok;
}

}  // namespace ferry
