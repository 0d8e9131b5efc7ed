// The destination side, on its own thread: accept one connection, check the
// header and configuration, load sections until the end marker, confirm on
// the return path (READY), wait for the source's GO, then run the guest.
// Nothing runs and nothing is written outside guest RAM before that.
#include <map>

#include "migration/format.h"
#include "migration/migration_internal.h"
#include "migration/state_codec.h"
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

bool MigrationManager::Incoming::load(StreamReader& in, std::string* error) {
  return load_migration_stream(m_.vm_, in, error);
}

bool load_migration_stream(Vm& vm, StreamReader& in, std::string* error) {
  RamMigration ram(vm.board().ram(), nullptr);
  SaveVm savevm;
  savevm.add_live(&ram);
  for (StateOwner* owner : vm.board().state_owners()) savevm.add_device(owner);

  if (!read_stream_header(in, vm)) {
    *error = in.error();
    return false;
  }
  struct Open {
    const SaveVmEntry* entry;
    int version;
  };
  std::map<uint32_t, Open> sections;
  std::map<const SaveVmEntry*, bool> devices_loaded;
  for (;;) {
    const uint8_t type = in.u8();
    if (!in.ok()) break;
    // Pre-copy sections are bulk; from stop-and-copy on, every wait counts
    // as downtime.
    in.channel().set_bulk_receive(type == fmt::kSectionStart || type == fmt::kSectionPart);
    if (type == fmt::kSectionEof) break;
    uint32_t id = in.u32();
    Open open{nullptr, 0};
    if (type == fmt::kSectionStart || type == fmt::kSectionFull) {
      const std::string name = in.str();
      const uint32_t instance = in.u32();
      const uint32_t version = in.u32();
      if (!in.ok()) break;
      const SaveVmEntry* e = savevm.find(name, instance);
      if (!e) {
        in.fail("unknown section '" + name + "' instance " + std::to_string(instance) +
                " (this ferry has no such device)");
        break;
      }
      const int min_version = e->device ? e->device->state_min_version() : 1;
      if (static_cast<int>(version) > e->version || static_cast<int>(version) < min_version) {
        in.fail("section '" + name + "' has version " + std::to_string(version) +
                "; this ferry loads versions " + std::to_string(min_version) + " to " +
                std::to_string(e->version));
        break;
      }
      if ((type == fmt::kSectionFull) != (e->device != nullptr)) {
        in.fail("section '" + name + "' has the wrong kind (live vs. device)");
        break;
      }
      open = {e, static_cast<int>(version)};
      if (type == fmt::kSectionStart) sections[id] = open;
    } else if (type == fmt::kSectionPart || type == fmt::kSectionEnd) {
      auto it = sections.find(id);
      if (it == sections.end()) {
        in.fail("section id " + std::to_string(id) + " continues a section that never started");
        break;
      }
      open = it->second;
    } else {
      in.fail("unknown section type 0x" + [](uint8_t t) {
        char b[4];
        std::snprintf(b, sizeof b, "%02x", t);
        return std::string(b);
      }(type) + " (the stream is corrupt)");
      break;
    }
    if (open.entry->live) {
      open.entry->live->load(in, open.version);
    } else {
      // Devices load on the vCPU thread, serialized with monitor commands.
      vm.run_on_vcpu([&] { load_state_fields(*open.entry->device, open.version, in); });
      devices_loaded[open.entry] = true;
    }
    if (!in.ok()) break;
    const uint8_t footer = in.u8();
    const uint32_t footer_id = in.u32();
    if (in.ok() && (footer != fmt::kFooter || footer_id != id)) {
      in.fail("section '" + open.entry->id + "' is not followed by its footer (the stream is corrupt)");
      break;
    }
  }
  if (in.ok()) {
    for (const auto& e : savevm.entries()) {
      if (e.device && !devices_loaded.count(&e)) {
        in.fail("the stream ended without the state of '" + e.id + "'");
        break;
      }
    }
  }
  if (!in.ok()) {
    *error = in.error();
    return false;
  }
  return true;
}

void MigrationManager::Incoming::run() {
  std::string error;
  std::unique_ptr<Channel> channel = endpoint_->accept(stop_, &error);
  if (!channel) {
    if (!stop_.load()) done_(false, error.empty() ? "no incoming connection" : error);
    m_.incoming_active_.store(false);
    return;
  }
  channel_.store(channel.get());
  m_.emit_status(MigrationStatus::kActive);  // as QEMU's destination reports
  StreamReader in(*channel);
  bool ok = load(in, &error);
  if (ok && channel->has_return_path()) {
    StreamWriter reply(*channel);
    reply.u8(fmt::kReturnReady);
    reply.flush();
    const uint8_t go = in.u8();
    if (!reply.ok() || !in.ok() || go != fmt::kReturnGo) {
      ok = false;
      error = "the source did not hand the VM over (no GO after the stream was loaded)";
    }
  } else if (!ok && channel->has_return_path()) {
    StreamWriter reply(*channel);
    reply.u8(fmt::kReturnFailed);
    reply.str(error.size() > 250 ? error.substr(0, 250) : error);
    reply.flush();
  }
  if (ok) m_.vm_.finish_incoming_migration();
  channel_.store(nullptr);
  channel.reset();
  m_.incoming_active_.store(false);
  m_.emit_status(ok ? MigrationStatus::kCompleted : MigrationStatus::kFailed);
  if (!stop_.load()) done_(ok, ok ? std::string() : error);
}

}  // namespace ferry
