// DirtyLogSync: takes the dirty log of guest RAM, as one operation of the
// CPU back end.
//
// Harvesting is more than swapping GuestRam's bitmap: every hart holds
// write-TLB entries through which its stores reach RAM without being logged,
// so each must drop them at the same moment, or a store right after the
// harvest would be lost to migration. The interpreter back end (Vm) does it
// for all of its harts between run slices; a back end whose stores the VMM
// does not see (KVM) would fetch and clear its own log here as well.
#pragma once

#include <cstdint>
#include <vector>

namespace ferry {

class DirtyLogSync {
 public:
  virtual ~DirtyLogSync() = default;
  // Moves every dirty bit into `bits` (one bit per page) and clears the log;
  // every store after the call is logged again. Any thread but a vCPU's.
  virtual void sync_dirty_log(std::vector<uint64_t>& bits) = 0;
};

}  // namespace ferry
