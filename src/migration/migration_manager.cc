#include "migration/migration_manager.h"

#include <functional>

#include "migration/migration_internal.h"
#include "net/announce.h"
#include "vm/vm.h"

namespace ferry {

std::string_view migration_status_name(MigrationStatus s) {
  switch (s) {
    case MigrationStatus::kNone: return "none";
    case MigrationStatus::kSetup: return "setup";
    case MigrationStatus::kActive: return "active";
    case MigrationStatus::kCancelling: return "cancelling";
    case MigrationStatus::kCancelled: return "cancelled";
    case MigrationStatus::kCompleted: return "completed";
    case MigrationStatus::kFailed: return "failed";
  }
  return "none";
}

MigrationManager::MigrationManager(Vm& vm, EventSink* events) : vm_(vm), events_(events) {}

// ferry's own member of query-migrate; QEMU's members keep their meaning.
const char* const MigrationManager::kStepsMember = "ferry-downtime-steps";

MigrationManager::~MigrationManager() {
  source_.reset();
  incoming_.reset();
}

void MigrationManager::emit_status(MigrationStatus s) {
  status_.store(s);
  bool events;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    events = caps_.events;
  }
  if (events && events_)
    events_->emit_event("MIGRATION", {{"status", std::string(migration_status_name(s))}});
}

void MigrationManager::emit_pass(uint32_t pass) {
  if (events_) events_->emit_event("MIGRATION_PASS", {{"pass", pass}});
}

bool MigrationManager::start(const std::string& uri, const FdResolver& fds, std::string* error,
                             BlockMigrationMode blocks) {
  const MigrationStatus s = status_.load();
  if (s == MigrationStatus::kSetup || s == MigrationStatus::kActive ||
      s == MigrationStatus::kCancelling) {
    *error = "There's a migration process in progress";
    return false;
  }
  if (incoming_active_.load() || vm_.run_state() == RunState::kInMigrate) {
    *error = "Guest is waiting for an incoming migration";
    return false;
  }
  const RunState rs = vm_.run_state();
  if (rs == RunState::kShutdown || rs == RunState::kGuestPanicked) {
    *error = "the guest has shut down; there is nothing to migrate";
    return false;
  }
  auto parsed = parse_migration_uri(uri, error);
  if (!parsed) return false;
  std::unique_ptr<Channel> opened;
  if (parsed->kind == MigrationUri::Kind::kFd) {
    opened = open_outgoing(*parsed, fds, error);
    if (!opened) return false;
  }
  vm_.set_block_migration_mode(blocks);
  source_.reset();  // the previous, finished migration
  source_ = std::make_unique<Source>(*this, *parsed, fds, std::move(opened));
  emit_status(MigrationStatus::kSetup);
  source_->start();
  return true;
}

void MigrationManager::cancel() {
  const MigrationStatus s = status_.load();
  if (!source_ || (s != MigrationStatus::kSetup && s != MigrationStatus::kActive)) return;
  emit_status(MigrationStatus::kCancelling);
  source_->cancel();
}

nlohmann::json MigrationManager::query() const {
  const MigrationStatus s = status_.load();
  nlohmann::json info = nlohmann::json::object();
  if (s == MigrationStatus::kNone) return info;
  info["status"] = std::string(migration_status_name(s));
  if (!source_) {
    // A destination: its status, why it failed, and its steps.
    std::lock_guard<std::mutex> lock(mutex_);
    if (s == MigrationStatus::kFailed && !incoming_error_.empty())
      info["error-desc"] = incoming_error_;
    if (incoming_steps_.is_array() && !incoming_steps_.empty())
      info[kStepsMember] = incoming_steps_;
    return info;
  }
  const OutgoingStats st = source_->stats();
  info["total-time"] = st.total_time_ms;
  if (s != MigrationStatus::kSetup) info["setup-time"] = st.setup_time_ms;
  if (s == MigrationStatus::kActive || s == MigrationStatus::kCancelling)
    info["expected-downtime"] = st.expected_downtime_ms;
  if (s == MigrationStatus::kCompleted) info["downtime"] = st.downtime_ms;
  if (s != MigrationStatus::kSetup)
    for (const auto& [name, counters] : st.live.items()) info[name] = counters;
  if (st.throttle_percent) info["cpu-throttle-percentage"] = st.throttle_percent;
  if (s == MigrationStatus::kFailed && !st.error.empty()) info["error-desc"] = st.error;
  if (!st.steps.empty()) info[kStepsMember] = st.steps.to_json();
  return info;
}

bool MigrationManager::start_incoming(const std::string& uri, const FdResolver& fds,
                                      IncomingDone done, std::string* error) {
  if (incoming_active_.load() || incoming_) {
    *error = "The incoming migration has already been started";
    return false;
  }
  if (vm_.run_state() != RunState::kInMigrate) {
    *error = "'-incoming' was not specified on the command line";
    return false;
  }
  auto parsed = parse_migration_uri(uri, error);
  if (!parsed) return false;
  auto endpoint = open_incoming(*parsed, fds, error);
  if (!endpoint) return false;
  incoming_active_.store(true);
  incoming_ = std::make_unique<Incoming>(*this, std::move(endpoint), std::move(done));
  incoming_->start();
  return true;
}

