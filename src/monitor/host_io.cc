#include "monitor/host_io.h"

#include "chardev/chardev_factory.h"
#include "chardev/chardev_spec.h"

namespace ferry {
namespace {

std::unique_ptr<Chardev> open_spec(const std::string& text, EventLoop& loop,
                                   const StdioOptions& stdio, ChardevSpec* spec,
                                   std::string* error) {
  std::string why;
  std::optional<ChardevSpec> parsed = parse_chardev_spec(text, &why);
  if (!parsed) {
    *error = why;
    return nullptr;
  }
  *spec = *parsed;
  if (spec->kind == ChardevSpec::Kind::kNone) return nullptr;
  return create_chardev(*spec, loop, stdio, error);
}

}  // namespace

std::unique_ptr<HostIo> HostIo::create(const VmConfig& config, EventLoop& loop,
                                       const CommandRegistry& registry, std::string* error,
                                       StdioOptions stdio) {
  stdio.allow_signals = !config.nographic;
  std::unique_ptr<HostIo> io(new HostIo());
  error->clear();

  // Serial console (maybe shared with a monitor).
  ChardevSpec spec;
  std::string serial_text = config.serial.empty() ? "none" : config.serial;
  std::unique_ptr<Chardev> serial_backend = open_spec(serial_text, loop, stdio, &spec, error);
  if (!error->empty()) return nullptr;
  Chardev* serial_chr = nullptr;
  if (serial_backend && spec.mux) {
    io->mux_ = std::make_unique<MuxChardev>(std::move(serial_backend));
    serial_chr = &io->mux_->add_frontend();
    Chardev& monitor_side = io->mux_->add_frontend();
    io->monitors_.push_back(std::make_unique<HumanMonitor>(monitor_side, registry));
    HostIo* self = io.get();
    io->mux_->set_quit_handler([self] {
      if (self->quit_handler_) self->quit_handler_();
    });
  } else {
    io->serial_chardev_ = std::move(serial_backend);
    serial_chr = io->serial_chardev_.get();
  }
  io->serial_ = std::make_unique<SerialConsole>(serial_chr);

  // A separate human monitor.
  if (!config.monitor.empty() && config.monitor != "none") {
    io->monitor_chardev_ = open_spec(config.monitor, loop, stdio, &spec, error);
    if (!error->empty()) return nullptr;
    if (io->monitor_chardev_) {
      io->monitors_.push_back(std::make_unique<HumanMonitor>(*io->monitor_chardev_, registry));
    }
  }

  // QMP servers.
  for (const std::string& text : config.qmp) {
    std::unique_ptr<Chardev> chr = open_spec(text, loop, stdio, &spec, error);
    if (!error->empty()) return nullptr;
    if (!chr) continue;  // "none"
    io->qmp_.push_back(std::make_unique<QmpServer>(loop, *chr, registry));
    io->events_.add(io->qmp_.back().get());
    io->qmp_chardevs_.push_back(std::move(chr));
  }
  return io;
}

HostIo::~HostIo() {
  flush();
  for (auto& server : qmp_) events_.remove(server.get());
}

void HostIo::set_serial_input(std::function<void(const uint8_t* data, size_t len)> handler) {
  serial_->set_input_handler(std::move(handler));
}

void HostIo::flush() {
  if (serial_) serial_->flush();
  if (serial_chardev_) serial_chardev_->flush_output();
  if (mux_) mux_->backend().flush_output();
  if (monitor_chardev_) monitor_chardev_->flush_output();
  for (auto& chr : qmp_chardevs_) chr->flush_output();
}

}  // namespace ferry
