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
#include "migration/section_walker.h"
#include "migration/state_codec.h"
#include "migration/stream.h"

namespace ferry {
namespace {

namespace fmt = migration_format;

struct SectionInfo {
  std::string name;
  uint32_t instance = 0;
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
  SectionWalker walker(in);
  StreamConfig c;
  if (!walker.read_start(&c)) {
    std::printf("error at byte %" PRIu64 ": %s\n", in.bytes_read(), in.error().c_str());
    return 1;
  }
  std::printf("ferry migration stream, version %u\n", fmt::kVersion);
  std::printf("configuration: machine %s, cpu %s, %u harts, page size %u, RAM %" PRIu64
              " MiB at 0x%" PRIx64 "\n",
              c.machine.c_str(), c.cpu.c_str(), c.harts, c.page_size, c.ram_size >> 20,
              c.ram_base);
  std::printf("  unsent pages: %s; hand-over: %s",
              c.ram_assumption == fmt::kRamUnsentZero ? "zero" : "unknown assumption",
              c.handover == fmt::kHandoverConfirm ? "READY/GO on the return path"
              : c.handover == fmt::kHandoverNone  ? "none (the destination runs at the end)"
                                                  : "unknown");
  if (c.handover == fmt::kHandoverConfirm)
    std::printf(", GO within %u ms", c.handover_timeout_ms);
  std::printf("\n");
  std::map<std::string, SectionInfo> live;  // by "name/instance"
  bool eof = false;
  SectionHead head;
  for (;;) {
    const SectionWalker::Next next = walker.next(&head);
    if (next == SectionWalker::Next::kEnd) {
      eof = true;
      break;
    }
    if (next == SectionWalker::Next::kError) break;
    if (head.type != fmt::kSectionPart)
      std::printf("[%s] section %u '%s' instance %u version %u (byte %" PRIu64 ")", head.kind(),
                  head.id, head.name.c_str(), head.instance, head.version, head.offset);
    if (head.live()) {
      if (head.type != fmt::kSectionPart) std::printf("\n");
      SectionInfo& s = live[head.name + "/" + std::to_string(head.instance)];
      s.name = head.name;
      s.instance = head.instance;
      if (head.name == "ram") {
        dump_ram_records(in, s, head.type == fmt::kSectionStart);
      } else {
        in.fail("live section '" + head.name + "' has a payload this tool cannot read");
        break;
      }
    } else {
      std::printf(", %zu bytes of state", head.payload.size());
      StreamReader state(std::move(head.payload), "the state of '" + head.name + "'");
      if (!print_state_fields(state, std::cout) || !state.at_eof()) {
        std::cout.flush();
        in.fail("section '" + head.name + "': " +
                (state.ok() ? std::string("bytes after the state's end marker") : state.error()));
        break;
      }
      std::cout.flush();
    }
    if (!walker.finish(head)) break;
  }
  for (const auto& [key, s] : live)
    if (s.zero_pages || s.data_pages)
      std::printf("section '%s' instance %u: %" PRIu64 " pages with data, %" PRIu64
                  " zero pages\n",
                  s.name.c_str(), s.instance, s.data_pages, s.zero_pages);
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
