// Address translation (Sv39), the software TLB and the slow paths of loads,
// stores, AMOs and instruction fetch.
#include <cstring>

#include "cpu/hart.h"

namespace ferry {

namespace {
constexpr uint64_t kPteV = 1, kPteR = 2, kPteW = 4, kPteX = 8, kPteU = 16,
                   kPteA = 64, kPteD = 128;
constexpr uint64_t kPpnMask = (1ull << 44) - 1;
constexpr uint64_t kPageMask = ~(kPageSize - 1);
constexpr uint64_t kInvalidTag = ~0ull;
}  // namespace

Priv Hart::data_priv() const {
  if (priv_ == Priv::kMachine && (mstatus_ & mstatus::kMprv))
    return static_cast<Priv>((mstatus_ & mstatus::kMpp) >> mstatus::kMppShift);
  return priv_;
}

uint64_t Hart::translate(uint64_t va, Access access, uint64_t& pa) {
  const Priv p = access == Access::kFetch ? priv_ : data_priv();
  if (p == Priv::kMachine || (satp_ >> 60) == 0) {
    pa = va;
    return 0;
  }
  const uint64_t page_fault = access == Access::kFetch  ? cause::kInsnPage
                              : access == Access::kRead ? cause::kLoadPage
                                                        : cause::kStorePage;
  const uint64_t access_fault = access == Access::kFetch  ? cause::kInsnAccess
                                : access == Access::kRead ? cause::kLoadAccess
                                                          : cause::kStoreAccess;
  // Sv39: bits 63..39 must repeat bit 38.
  if (static_cast<uint64_t>(static_cast<int64_t>(va << 25) >> 25) != va)
    return page_fault;
  uint64_t table = (satp_ & kPpnMask) << kPageShift;
  for (int level = 2; level >= 0; --level) {
    const uint64_t vpn = (va >> (kPageShift + 9 * level)) & 0x1ff;
    const uint64_t pte_addr = table + vpn * 8;
    if (!ram_.contains(pte_addr, 8)) return access_fault;
    const uint64_t pte =
        __atomic_load_n(reinterpret_cast<const uint64_t*>(ram_.host_at(pte_addr)), __ATOMIC_ACQUIRE);
    if (!(pte & kPteV) || (!(pte & kPteR) && (pte & kPteW))) return page_fault;
    if (!(pte & (kPteR | kPteX))) {  // pointer to the next level
      table = ((pte >> 10) & kPpnMask) << kPageShift;
      continue;
    }
    // Leaf: check permissions.
    if (p == Priv::kUser && !(pte & kPteU)) return page_fault;
    if (p == Priv::kSupervisor && (pte & kPteU) &&
        (access == Access::kFetch || !(mstatus_ & mstatus::kSum)))
      return page_fault;
    switch (access) {
      case Access::kFetch:
        if (!(pte & kPteX)) return page_fault;
        break;
      case Access::kRead:
        if (!(pte & kPteR) && !((mstatus_ & mstatus::kMxr) && (pte & kPteX)))
          return page_fault;
        break;
      case Access::kWrite:
        if (!(pte & kPteW)) return page_fault;
        break;
    }
    const uint64_t ppn = (pte >> 10) & kPpnMask;
    const uint64_t offset_mask = (1ull << (kPageShift + 9 * level)) - 1;
    if (level > 0 && (ppn & ((1ull << (9 * level)) - 1))) return page_fault;
    // Hardware A/D update, as QEMU does; the PTE write is logged like any other.
    const uint64_t updated = pte | kPteA | (access == Access::kWrite ? kPteD : 0);
    if (updated != pte) {
      // Atomic: another hart may update the same entry (or the OS change it).
      auto* slot = reinterpret_cast<uint64_t*>(ram_.host_for_write(pte_addr, 8));
      uint64_t expected = pte;
      if (!__atomic_compare_exchange_n(slot, &expected, updated, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE))
        return translate(va, access, pa);  // it changed under us: walk again
    }
    pa = ((ppn << kPageShift) & ~offset_mask) | (va & offset_mask);
    return 0;
  }
  return page_fault;
}

void Hart::flush_tlb() {
  for (auto& e : read_tlb_) e.tag = kInvalidTag;
  for (auto& e : write_tlb_) e.tag = kInvalidTag;
  for (auto& e : fetch_tlb_) e.tag = kInvalidTag;
}

void Hart::flush_write_tlb() {
  for (auto& e : write_tlb_) e.tag = kInvalidTag;
}

void Hart::flush_write_tlb_page(uint64_t paddr_page) {
  for (auto& e : write_tlb_)
    if (e.paddr == paddr_page) e.tag = kInvalidTag;
}

uint64_t Hart::mmio_read(uint64_t pa, unsigned size, bool& ok) {
  const auto* region = bus_.find_mmio(pa);
  if (!region || pa + size - region->base > region->size) {
    ok = false;
    return 0;
  }
  ok = true;
  block_break_ = true;  // devices may change interrupt state
  return bus_.mmio_read(*region, pa, size);
}

bool Hart::mmio_write(uint64_t pa, unsigned size, uint64_t value) {
  const auto* region = bus_.find_mmio(pa);
  if (!region || pa + size - region->base > region->size) return false;
  block_break_ = true;
  bus_.mmio_write(*region, pa, size, value);
  return true;
}

bool Hart::load_aligned(uint64_t va, unsigned size, uint64_t& value, uint64_t pc) {
  uint64_t pa;
  if (uint64_t fault = translate(va, Access::kRead, pa)) {
    raise_exception(fault, va, pc);
    return false;
  }
  const uint8_t* host = nullptr;
  if (ram_.contains(pa, size)) {
    host = ram_.host_at(pa);
  } else if (const uint8_t* rom = bus_.rom_host(pa)) {
    host = rom;
  }
  if (host) {
    TlbEntry& e = read_tlb_[(va >> kPageShift) % kTlbSize];
    e.tag = va & kPageMask;
    e.addend = reinterpret_cast<uintptr_t>(host - (pa & ~kPageMask)) - e.tag;
    e.paddr = pa & kPageMask;
    value = 0;
    std::memcpy(&value, host, size);
    return true;
  }
  bool ok;
  value = mmio_read(pa, size, ok);
  if (!ok) {
    raise_exception(cause::kLoadAccess, va, pc);
    return false;
  }
  return true;
}

bool Hart::store_aligned(uint64_t va, unsigned size, uint64_t value, uint64_t pc) {
  uint64_t pa;
  if (uint64_t fault = translate(va, Access::kWrite, pa)) {
    raise_exception(fault, va, pc);
    return false;
  }
  if (ram_.contains(pa, size)) {
    const uint64_t page = (pa - ram_.base()) >> kPageShift;
    // Logs the page (dirty log, drops decoded code); later stores to it
    // hit the TLB until the next harvest drops the entry.
    uint8_t* host = ram_.page_for_write(page) + (pa & ~kPageMask);
    TlbEntry& e = write_tlb_[(va >> kPageShift) % kTlbSize];
    e.tag = va & kPageMask;
    e.addend = reinterpret_cast<uintptr_t>(host - (pa & ~kPageMask)) - e.tag;
    e.paddr = pa & kPageMask;
    std::memcpy(host, &value, size);
    if (reservation_ == va) reservation_ = ~0ull;
    return true;
  }
  if (bus_.rom_host(pa)) return true;  // writes to ROM are ignored
  if (!mmio_write(pa, size, value)) {
    raise_exception(cause::kStoreAccess, va, pc);
    return false;
  }
  return true;
}

// Misaligned accesses are carried out byte by byte (the spec allows either
// this or a trap; QEMU's TCG carries them out too).
bool Hart::load_slow(uint64_t va, unsigned size, uint64_t& value, uint64_t pc) {
  if ((va & (size - 1)) == 0) return load_aligned(va, size, value, pc);
  value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint64_t b;
    if (!load_aligned(va + i, 1, b, pc)) return false;
    value |= b << (8 * i);
  }
  return true;
}

