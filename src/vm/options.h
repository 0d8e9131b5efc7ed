// parse_options: ferry's command line, spelled the way QEMU spells it.
//
// Options (each also accepted with two dashes, as QEMU does):
//   -M/-machine virt[,accel=tcg] | type=virt | help
//   -m SIZE | size=SIZE       bare number = MiB; suffixes K M G T (B = bytes)
//   -smp 1 | cpus=1[,…]       only one CPU
//   -kernel PATH  -bios none|default|PATH  -append CMDLINE
//   -nographic  -display none  -nodefaults  -S  -name NAME|guest=NAME
//   -serial SPEC  -monitor SPEC  -qmp SPEC (repeatable)  -incoming URI
//   -h/-help/--help  -version/--version
// Anything else is an error ("ferry: -foo: invalid option", or
// "unsupported option" for QEMU options ferry does not implement), as is a
// missing argument ("ferry: -m: requires an argument") or a stray
// positional argument. Nothing is ignored silently. The parser never exits:
// the caller prints `output` and exits with `exit_code` when told to.
//
// Default serial/monitor (resolved here, so VmConfig.serial/monitor come
// out explicit — "none" when absent):
//   - QEMU: -serial, -nodefaults turn the default serial off; -monitor,
//     -qmp, -serial mon:…, -nodefaults turn the default monitor off.
//   - -nographic: default serial and monitor together -> serial "mon:stdio"
//     (the Ctrl-A mux); only one of them -> that one on "stdio". Exactly
//     QEMU's rule, including its error when -monitor stdio is given and
//     the default serial would take stdio too.
//   - without -nographic (QEMU would open a window; ferry has none, so it
//     behaves like -display none but keeps the console useful): the
//     default serial is "stdio" unless a monitor or QMP already uses stdio,
//     then "null"; there is no default monitor.
//   - stdio may be used by one chardev only: "ferry: cannot use stdio by
//     multiple character devices".
// -qmp does not accept "mon:" (QMP has no mux); -monitor mon:X means X.
//
// Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "vm/vm_config.h"

namespace ferry {

struct OptionsResult {
  enum class Action {
    kRun,   // start the VM with `config`
    kExit,  // print `output` (stdout when exit_code is 0, else stderr) and exit
  };
  Action action = Action::kRun;
  VmConfig config;
  int exit_code = 0;
  std::string output;  // ends with '\n' when non-empty
};

// `args` excludes the program name.
OptionsResult parse_options(const std::vector<std::string>& args);
OptionsResult parse_options(int argc, const char* const* argv);

std::string usage_text();
std::string version_text();

// QEMU's -m syntax; returns false on a malformed or out-of-range size.
bool parse_ram_size(const std::string& text, uint64_t* bytes);

}  // namespace ferry
