#include "board/fdt_chosen.h"

#include <sys/random.h>

#include <libfdt.h>

#include <stdexcept>

namespace ferry {

namespace {
// Room for the properties patched in, beyond the bootargs string.
constexpr size_t kPatchSlack = 1024;
}  // namespace

std::vector<uint8_t> fdt_initrd_address(uint64_t address) {
  const int bytes = address >> 32 ? 8 : 4;
  std::vector<uint8_t> out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(address >> (8 * i)));
  return out;
}

std::vector<uint8_t> patch_fdt_chosen(const std::vector<uint8_t>& blob,
                                      const FdtChosen& chosen, const std::string& name) {
  auto fail = [&name](const std::string& what, int err) {
    throw std::runtime_error(name + ": " + what + " (" + fdt_strerror(err) + ")");
  };
  if (blob.size() < sizeof(fdt_header))
    throw std::runtime_error(name + ": too short for a device tree blob (" +
                             std::to_string(blob.size()) + " bytes)");
  if (int err = fdt_check_header(blob.data()); err != 0)
    fail("not a valid device tree blob", err);
  if (fdt_totalsize(blob.data()) > blob.size())
    throw std::runtime_error(name + ": truncated device tree blob (its header says " +
                             std::to_string(fdt_totalsize(blob.data())) + " bytes, the file has " +
                             std::to_string(blob.size()) + ")");

  std::vector<uint8_t> out(fdt_totalsize(blob.data()) + chosen.bootargs.size() + kPatchSlack);
  void* fdt = out.data();
  if (int err = fdt_open_into(blob.data(), fdt, static_cast<int>(out.size())); err != 0)
    fail("could not open the device tree", err);
  int node = fdt_path_offset(fdt, "/chosen");
  if (node == -FDT_ERR_NOTFOUND) node = fdt_add_subnode(fdt, 0, "chosen");
  if (node < 0) fail("could not find or add /chosen", node);

  if (!chosen.bootargs.empty()) {
    if (int err = fdt_setprop_string(fdt, node, "bootargs", chosen.bootargs.c_str()); err != 0)
      fail("could not set /chosen/bootargs", err);
  }
  if (chosen.initrd_start != 0 && chosen.initrd_end != 0) {
    for (auto [prop, value] : {std::pair{"linux,initrd-start", chosen.initrd_start},
                               std::pair{"linux,initrd-end", chosen.initrd_end}}) {
      std::vector<uint8_t> cells = fdt_initrd_address(value);
      if (int err = fdt_setprop(fdt, node, prop, cells.data(), static_cast<int>(cells.size()));
          err != 0)
        fail(std::string("could not set /chosen/") + prop, err);
    }
  }
  if (int err = fdt_pack(fdt); err != 0) fail("could not pack the device tree", err);
  out.resize(fdt_totalsize(fdt));
  return out;
}

void randomize_rng_seed(std::vector<uint8_t>& blob) {
  const int chosen = fdt_path_offset(blob.data(), "/chosen");
  if (chosen < 0) return;
  int len = 0;
  void* seed = fdt_getprop_w(blob.data(), chosen, "rng-seed", &len);
  if (!seed || len <= 0) return;
  uint8_t* p = static_cast<uint8_t*>(seed);
  for (int done = 0; done < len;) {
    const ssize_t n = getrandom(p + done, static_cast<size_t>(len - done), 0);
    if (n <= 0) break;  // not worth failing a reset over: the seed is a hint
    done += static_cast<int>(n);
  }
}

}  // namespace ferry