bool Hart::store_slow(uint64_t va, unsigned size, uint64_t value, uint64_t pc) {
  if ((va & (size - 1)) == 0) return store_aligned(va, size, value, pc);
  // Check every byte's translation first so a fault leaves memory unchanged.
  for (unsigned i = 0; i < size; ++i) {
    uint64_t pa;
    if (uint64_t fault = translate(va + i, Access::kWrite, pa)) {
      raise_exception(fault, va + i, pc);
      return false;
    }
  }
  for (unsigned i = 0; i < size; ++i)
    if (!store_aligned(va + i, 1, (value >> (8 * i)) & 0xff, pc)) return false;
  return true;
}

bool Hart::amo_target(uint64_t va, unsigned size, uint8_t*& host,
                      uint64_t& mmio_pa, uint64_t pc) {
  if (va & (size - 1)) {
    raise_exception(cause::kStoreMisaligned, va, pc);
    return false;
  }
  uint64_t pa;
  if (uint64_t fault = translate(va, Access::kWrite, pa)) {
    raise_exception(fault, va, pc);
    return false;
  }
  host = nullptr;
  if (ram_.contains(pa, size)) {
    host = ram_.host_for_write(pa, size);
    return true;
  }
  if (bus_.find_mmio(pa)) {
    mmio_pa = pa;
    return true;
  }
  raise_exception(cause::kStoreAccess, va, pc);
  return false;
}

