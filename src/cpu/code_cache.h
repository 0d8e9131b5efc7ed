// CodeCache: decoded instructions per guest-physical page.
//
// A CodePage holds one DecodedInsn per 2-byte slot, decoded lazily (a slot
// starts as Op::DECODE). Two PAGE_END sentinels after the last slot stop the
// interpreter when it runs off the end of the page. A page's decoded copy is
// valid while GuestRam still marks the page as code; any write to the page
// clears that mark (see GuestRam::note_write_page).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "cpu/decoded_insn.h"

namespace ferry {

struct CodePage {
  static constexpr unsigned kSlots = 2048;
  std::array<DecodedInsn, kSlots + 2> insn;
  const uint8_t* host = nullptr;  // the page's bytes (RAM or ROM)
  uint64_t paddr = 0;
  bool in_ram = false;

  // Forgets every decoded slot.
  void clear() {
    for (unsigned i = 0; i < kSlots; ++i) insn[i] = with_handler(DecodedInsn{});
    DecodedInsn end;
    end.op = Op::PAGE_END;
    insn[kSlots] = insn[kSlots + 1] = with_handler(end);
  }
};

class CodeCache {
 public:
  // Decoded pages kept before the cache starts over (32 KiB each).
  static constexpr size_t kMaxPages = 8192;

  // The page for `paddr` (page-aligned), created empty if new. Sets `fresh`
  // when the page was created (its slots are all undecoded).
  CodePage* get(uint64_t paddr, const uint8_t* host, bool in_ram, bool& fresh) {
    auto it = pages_.find(paddr);
    if (it != pages_.end()) {
      fresh = false;
      return it->second.get();
    }
    auto page = std::make_unique<CodePage>();
    page->clear();
    page->host = host;
    page->paddr = paddr;
    page->in_ram = in_ram;
    fresh = true;
    CodePage* raw = page.get();
    pages_.emplace(paddr, std::move(page));
    return raw;
  }
  bool full() const { return pages_.size() >= kMaxPages; }
  void clear() { pages_.clear(); }

 private:
  std::unordered_map<uint64_t, std::unique_ptr<CodePage>> pages_;
};

}  // namespace ferry
