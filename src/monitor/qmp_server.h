// QmpServer: QEMU's machine protocol (QMP) on a chardev (-qmp SPEC).
//
// Protocol, as QEMU speaks it (one JSON object per line, "\r\n"):
//   - on connect:  {"QMP": {"version": {"qemu": {"micro": u, "minor": m,
//                  "major": M}, "package": "ferry"}, "capabilities": ["oob"]}}
//   - until `qmp_capabilities` succeeds every other command gets
//     {"error": {"class": "CommandNotFound", "desc": "Expecting
//     capabilities negotiation with 'qmp_capabilities'"}};
//   - requests: {"execute": NAME, "arguments": {...}, "id": ANY}; replies
//     {"return": VALUE, "id": ID} or {"id": ID, "error": {"class", "desc"}},
//     the id echoed (any JSON value) when given;
//   - malformed JSON: GenericError "JSON parse error, …" and the connection
//     stays usable; a non-object: "QMP input must be a JSON object"; bad
//     members: "QMP input member 'x' is unexpected", "QMP input lacks
//     member 'execute'", …;
//   - events: {"timestamp": {"seconds": S, "microseconds": US}, "event":
//     NAME, "data": {...}} ("data" left out when empty), only to a client
//     that completed negotiation.
// Commands come from the CommandRegistry (register_monitor_commands()
// provides qmp_capabilities, which this server relies on). File
// descriptors a client passes over a UNIX socket are moved into the
// server's CommandContext as they arrive, for `getfd`.
//
// One client at a time (what the chardev delivers); negotiation restarts
// with each connection, named fds stay.
//
// Threading: construct, destroy and feed on the main (event loop) thread.
// emit_event() may be called from any thread: on the loop thread the event
// is written at once (so a STOP emitted inside `stop` precedes the reply,
// as in QEMU), elsewhere it is timestamped and posted to the loop. The
// server must be destroyed on the loop thread after every thread that may
// emit events has stopped.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chardev/chardev.h"
#include "monitor/command_context.h"
#include "monitor/command_registry.h"
#include "monitor/json_stream.h"
#include "monitor/qmp_json.h"
#include "monitor/version_info.h"
#include "util/event_loop.h"
#include "vm/vm_control.h"

namespace ferry {

class QmpServer : public EventSink {
 public:
  QmpServer(EventLoop& loop, Chardev& chardev, const CommandRegistry& registry,
            VersionInfo version = ferry_version());
  ~QmpServer() override;
  QmpServer(const QmpServer&) = delete;
  QmpServer& operator=(const QmpServer&) = delete;

  void emit_event(const std::string& name, const nlohmann::json& data) override;

  bool negotiated() const { return session().negotiated; }
  CommandContext& context() { return ctx_; }

  // The greeting line (without "\r\n").
  static std::string greeting(const VersionInfo& version);
  // Builds an event message (for tests and other event writers).
  static QmpJson make_event(const std::string& name, const QmpJson& data, int64_t seconds,
                            int64_t microseconds);

 private:
  void on_event(ChardevEvent event);
  void on_input(const uint8_t* data, size_t len);
  void handle_text(const std::string& text);
  void send(const QmpJson& message);
  void send_error(const QmpJson* id, ErrorClass cls, const std::string& desc);
  void write_event_line(const std::string& line);
  const QmpSessionState& session() const { return *ctx_.qmp_session(); }
  QmpSessionState& session() { return *ctx_.qmp_session(); }

  EventLoop& loop_;
  Chardev& chardev_;
  const CommandRegistry& registry_;
  VersionInfo version_;
  CommandContext ctx_{CommandContext::Kind::kQmp};
  JsonStreamSplitter splitter_;
  uint64_t connection_ = 0;  // bumped on every open/close
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ferry
