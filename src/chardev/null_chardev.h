// NullChardev: QEMU's "null" backend — always open, swallows output, never
// produces input.
//
// Threading: write() from any thread; no state.
#pragma once

#include <string>

#include "chardev/chardev.h"

namespace ferry {

class NullChardev : public Chardev {
 public:
  void write(const uint8_t*, size_t) override {}
  using Chardev::write;
  bool is_open() const override { return true; }
  std::string label() const override { return "null"; }
};

}  // namespace ferry
