// SectionWalker: reads the framing of a migration stream — header,
// configuration, sections and their footers, the end marker — for every
// reader of streams: the destination's loader and `ferry-stream`. What a
// section's payload means is the caller's business, except for device
// state, whose length-prefixed payload the walker takes off the wire.
//
//   SectionWalker w(in);
//   StreamConfig config;
//   if (!w.read_start(&config)) ... in.error()
//   SectionHead head;
//   while (w.next(&head) == SectionWalker::Next::kSection) {
//     ... live sections: read the payload from `in`; FULL: head.payload ...
//     if (!w.finish(head)) break;
//   }
//   in.ok() false: in.error() names the problem (and in.bytes_read() where).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "migration/stream.h"
#include "migration/stream_config.h"

namespace ferry {

struct SectionHead {
  uint8_t type = 0;  // migration_format::kSection{Start,Part,End,Full}
  uint32_t id = 0;
  std::string name;
  uint32_t instance = 0;
  uint32_t version = 0;
  uint64_t offset = 0;           // of the section's first byte in the stream
  std::vector<uint8_t> payload;  // FULL sections only
  bool live() const;             // START, PART or END
  const char* kind() const;      // "start", "part", "end", "full"
};

class SectionWalker {
 public:
  explicit SectionWalker(StreamReader& in) : in_(in) {}

  // Magic, version and the configuration section (framing only; see
  // check_stream_config for whether this VM can take it).
  bool read_start(StreamConfig* config);

  enum class Next { kSection, kEnd, kError };
  // The next section's header (PART and END get the name, instance and
  // version of their START); kEnd at the end marker.
  Next next(SectionHead* head);
  // Reads and checks the footer that closes `head`.
  bool finish(const SectionHead& head);

 private:
  StreamReader& in_;
  std::map<uint32_t, SectionHead> started_;  // live sections by id
};

}  // namespace ferry
