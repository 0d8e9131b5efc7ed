// The destination side, on its own thread: accept one connection, check the
// header and configuration, load sections until the end marker, then hand
// over as the stream's configuration says — READY and wait for GO on the
// return path, or run at once when the source has no way to confirm. Nothing
// runs and nothing is written outside guest RAM before that.
#include <set>

#include "migration/format.h"
#include "migration/migration_internal.h"
#include "migration/section_walker.h"
#include "migration/state_codec.h"
#include "migration/state_registry.h"
#include "migration/stream_config.h"
#include "vm/vm.h"

namespace ferry {

namespace fmt = migration_format;

MigrationManager::Incoming::Incoming(MigrationManager& m, std::unique_ptr<IncomingEndpoint> endpoint,
                                     IncomingDone done)
    : m_(m), endpoint_(std::move(endpoint)), done_(std::move(done)) {}

MigrationManager::Incoming::~Incoming() {
  stop_.store(true);
  if (Channel* c = channel_.load()) c->shutdown();  // unblocks a pending read
  if (thread_.joinable()) thread_.join();
}

void MigrationManager::Incoming::start() {
  thread_ = std::thread([this] { run(); });
}

namespace {

// Device state taken off the wire, applied once the stream is complete.
struct DeviceState {
  const StateEntry* entry;
  int version;
  std::vector<uint8_t> payload;
};

// On the vCPU thread: every device's state, in registry order.
bool apply_device_states(Vm& vm, std::vector<DeviceState>& states, std::string* error) {
  bool ok = true;
  vm.run_on_vcpu([&] {
    for (DeviceState& d : states) {
      StreamReader r(std::move(d.payload), "the state of '" + d.entry->name + "'");
      try {
        if (load_state_fields(*d.entry->device, d.version, r) && !r.at_eof())
          r.fail("section '" + d.entry->name + "': the state has bytes after its end marker");
      } catch (const std::exception& e) {
        // A device refuses a state it cannot take (a disk of another size).
        r.fail("section '" + d.entry->name + "': " + e.what());
      }
      if (!r.ok()) {
        *error = r.error();
        ok = false;
        return;
      }
    }
  });
  return ok;
}

}  // namespace

bool load_migration_stream(Vm& vm, StreamReader& in, std::string* error, StreamConfig* config,
                           Timeline* steps) {
  SectionWalker walker(in);
  StreamConfig cfg;
  if (!walker.read_start(&cfg)) {
    *error = in.error();
    return false;
  }
  if (!check_stream_config(cfg, vm, error)) return false;
  if (config) *config = cfg;

  const StateRegistry& registry = vm.state_registry();
  for (const StateEntry& e : registry.entries())
    if (e.live && !e.live->load_setup()) {
      *error = "'" + e.name + "' could not prepare for loading";
      return false;
    }
  std::vector<DeviceState> devices;
  std::set<const StateEntry*> seen;
  SectionHead head;
  for (;;) {
    const SectionWalker::Next next = walker.next(&head);
    if (next != SectionWalker::Next::kSection) break;
    // Pre-copy sections are bulk; from stop-and-copy on, every wait counts
    // as downtime.
    if (Channel* c = in.channel())
      c->set_bulk_receive(head.type == fmt::kSectionStart || head.type == fmt::kSectionPart);
    const StateEntry* e = registry.find(head.name, head.instance);
    if (!e) {
      in.fail("unknown section '" + head.name + "' instance " + std::to_string(head.instance) +
              " (this VM has no such device)");
      break;
    }
    if (head.type == fmt::kSectionStart || head.type == fmt::kSectionFull) {
      if (static_cast<int>(head.version) > e->version ||
          static_cast<int>(head.version) < e->min_version) {
        in.fail("section '" + head.name + "' has version " + std::to_string(head.version) +
                "; this ferry loads versions " + std::to_string(e->min_version) + " to " +
                std::to_string(e->version));
        break;
      }
      if (head.live() != (e->live != nullptr)) {
        in.fail("section '" + head.name + "' has the wrong kind (live vs. device)");
        break;
      }
      if (head.type == fmt::kSectionFull && !seen.insert(e).second) {
        in.fail("section '" + head.name + "' instance " + std::to_string(head.instance) +
                " appears twice");
        break;
      }
    }
    if (e->live) {
      e->live->load(in, static_cast<int>(head.version));
    } else {
      devices.push_back({e, static_cast<int>(head.version), std::move(head.payload)});
    }
    if (!walker.finish(head)) break;
  }
  if (in.ok()) {
    for (const StateEntry& e : registry.entries())
      if (e.device && !seen.count(&e)) {
        in.fail("the stream ended without the state of '" + e.name + "' instance " +
                std::to_string(e.instance));
        break;
      }
  }
  for (const StateEntry& e : registry.entries())
    if (e.live) e.live->load_cleanup();
  if (!in.ok()) {
    *error = in.error();
    return false;
  }
  if (steps) steps->mark("stream-received");
  if (!apply_device_states(vm, devices, error)) return false;
  if (steps) steps->mark("devices-applied");
  std::string storage_error;
  vm.run_on_vcpu([&] {
    try {
      vm.state_registry().take_storage();
    } catch (const std::exception& e) {
      storage_error = e.what();
    }
  });
  if (!storage_error.empty()) {
    *error = "taking the disks over: " + storage_error;
    return false;
  }
  return true;
}

IncomingOutcome MigrationManager::Incoming::hand_over(Channel& channel, StreamReader& in,
                                                      uint32_t timeout_ms, Timeline& steps,
                                                      std::string* error) {
  StreamWriter reply(channel);
  reply.u8(fmt::kReturnReady);
  reply.flush();
  if (!reply.ok()) {
    *error = "the source went away before the hand-over (" + reply.error() + ")";
    return IncomingOutcome::kNotHandedOver;
  }
  steps.mark("ready-sent");
  // Wait for GO within the source's deadline (0: no deadline).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (stop_.load()) {
      *error = "ferry is quitting";
      return IncomingOutcome::kFailed;
    }
    int wait_ms = 50;
    if (timeout_ms) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        *error = "the source did not hand the VM over within " + std::to_string(timeout_ms) +
                 " ms after the stream (no GO)";
        return IncomingOutcome::kNotHandedOver;
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left, wait_ms));
    }
    if (channel.wait_readable(wait_ms) != 0) break;
  }
  const uint8_t go = in.u8();
  if (!in.ok()) {
    *error = "the connection to the source ended before it handed the VM over (no GO)";
    return IncomingOutcome::kNotHandedOver;
  }
  if (go == fmt::kReturnAbort) {
    *error = "the source cancelled the migration after the stream; it keeps the VM";
    return IncomingOutcome::kFailed;
  }
  if (go != fmt::kReturnGo) {
    *error = "unexpected message " + std::to_string(go) + " from the source instead of GO";
    return IncomingOutcome::kNotHandedOver;
  }
  return IncomingOutcome::kStarted;
}

