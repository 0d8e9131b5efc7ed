#include "migration/state_codec.h"

#include <cinttypes>
#include <cstdio>

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
  void bytes(std::string_view n, std::vector<uint8_t>& v, size_t) override {
    head(fmt::kFieldBytes, n);
    out_.u32(static_cast<uint32_t>(v.size()));
    out_.bytes(v.data(), v.size());
  }

 private:
  void head(uint8_t tag, std::string_view name) {
    out_.u8(tag);
    out_.str(std::string(name));
  }
  StreamWriter& out_;
  int version_;
};

// Loading: checks each field's tag and name against what the component
// visits, in order, and stores the value.
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
      in_.fail(component_ + "." + std::string(n) + ": length " + std::to_string(len) +
               " exceeds the maximum " + std::to_string(max_len));
      return;
    }
    v.resize(len);
    in_.bytes(v.data(), len);
  }

 private:
  bool head(uint8_t tag, std::string_view name) {
    if (!in_.ok()) return false;
    const uint8_t got_tag = in_.u8();
    const std::string got_name = in_.str();
    if (!in_.ok()) return false;
    if (got_name != name || got_tag != tag) {
      in_.fail("section '" + component_ + "': expected field '" + std::string(name) +
               "' (type " + std::to_string(tag) + ") but the stream has '" + got_name +
               "' (type " + std::to_string(got_tag) + ")");
      return false;
    }
    return true;
  }
  bool count(std::string_view name, size_t expected) {
    const uint32_t n = in_.u32();
    if (n != expected) {
      in_.fail("section '" + component_ + "': field '" + std::string(name) + "' has " +
               std::to_string(n) + " elements, expected " + std::to_string(expected));
      return false;
    }
    return true;
  }
  StreamReader& in_;
  int version_;
  std::string component_;
};

}  // namespace

void save_state_fields(StateOwner& owner, int version, StreamWriter& out) {
  SaveVisitor v(out, version);
  owner.visit_state(v);
  out.u8(fmt::kFieldEnd);
}

bool load_state_fields(StateOwner& owner, int version, StreamReader& in) {
  LoadVisitor v(in, version, std::string(owner.state_name()));
  owner.visit_state(v);
  if (!in.ok()) return false;
  const uint8_t end = in.u8();
  if (end != fmt::kFieldEnd) {
    in.fail("section '" + std::string(owner.state_name()) +
            "': the stream has more fields than this version of ferry knows");
    return false;
  }
  if (!in.ok()) return false;
  owner.post_load();
  return true;
}

bool print_state_fields(StreamReader& in, std::ostream& out) {
  char buf[64];
  for (;;) {
    const uint8_t tag = in.u8();
    if (!in.ok()) return false;
    if (tag == fmt::kFieldEnd) return true;
    const std::string name = in.str();
    out << "    " << name << " = ";
    switch (tag) {
      case fmt::kFieldU8:
      case fmt::kFieldBool:
        std::snprintf(buf, sizeof buf, "0x%02x", in.u8());
        out << buf;
        break;
      case fmt::kFieldU32:
        std::snprintf(buf, sizeof buf, "0x%08" PRIx32, in.u32());
        out << buf;
        break;
      case fmt::kFieldU64:
        std::snprintf(buf, sizeof buf, "0x%016" PRIx64, in.u64());
        out << buf;
        break;
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
        break;
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
        break;
      }
      default:
        in.fail("unknown field type " + std::to_string(tag) + " for field '" + name + "'");
        return false;
    }
    out << "\n";
    if (!in.ok()) return false;
  }
}

}  // namespace ferry
