#include "migration/section_walker.h"

#include <cstdio>
#include <cstring>

#include "migration/format.h"

namespace ferry {

namespace fmt = migration_format;

bool SectionHead::live() const {
  return type == fmt::kSectionStart || type == fmt::kSectionPart || type == fmt::kSectionEnd;
}

const char* SectionHead::kind() const {
  switch (type) {
    case fmt::kSectionStart: return "start";
    case fmt::kSectionPart: return "part";
    case fmt::kSectionEnd: return "end";
    case fmt::kSectionFull: return "full";
  }
  return "?";
}

bool SectionWalker::read_start(StreamConfig* config) {
  char magic[sizeof fmt::kMagic];
  in_.bytes(reinterpret_cast<uint8_t*>(magic), sizeof magic);
  if (!in_.ok()) return false;
  if (std::memcmp(magic, fmt::kMagic, sizeof magic) != 0) {
    in_.fail("not a ferry migration stream: bad magic (expected \"FERRYMIG\")");
    return false;
  }
  const uint32_t version = in_.u32();
  if (!in_.ok()) return false;
  if (version != fmt::kVersion) {
    in_.fail("unsupported migration stream version " + std::to_string(version) +
             " (this ferry reads version " + std::to_string(fmt::kVersion) + ")");
    return false;
  }
  if (in_.u8() != fmt::kSectionConfig) {
    if (in_.ok()) in_.fail("the stream does not start with a configuration section");
    return false;
  }
  read_stream_config(in_, config);
  const uint8_t footer = in_.u8();
  const uint32_t footer_id = in_.u32();
  if (in_.ok() && (footer != fmt::kFooter || footer_id != 0))
    in_.fail("the configuration section is corrupt (bad footer)");
  return in_.ok();
}

SectionWalker::Next SectionWalker::next(SectionHead* head) {
  const uint64_t offset = in_.bytes_read();
  const uint8_t type = in_.u8();
  if (!in_.ok()) return Next::kError;
  if (type == fmt::kSectionEof) return Next::kEnd;
  if (type < fmt::kSectionStart || type > fmt::kSectionFull) {
    char msg[96];
    std::snprintf(msg, sizeof msg, "unknown section type 0x%02x (the stream is corrupt)", type);
    in_.fail(msg);
    return Next::kError;
  }
  SectionHead h;
  h.type = type;
  h.offset = offset;
  h.id = in_.u32();
  if (type == fmt::kSectionStart || type == fmt::kSectionFull) {
    h.name = in_.str();
    h.instance = in_.u32();
    h.version = in_.u32();
    if (!in_.ok()) return Next::kError;
    if (type == fmt::kSectionStart) {
      if (started_.count(h.id)) {
        in_.fail("section id " + std::to_string(h.id) + " ('" + h.name +
                 "') starts twice (the stream is corrupt)");
        return Next::kError;
      }
      started_[h.id] = h;
    } else {
      const uint32_t length = in_.u32();
      if (!in_.ok()) return Next::kError;
      if (length > fmt::kMaxDeviceState) {
        in_.fail("section '" + h.name + "': state of " + std::to_string(length) +
                 " bytes is larger than any device's (the stream is corrupt)");
        return Next::kError;
      }
      h.payload.resize(length);
      in_.bytes(h.payload.data(), length);
    }
  } else {
    auto it = started_.find(h.id);
    if (!in_.ok()) return Next::kError;
    if (it == started_.end()) {
      in_.fail("section id " + std::to_string(h.id) + " continues a section that never started");
      return Next::kError;
    }
    h.name = it->second.name;
    h.instance = it->second.instance;
    h.version = it->second.version;
  }
  if (!in_.ok()) return Next::kError;
  *head = std::move(h);
  return Next::kSection;
}

bool SectionWalker::finish(const SectionHead& head) {
  if (!in_.ok()) return false;
  const uint8_t footer = in_.u8();
  const uint32_t footer_id = in_.u32();
  if (in_.ok() && (footer != fmt::kFooter || footer_id != head.id))
    in_.fail("section '" + head.name + "' is not followed by its footer (the stream is corrupt)");
  if (head.type == fmt::kSectionEnd) started_.erase(head.id);
  return in_.ok();
}

}  // namespace ferry
