// libFuzzer target: arbitrary bytes as an incoming migration stream.
// Whatever arrives, loading must end with ok or a message — never a crash,
// a hang or an allocation driven by a length read from the input.
//   cmake -DFERRY_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ … && build/stream_fuzzer corpus/
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "migration/migration_internal.h"
#include "vm/vm.h"

namespace {

// A Channel that reads from a byte buffer.
class MemoryChannel : public ferry::Channel {
 public:
  MemoryChannel(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool write_all(const uint8_t*, size_t) override { return true; }
  ssize_t read_some(uint8_t* out, size_t len) override {
    const size_t n = std::min(len, size_ - pos_);
    std::memcpy(out, data_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  int wait_readable(int) override { return 1; }
  bool has_return_path() const override { return false; }
  void shutdown() override {}
  std::string error() const override { return "read error"; }
  std::string description() const override { return "fuzz input"; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

ferry::Vm& fuzz_vm() {
  static std::unique_ptr<ferry::Vm> vm = [] {
    char path[] = "/tmp/ferry-fuzz-kernel-XXXXXX";
    const int fd = mkstemp(path);
    const uint32_t wfi_loop[] = {0x10500073, 0xffdff06f};  // wfi; j .-4
    if (write(fd, wfi_loop, sizeof wfi_loop) != sizeof wfi_loop) abort();
    close(fd);
    ferry::VmConfig c;
    c.ram_size = 4 << 20;
    c.bios = "none";
    c.kernel = path;
    c.incoming = "defer";
    // A virtio-net card on a user-mode network, as make_corpus.py's VMs
    // (-netdev user,id=n0 -device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56):
    // the card's section and libslirp's state in it are fuzzed too.
    ferry::NetdevConfig netdev;
    netdev.id = "n0";
    netdev.type = "user";
    c.netdevs.push_back(netdev);
    ferry::NicConfig nic;
    nic.netdev = "n0";
    nic.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    c.nics.push_back(nic);
    auto v = std::make_unique<ferry::Vm>(c, nullptr, nullptr);
    unlink(path);
    return v;
  }();
  return *vm;
}

}  // namespace

// The VM, its devices' threads and libslirp's instance are made once, before
// the first input: what they allocate is not counted against an input by
// libFuzzer's leak check (-detect_leaks), and stays reachable for the run.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_vm();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemoryChannel channel(data, size);
  ferry::StreamReader in(channel);
  std::string error;
  const bool ok = ferry::load_migration_stream(fuzz_vm(), in, &error);
  // FERRY_FUZZ_VERBOSE=1 build-fuzz/stream_fuzzer FILE...: what each input came to.
  static const bool verbose = std::getenv("FERRY_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "stream_fuzzer: %s\n", ok ? "loaded" : error.c_str());
  return 0;
}
