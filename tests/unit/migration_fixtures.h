// Shared by the in-process migration tests: a guest image that dirties
// memory, VM configurations, waiting with a deadline, and an incoming
// migration that records how it ended.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "migration/migration_manager.h"
#include "rv_asm.h"
#include "vm/vm.h"

namespace ferry {
namespace {

using namespace rv;

constexpr uint32_t kRegion = 0x100000;  // offset of the dirtied area in RAM
constexpr uint32_t kRegionPages = 256;

// A guest that writes an ever-growing counter into `pages` pages in a loop,
// spinning `delay` iterations between two pages (so that how fast it dirties
// memory depends on how much CPU time it gets).
inline std::string write_dirtier_image(uint32_t pages = kRegionPages, int32_t delay = 0) {
  std::vector<uint32_t> code = cat(la(5, kRegion), la(7, kRegion + pages * 4096));
  code.push_back(addi(6, 0, 0));
  code.push_back(lui(28, 1));  // x28 = 4096
  const size_t loop = code.size();
  if (delay > 0) {
    code.push_back(lui(29, static_cast<uint32_t>(delay) >> 12));
    code.push_back(addi(29, 29, delay & 0x7ff));
    code.push_back(addi(29, 29, -1));                       // spin:
    code.push_back(b_type(1, 29, 0, -4));                    // bne x29, x0, spin
  }
  code.push_back(sd(5, 6, 0));
  code.push_back(addi(6, 6, 1));
  code.push_back(add(5, 5, 28));
  code.push_back(bltu(5, 7, -static_cast<int32_t>((code.size() - loop) * 4)));
  code = cat(code, la(5, kRegion));
  code.push_back(jal(0, -static_cast<int32_t>((code.size() - loop) * 4)));
  char path[] = "/tmp/ferry-migration-test-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, code.data(), code.size() * 4), static_cast<ssize_t>(code.size() * 4));
  close(fd);
  return path;
}

inline VmConfig config(const std::string& kernel, uint64_t ram = 16ull << 20) {
  VmConfig c;
  c.ram_size = ram;
  c.bios = "none";
  c.kernel = kernel;
  return c;
}

inline bool wait_for(const std::function<bool()>& cond, double seconds = 30) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Runs an incoming migration into `dst` from `uri` and records how it ended.
struct Incoming {
  Incoming(Vm& dst, const std::string& uri) : manager(dst, nullptr) {
    started = manager.start_incoming(uri, nullptr,
                                     [this](IncomingOutcome o, const std::string& m) {
                                       message = m;
                                       result = o == IncomingOutcome::kStarted ? 1
                                                : o == IncomingOutcome::kFailed ? 2
                                                                                : 3;
                                     },
                                     &error);
  }
  // 1 = loaded, 2 = failed, 3 = loaded but not handed over, 0 = timed out.
  int wait() {
    wait_for([this] { return result.load() != 0; });
    return result.load();
  }
  MigrationManager manager;
  bool started = false;
  std::string error, message;
  std::atomic<int> result{0};
};

}  // namespace
}  // namespace ferry
