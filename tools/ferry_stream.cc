// ferry-stream: prints what a saved migration stream holds, for debugging.
//
//   ferry-stream FILE        (FILE = - reads standard input)
//
// Shows the header, the configuration, every section (type, id, name,
// instance, version), RAM statistics per section, every device's fields and
// values, and — for a damaged stream — what is wrong and at which byte.
// Exit code 0 for a complete, well-formed stream, 1 otherwise.
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "migration/channel.h"
#include "migration/format.h"
#include "migration/state_codec.h"
#include "migration/stream.h"

namespace ferry {
namespace {

namespace fmt = migration_format;

struct SectionInfo {
  std::string name;
  uint32_t instance = 0;
  uint32_t version = 0;
  uint64_t zero_pages = 0, data_pages = 0;
};

bool dump_ram_records(StreamReader& in, SectionInfo& s, bool first) {
  if (first) {
    const uint64_t base = in.u64(), size = in.u64();
    std::printf("    RAM at 0x%" PRIx64 ", %" PRIu64 " MiB\n", base, size >> 20);
  }
  for (;;) {
    const uint64_t record = in.u64();
    if (!in.ok()) return false;
    const uint64_t flags = record & fmt::kRamFlagMask;
    if (flags == fmt::kRamEos) return true;
    if (flags == fmt::kRamZero) {
      ++s.zero_pages;
    } else if (flags == fmt::kRamPage) {
      uint8_t page[4096];
      in.bytes(page, sizeof page);
      ++s.data_pages;
    } else {
      char msg[96];
      std::snprintf(msg, sizeof msg, "RAM record with unknown flags 0x%" PRIx64, flags);
      in.fail(msg);
      return false;
    }
  }
}

int analyze(Channel& channel) {
  StreamReader in(channel);
  char magic[8];
  in.bytes(reinterpret_cast<uint8_t*>(magic), sizeof magic);
  const uint32_t version = in.u32();
  if (!in.ok()) {
    std::printf("error: %s\n", in.error().c_str());
    return 1;
  }
  if (std::memcmp(magic, fmt::kMagic, sizeof magic) != 0) {
    std::printf("error: not a ferry migration stream (bad magic)\n");
    return 1;
  }
  std::printf("ferry migration stream, version %u%s\n", version,
              version == fmt::kVersion ? "" : " (not the version this tool reads)");
  if (in.u8() != fmt::kSectionConfig) {
    std::printf("error at byte %" PRIu64 ": no configuration section\n", in.bytes_read());
    return 1;
  }
  const std::string machine = in.str(), cpu = in.str();
  const uint32_t page_size = in.u32();
  const uint64_t ram_base = in.u64(), ram_size = in.u64();
  in.u8();
  in.u32();
  std::printf("configuration: machine %s, cpu %s, page size %u, RAM %" PRIu64
              " MiB at 0x%" PRIx64 "\n",
              machine.c_str(), cpu.c_str(), page_size, ram_size >> 20, ram_base);
  std::map<uint32_t, SectionInfo> sections;
  std::map<uint32_t, bool> started;
  bool eof = false;
  while (in.ok()) {
    const uint64_t offset = in.bytes_read();
    const uint8_t type = in.u8();
    if (!in.ok()) break;
    if (type == fmt::kSectionEof) {
      eof = true;
      break;
    }
    const uint32_t id = in.u32();
    const char* kind = type == fmt::kSectionStart  ? "start"
                       : type == fmt::kSectionPart ? "part"
                       : type == fmt::kSectionEnd  ? "end"
                       : type == fmt::kSectionFull ? "full"
                                                   : nullptr;
    if (!kind) {
      in.fail("unknown section type " + std::to_string(type) + " at byte " + std::to_string(offset));
      break;
    }
    if (type == fmt::kSectionStart || type == fmt::kSectionFull) {
      SectionInfo& s = sections[id];
      s.name = in.str();
      s.instance = in.u32();
      s.version = in.u32();
      if (type == fmt::kSectionFull) {
        std::printf("[%s] section %u '%s' instance %u version %u (byte %" PRIu64 ")\n", kind, id,
                    s.name.c_str(), s.instance, s.version, offset);
        print_state_fields(in, std::cout);
        std::cout.flush();
      } else {
        std::printf("[%s] section %u '%s' instance %u version %u (byte %" PRIu64 ")\n", kind, id,
                    s.name.c_str(), s.instance, s.version, offset);
        started[id] = true;
        dump_ram_records(in, s, true);
      }
    } else {
      if (!started.count(id)) {
        in.fail("section " + std::to_string(id) + " continues but never started (byte " +
                std::to_string(offset) + ")");
        break;
      }
      dump_ram_records(in, sections[id], false);
    }
    const uint8_t footer = in.u8();
    const uint32_t footer_id = in.u32();
    if (in.ok() && (footer != fmt::kFooter || footer_id != id))
      in.fail("section " + std::to_string(id) + " has a bad footer at byte " +
              std::to_string(in.bytes_read() - 5));
  }
  for (const auto& [id, s] : sections)
    if (s.zero_pages || s.data_pages)
      std::printf("section %u '%s': %" PRIu64 " pages with data, %" PRIu64 " zero pages\n", id,
                  s.name.c_str(), s.data_pages, s.zero_pages);
  if (!in.ok()) {
    std::printf("error at byte %" PRIu64 ": %s\n", in.bytes_read(), in.error().c_str());
    return 1;
  }
  if (!eof) {
    std::printf("error: no end-of-stream marker\n");
    return 1;
  }
  std::printf("end of stream after %" PRIu64 " bytes\n", in.bytes_read());
  return 0;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fprintf(argc == 2 ? stdout : stderr,
                 "usage: ferry-stream FILE   (a saved migration stream; - for stdin)\n");
    return argc == 2 ? 0 : 1;
  }
  const bool stdin_input = std::strcmp(argv[1], "-") == 0;
  const int fd = stdin_input ? dup(0) : open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::fprintf(stderr, "ferry-stream: cannot open '%s': %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  ferry::FdChannel channel(fd, false, argv[1]);
  return ferry::analyze(channel);
}
