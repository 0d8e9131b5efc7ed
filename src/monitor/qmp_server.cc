#include "monitor/qmp_server.h"

#include <chrono>
#include <utility>

namespace ferry {
namespace {

constexpr char kNegotiationDesc[] = "Expecting capabilities negotiation with 'qmp_capabilities'";

// nlohmann's "[json.exception.parse_error.101] parse error at line 1, …"
// becomes "line 1, …".
std::string clean_parse_error(std::string what) {
  size_t bracket = what.find("] ");
  if (!what.empty() && what[0] == '[' && bracket != std::string::npos) what.erase(0, bracket + 2);
  static constexpr std::string_view kPrefix = "parse error at ";
  if (what.compare(0, kPrefix.size(), kPrefix) == 0) what.erase(0, kPrefix.size());
  return what;
}

}  // namespace

QmpServer::QmpServer(EventLoop& loop, Chardev& chardev, const CommandRegistry& registry,
                     VersionInfo version)
    : loop_(loop), chardev_(chardev), registry_(registry), version_(std::move(version)) {
  chardev_.set_handlers(ChardevHandlers{
      [this](const uint8_t* data, size_t len) { on_input(data, len); },
      [this](ChardevEvent event) { on_event(event); },
  });
}

QmpServer::~QmpServer() {
  *alive_ = false;
  chardev_.set_handlers({});
}

std::string QmpServer::greeting(const VersionInfo& version) {
  QmpJson qemu = QmpJson::object();
  qemu["micro"] = version.micro;
  qemu["minor"] = version.minor;
  qemu["major"] = version.major;
  QmpJson ver = QmpJson::object();
  ver["qemu"] = std::move(qemu);
  ver["package"] = version.package;
  QmpJson qmp = QmpJson::object();
  qmp["version"] = std::move(ver);
  qmp["capabilities"] = QmpJson::array({"oob"});
  QmpJson msg = QmpJson::object();
  msg["QMP"] = std::move(qmp);
  return qmp_to_json(msg);
}

QmpJson QmpServer::make_event(const std::string& name, const QmpJson& data, int64_t seconds,
                              int64_t microseconds) {
  QmpJson ts = QmpJson::object();
  ts["seconds"] = seconds;
  ts["microseconds"] = microseconds;
  QmpJson msg = QmpJson::object();
  msg["timestamp"] = std::move(ts);
  msg["event"] = name;
  bool empty = data.is_null() || (data.is_object() && data.empty());
  if (!empty) msg["data"] = data;
  return msg;
}

void QmpServer::on_event(ChardevEvent event) {
  if (event != ChardevEvent::kOpened && event != ChardevEvent::kClosed) return;
  ++connection_;
  session() = QmpSessionState{};
  splitter_.reset();
  ctx_.close_received_fds();
  if (event == ChardevEvent::kOpened) chardev_.write(greeting(version_) + "\r\n");
}

void QmpServer::on_input(const uint8_t* data, size_t len) {
  ctx_.add_received_fds(chardev_.take_received_fds());
  std::vector<JsonStreamSplitter::Piece> pieces = splitter_.feed(data, len);
  uint64_t connection = connection_;
  for (const auto& piece : pieces) {
    if (connection_ != connection) break;  // a command ended the session
    if (!piece.error.empty()) {
      send_error(nullptr, ErrorClass::kGenericError, piece.error);
    } else {
      handle_text(piece.text);
    }
  }
}

void QmpServer::handle_text(const std::string& text) {
  QmpJson req;
  try {
    req = QmpJson::parse(text);
  } catch (const QmpJson::exception& e) {
    send_error(nullptr, ErrorClass::kGenericError,
               "JSON parse error, " + clean_parse_error(e.what()));
    return;
  }
  if (!req.is_object()) {
    send_error(nullptr, ErrorClass::kGenericError, "QMP input must be a JSON object");
    return;
  }
  auto id_it = req.find("id");
  const QmpJson* id = id_it == req.end() ? nullptr : &*id_it;

  std::string name;
  bool has_exec = false;
  bool oob = false;
  QmpJson args = QmpJson::object();
  for (auto it = req.begin(); it != req.end(); ++it) {
    const std::string& key = it.key();
    if (key == "execute" || (key == "exec-oob" && session().oob_enabled)) {
      if (!it->is_string()) {
        send_error(id, ErrorClass::kGenericError, "QMP input member '" + key + "' must be a string");
        return;
      }
      if (has_exec) {
        send_error(id, ErrorClass::kGenericError,
                   "QMP input member 'execute' and 'exec-oob' are mutually exclusive");
        return;
      }
      has_exec = true;
      oob = key == "exec-oob";
      name = it->get<std::string>();
    } else if (key == "arguments") {
      if (!it->is_object()) {
        send_error(id, ErrorClass::kGenericError, "QMP input member 'arguments' must be an object");
        return;
      }
      args = *it;
    } else if (key != "id") {
      send_error(id, ErrorClass::kGenericError, "QMP input member '" + key + "' is unexpected");
      return;
    }
  }
  if (!has_exec) {
    send_error(id, ErrorClass::kGenericError, "QMP input lacks member 'execute'");
    return;
  }

  bool negotiating = !session().negotiated;
  if (negotiating && name != "qmp_capabilities") {
    send_error(id, ErrorClass::kCommandNotFound, kNegotiationDesc);
    return;
  }
  if (oob) {
    const QmpCommand* cmd = registry_.find(name);
    if (cmd && !cmd->options.allow_oob) {
      send_error(id, ErrorClass::kGenericError, "The command " + name + " does not support OOB");
      return;
    }
  }

  CommandResult result = registry_.execute(name, args, ctx_);
  if (!result.ok()) {
    std::string desc = result.error().desc;
    if (negotiating && result.error().cls == ErrorClass::kCommandNotFound) {
      desc = kNegotiationDesc;
    }
    send_error(id, result.error().cls, desc);
    return;
  }
  QmpJson reply = QmpJson::object();
  reply["return"] = result.value();
  if (id) reply["id"] = *id;
  send(reply);
}

void QmpServer::send(const QmpJson& message) {
  chardev_.write(qmp_to_json(message) + "\r\n");
}

void QmpServer::send_error(const QmpJson* id, ErrorClass cls, const std::string& desc) {
  QmpJson err = QmpJson::object();
  err["class"] = std::string(error_class_name(cls));
  err["desc"] = desc;
  QmpJson reply = QmpJson::object();
  if (id) reply["id"] = *id;
  reply["error"] = std::move(err);
  send(reply);
}

void QmpServer::write_event_line(const std::string& line) {
  if (!session().negotiated || !chardev_.is_open()) return;
  chardev_.write(line);
}

void QmpServer::emit_event(const std::string& name, const nlohmann::json& data) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  std::string line = qmp_to_json(make_event(name, QmpJson(data), us / 1000000, us % 1000000)) +
                     "\r\n";
  if (loop_.in_loop_thread()) {
    write_event_line(line);
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  loop_.post([this, alive, line = std::move(line)] {
    auto token = alive.lock();
    if (!token || !*token) return;
    write_event_line(line);
  });
}

}  // namespace ferry