namespace {
// The value an AMO stores, from the old memory value and rs2 (both already
// sign-extended for .w).
uint64_t amo_result(AmoKind kind, bool dword, uint64_t old, uint64_t src) {
  switch (kind) {
    case AmoKind::kSwap: return src;
    case AmoKind::kAdd: return old + src;
    case AmoKind::kXor: return old ^ src;
    case AmoKind::kAnd: return old & src;
    case AmoKind::kOr: return old | src;
    case AmoKind::kMin: return static_cast<int64_t>(old) < static_cast<int64_t>(src) ? old : src;
    case AmoKind::kMax: return static_cast<int64_t>(old) > static_cast<int64_t>(src) ? old : src;
    case AmoKind::kMinu:
      return dword ? (old < src ? old : src)
                   : (static_cast<uint32_t>(old) < static_cast<uint32_t>(src) ? old : src);
    case AmoKind::kMaxu:
      return dword ? (old > src ? old : src)
                   : (static_cast<uint32_t>(old) > static_cast<uint32_t>(src) ? old : src);
    default: return old;
  }
}

uint64_t sign_extend_word(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
}

// Compare-and-swap of 4 or 8 bytes of RAM; on failure `expected` gets the
// current value.
bool cas(uint8_t* host, bool dword, uint64_t& expected, uint64_t desired) {
  if (dword)
    return __atomic_compare_exchange_n(reinterpret_cast<uint64_t*>(host), &expected, desired,
                                       false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  uint32_t e = static_cast<uint32_t>(expected);
  const bool ok = __atomic_compare_exchange_n(reinterpret_cast<uint32_t*>(host), &e,
                                              static_cast<uint32_t>(desired), false,
                                              __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  expected = e;
  return ok;
}
}  // namespace

bool Hart::amo(const DecodedInsn& in, bool dword, uint64_t pc) {
  const unsigned size = dword ? 8 : 4;
  const uint64_t va = x_[in.rs1];
  uint8_t* host;
  uint64_t mmio_pa = 0;
  if (!amo_target(va, size, host, mmio_pa, pc)) return false;
  const uint64_t src = dword ? x_[in.rs2] : sign_extend_word(x_[in.rs2]);
  const auto kind = static_cast<AmoKind>(in.aux);
  uint64_t old = 0;
  if (host) {
    // Atomic on the host, so harts on other threads see one AMO at a time.
    uint64_t current = 0;
    std::memcpy(&current, host, size);
    for (;;) {
      old = dword ? current : sign_extend_word(current);
      if (cas(host, dword, current, amo_result(kind, dword, old, src))) break;
    }
  } else {
    bool ok;
    old = mmio_read(mmio_pa, size, ok);
    if (!dword) old = sign_extend_word(old);
    mmio_write(mmio_pa, size, amo_result(kind, dword, old, src));
  }
  if (reservation_ == va) reservation_ = ~0ull;
  x_[in.rd] = old;
  x_[0] = 0;
  return true;
}

bool Hart::cbo(const DecodedInsn& in, uint64_t pc) {
  const bool zero = in.op == Op::CBO_ZERO;
  // Below M, menvcfg (and for U also senvcfg) must allow the operation.
  auto allowed = [&](uint64_t cfg) {
    if (zero) return (cfg & envcfg::kCbze) != 0;
    if (in.imm == 0) return (cfg & envcfg::kCbie) != 0;  // cbo.inval (done as a flush)
    return (cfg & envcfg::kCbcfe) != 0;
  };
  if ((priv_ != Priv::kMachine && !allowed(menvcfg_)) ||
      (priv_ == Priv::kUser && !allowed(senvcfg_))) {
    raise_exception(cause::kIllegal, in.raw, pc);
    return false;
  }
  const uint64_t va = x_[in.rs1] & ~(kCacheBlock - 1);
  uint64_t pa;
  if (!zero) {
    // Allowed where a load or a store would be; faults are reported as
    // store faults (as QEMU does it: probe for a load, then for a store).
    if (translate(va, Access::kRead, pa) == 0) return true;
    if (uint64_t fault = translate(va, Access::kWrite, pa)) {
      raise_exception(fault, va, pc);
      return false;
    }
    return true;
  }
  if (uint64_t fault = translate(va, Access::kWrite, pa)) {
    raise_exception(fault, va, pc);
    return false;
  }
  if (!ram_.contains(pa, kCacheBlock)) {
    raise_exception(cause::kStoreAccess, va, pc);
    return false;
  }
  std::memset(ram_.host_for_write(pa, kCacheBlock), 0, kCacheBlock);
  if (reservation_ != ~0ull && (reservation_ & ~(kCacheBlock - 1)) == va) reservation_ = ~0ull;
  block_break_ = true;  // the block may hold decoded code
  return true;
}

bool Hart::load_reserved(const DecodedInsn& in, bool dword, uint64_t pc) {
  const unsigned size = dword ? 8 : 4;
  const uint64_t va = x_[in.rs1];
  if (va & (size - 1)) {
    raise_exception(cause::kLoadMisaligned, va, pc);
    return false;
  }
  uint64_t value;
  if (!load_aligned(va, size, value, pc)) return false;
  if (!dword) value = sign_extend_word(value);
  x_[in.rd] = value;
  reservation_ = va;
  reservation_value_ = value;
  return true;
}

bool Hart::store_conditional(const DecodedInsn& in, bool dword, uint64_t pc) {
  const unsigned size = dword ? 8 : 4;
  const uint64_t va = x_[in.rs1];
  if (va & (size - 1)) {
    raise_exception(cause::kStoreMisaligned, va, pc);
    return false;
  }
  if (reservation_ != va) {
    reservation_ = ~0ull;  // an SC ends the reservation, failed or not
    x_[in.rd] = 1;
    return true;
  }
  uint8_t* host;
  uint64_t mmio_pa = 0;
  if (!amo_target(va, size, host, mmio_pa, pc)) return false;
  reservation_ = ~0ull;
  bool stored = true;
  if (host) {
    // Succeeds only if memory still holds what LR read (another hart's
    // store in between makes it fail, as a lost reservation would).
    uint64_t expected = reservation_value_;
    stored = cas(host, dword, expected, x_[in.rs2]);
  } else {
    mmio_write(mmio_pa, size, x_[in.rs2]);
  }
  x_[in.rd] = stored ? 0 : 1;
  x_[0] = 0;
  return true;
}

CodePage* Hart::fetch_page(uint64_t pc) {
  uint64_t pa;
  if (uint64_t fault = translate(pc, Access::kFetch, pa)) {
    raise_exception(fault, pc, pc);
    return nullptr;
  }
  const uint64_t ppage = pa & kPageMask;
  CodePage* page = nullptr;
  bool fresh;
  if (code_cache_.full()) {
    code_cache_.clear();
    for (auto& e : fetch_tlb_) e.tag = kInvalidTag;
  }
  if (ram_.contains(ppage, kPageSize)) {
    page = code_cache_.get(ppage, ram_.host_at(ppage), true, fresh);
    const uint64_t index = (ppage - ram_.base()) >> kPageShift;
    if (!ram_.is_code_page(index)) {
      // The page was written since it was decoded (or never decoded): start
      // over, and keep stores to it on the slow path from now on.
      if (!fresh) page->clear();
      ram_.set_code_page(index);
      flush_write_tlb_page(ppage);
    }
  } else if (const uint8_t* rom = bus_.rom_host(ppage)) {
    page = code_cache_.get(ppage, rom, false, fresh);
  } else {
    raise_exception(cause::kInsnAccess, pc, pc);
    return nullptr;
  }
  FetchTlbEntry& e = fetch_tlb_[(pc >> kPageShift) % kTlbSize];
  e.tag = pc & kPageMask;
  e.page = page;
  return page;
}

bool Hart::fetch_cross_page(uint64_t pc, DecodedInsn& out) {
  uint64_t pa_lo, pa_hi;
  if (uint64_t fault = translate(pc, Access::kFetch, pa_lo)) {
    raise_exception(fault, pc, pc);
    return false;
  }
  if (uint64_t fault = translate(pc + 2, Access::kFetch, pa_hi)) {
    raise_exception(fault, pc + 2, pc);
    return false;
  }
  auto read16 = [&](uint64_t pa, uint16_t& v) {
    const uint8_t* host = ram_.contains(pa, 2) ? ram_.host_at(pa) : bus_.rom_host(pa);
    if (!host) return false;
    std::memcpy(&v, host, 2);
    return true;
  };
  uint16_t lo, hi;
  if (!read16(pa_lo, lo)) {
    raise_exception(cause::kInsnAccess, pc, pc);
    return false;
  }
  if (!read16(pa_hi, hi)) {
    raise_exception(cause::kInsnAccess, pc + 2, pc);
    return false;
  }
  out = decode_instruction(static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16));
  return true;
}

}  // namespace ferry