MigrationParameters MigrationManager::parameters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return params_;
}

MigrationCapabilities MigrationManager::capabilities() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return caps_;
}

bool MigrationManager::set_parameters(const nlohmann::json& args, std::string* error) {
  if (!args.is_object()) {
    *error = "migrate-set-parameters expects an object";
    return false;
  }
  // Each parameter: its range and where it goes.
  struct Setting {
    const char* name;
    uint64_t min, max;
    std::function<void(MigrationParameters&, uint64_t)> set;
  };
  static const Setting kSettings[] = {
      {"max-bandwidth", 0, SIZE_MAX, [](auto& p, uint64_t v) { p.max_bandwidth = v; }},
      {"downtime-limit", 0, 2000000, [](auto& p, uint64_t v) { p.downtime_limit_ms = v; }},
      {"cpu-throttle-initial", 1, 99,
       [](auto& p, uint64_t v) { p.cpu_throttle_initial = static_cast<uint32_t>(v); }},
      {"cpu-throttle-increment", 1, 99,
       [](auto& p, uint64_t v) { p.cpu_throttle_increment = static_cast<uint32_t>(v); }},
      {"max-cpu-throttle", 0, 99,
       [](auto& p, uint64_t v) { p.max_cpu_throttle = static_cast<uint32_t>(v); }},
      {"connect-timeout", 1, 3600000, [](auto& p, uint64_t v) { p.connect_timeout_ms = v; }},
      {"confirm-timeout", 1, 3600000, [](auto& p, uint64_t v) { p.confirm_timeout_ms = v; }},
      // 0: the destination waits for GO as long as it takes.
      {"handover-timeout", 0, 3600000, [](auto& p, uint64_t v) { p.handover_timeout_ms = v; }},
  };
  MigrationParameters next = parameters();
  // The announce-* schedule: parse_announce_params has QEMU's bounds.
  const nlohmann::json announce_keys = announce_params_json(next.announce, "announce-");
  nlohmann::json announce_args = nlohmann::json::object();
  for (const auto& [key, value] : args.items()) {
    if (announce_keys.contains(key)) {
      announce_args[key] = value;
      continue;
    }
    const Setting* setting = nullptr;
    for (const Setting& s : kSettings)
      if (key == s.name) setting = &s;
    if (!setting) {
      *error = "Parameter '" + key + "' is unexpected";
      return false;
    }
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<uint64_t>() < setting->min || value.get<uint64_t>() > setting->max) {
      *error = "Parameter '" + key + "' expects a number between " +
               std::to_string(setting->min) + " and " + std::to_string(setting->max);
      return false;
    }
    setting->set(next, value.get<uint64_t>());
  }
  if (!parse_announce_params(announce_args, "announce-", &next.announce, error)) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  params_ = next;
  max_bandwidth_live_.store(next.max_bandwidth);
  return true;
}

nlohmann::json MigrationManager::query_parameters() const {
  const MigrationParameters p = parameters();
  nlohmann::json out = {{"max-bandwidth", p.max_bandwidth},
          {"downtime-limit", p.downtime_limit_ms},
          {"cpu-throttle-initial", p.cpu_throttle_initial},
          {"cpu-throttle-increment", p.cpu_throttle_increment},
          {"max-cpu-throttle", p.max_cpu_throttle},
          {"connect-timeout", p.connect_timeout_ms},
          {"confirm-timeout", p.confirm_timeout_ms},
          {"handover-timeout", p.handover_timeout_ms}};
  out.update(announce_params_json(p.announce, "announce-"));
  return out;
}

bool MigrationManager::set_capabilities(const nlohmann::json& list, std::string* error) {
  const MigrationStatus s = status_.load();
  if (s == MigrationStatus::kSetup || s == MigrationStatus::kActive) {
    *error = "There's a migration process in progress";
    return false;
  }
  if (!list.is_array()) {
    *error = "Invalid parameter type for 'capabilities', expected: array";
    return false;
  }
  MigrationCapabilities next = capabilities();
  for (const auto& item : list) {
    if (!item.is_object() || !item.contains("capability") || !item["capability"].is_string() ||
        !item.contains("state") || !item["state"].is_boolean()) {
      *error = "each capability needs 'capability' (string) and 'state' (boolean)";
      return false;
    }
    const std::string name = item["capability"];
    const bool state = item["state"];
    if (name == "auto-converge") next.auto_converge = state;
    else if (name == "events") next.events = state;
    else if (name == "return-path") next.return_path = state;
    else {
      *error = "Capability '" + name + "' is not supported by ferry";
      return false;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  caps_ = next;
  return true;
}

nlohmann::json MigrationManager::query_capabilities() const {
  const MigrationCapabilities c = capabilities();
  return nlohmann::json::array({{{"capability", "auto-converge"}, {"state", c.auto_converge}},
                                {{"capability", "events"}, {"state", c.events}},
                                {{"capability", "return-path"}, {"state", c.return_path}}});
}

}  // namespace ferry