void MigrationManager::Incoming::run() {
  std::string error;
  std::unique_ptr<Channel> channel = endpoint_->accept(stop_, &error);
  if (!channel) {
    if (!stop_.load())
      done_(IncomingOutcome::kFailed, error.empty() ? "no incoming connection" : error);
    m_.incoming_active_.store(false);
    return;
  }
  channel_.store(channel.get());
  m_.emit_status(MigrationStatus::kActive);  // as QEMU's destination reports
  StreamReader in(*channel);
  StreamConfig config;
  Timeline steps;
  IncomingOutcome outcome = IncomingOutcome::kFailed;
  if (load_migration_stream(m_.vm_, in, &error, &config, &steps)) {
    // The source says how the hand-over goes; with no return path the
    // stream's end is the hand-over.
    outcome = config.handover == fmt::kHandoverConfirm
                  ? hand_over(*channel, in, config.handover_timeout_ms, steps, &error)
                  : IncomingOutcome::kStarted;
    if (outcome == IncomingOutcome::kStarted) steps.mark("go-received");
  } else if (channel->has_return_path()) {
    StreamWriter reply(*channel);
    reply.u8(fmt::kReturnFailed);
    reply.str(error.size() > 250 ? error.substr(0, 250) : error);
    reply.flush();
  }
  if (outcome != IncomingOutcome::kFailed)
    m_.vm_.finish_incoming_migration(outcome == IncomingOutcome::kStarted);
  // Tell the network where the guest lives now (sent once it runs here).
  if (outcome == IncomingOutcome::kStarted) m_.vm_.announce_self(m_.parameters().announce, {});
  if (outcome == IncomingOutcome::kStarted) steps.mark("harts-started");
  channel_.store(nullptr);
  channel.reset();
  {
    std::lock_guard<std::mutex> lock(m_.mutex_);
    m_.incoming_steps_ = steps.to_json();
    if (outcome != IncomingOutcome::kStarted) m_.incoming_error_ = error;
  }
  m_.incoming_active_.store(false);
  m_.emit_status(outcome == IncomingOutcome::kStarted ? MigrationStatus::kCompleted
                                                      : MigrationStatus::kFailed);
  if (!stop_.load()) done_(outcome, outcome == IncomingOutcome::kStarted ? std::string() : error);
}

}  // namespace ferry
