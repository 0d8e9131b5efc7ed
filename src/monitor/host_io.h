// HostIo: the host side of a VM, built from a VmConfig — the serial
// console's chardev, the human monitor, the QMP servers — wired the way
// QEMU wires -serial/-monitor/-qmp/-nographic.
//
//   serial "mon:X"  -> X shared (MuxChardev) by the serial console (focus
//                      at start) and a human monitor; Ctrl-A c switches
//   serial "none"   -> output discarded
//   monitor SPEC    -> a HumanMonitor on SPEC ("none": no monitor); with a
//                      "mon:" serial too, both monitors work (as in QEMU)
//   qmp SPEC…       -> one QmpServer per spec
// stdio is put in raw mode when it is a terminal; with -nographic, Ctrl-C
// goes to the guest (QEMU's behaviour), otherwise it stays a signal.
//
// The caller registers commands in the registry (register_monitor_commands
// and register_vm_commands at least) — before or after create(), but
// before the loop runs — hands serial() to the UART, installs
// set_serial_input() and set_quit_handler(), and gives events() to the VM.
//
// Threading: create/destroy and the setters on the main thread; serial()
// is used on the vCPU thread; events() from any thread. Destroy after the
// vCPU thread has stopped and before the EventLoop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chardev/chardev.h"
#include "chardev/mux_chardev.h"
#include "chardev/serial_console.h"
#include "chardev/stdio_chardev.h"
#include "monitor/command_registry.h"
#include "monitor/event_broadcaster.h"
#include "monitor/human_monitor.h"
#include "monitor/qmp_server.h"
#include "util/event_loop.h"
#include "vm/vm_config.h"

namespace ferry {

class HostIo {
 public:
  // `config` as resolved by parse_options(). Returns nullptr and sets
  // `*error` ("chardev 'unix:/x,server': could not listen on …") on failure.
  // `stdio` overrides the stdio fds (tests); its allow_signals is derived
  // from config.nographic.
  static std::unique_ptr<HostIo> create(const VmConfig& config, EventLoop& loop,
                                        const CommandRegistry& registry, std::string* error,
                                        StdioOptions stdio = {});
  ~HostIo();
  HostIo(const HostIo&) = delete;
  HostIo& operator=(const HostIo&) = delete;

  // The UART's backend (write_bytes/flush on the vCPU thread).
  SerialConsole& serial() { return *serial_; }
  // Main thread: where bytes typed for the guest go (called on the main
  // thread).
  void set_serial_input(std::function<void(const uint8_t* data, size_t len)> handler);
  // What Ctrl-A x does after printing "ferry: terminated" (VmControl::quit).
  void set_quit_handler(std::function<void()> handler) { quit_handler_ = std::move(handler); }
  // Every QMP server's events.
  EventSink& events() { return events_; }
  // Pushes pending output of every chardev (call before exiting).
  void flush();

  // The first human monitor (the mux's when there is one); null if none.
  HumanMonitor* monitor() { return monitors_.empty() ? nullptr : monitors_.front().get(); }
  const std::vector<std::unique_ptr<HumanMonitor>>& monitors() const { return monitors_; }
  const std::vector<std::unique_ptr<QmpServer>>& qmp_servers() const { return qmp_; }
  MuxChardev* mux() { return mux_.get(); }

 private:
  HostIo() = default;

  // Chardevs first: members are destroyed in reverse order, so their users
  // below go before them.
  std::unique_ptr<Chardev> serial_chardev_;
  std::unique_ptr<MuxChardev> mux_;
  std::unique_ptr<Chardev> monitor_chardev_;
  std::vector<std::unique_ptr<Chardev>> qmp_chardevs_;

  std::unique_ptr<SerialConsole> serial_;
  std::vector<std::unique_ptr<HumanMonitor>> monitors_;
  std::vector<std::unique_ptr<QmpServer>> qmp_;
  EventBroadcaster events_;
  std::function<void()> quit_handler_;
};

}  // namespace ferry
