#include "devices/sifive_test.h"

namespace ferry {

uint64_t SifiveTest::mmio_read(uint64_t /*offset*/, unsigned /*size*/) {
  return 0;
}

void SifiveTest::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset != 0 || size < 2) return;
  uint32_t status = value & 0xffff;
  uint32_t code = (value >> 16) & 0xffff;
  switch (status) {
    case kFinisherPass:
      power_.request_poweroff(0);
      break;
    case kFinisherFail:
      power_.request_poweroff(static_cast<int>(code));
      break;
    case kFinisherReset:
      power_.request_reset();
      break;
    default:
      break;
  }
}

}  // namespace ferry
