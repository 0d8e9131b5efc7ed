#include "chardev/mux_chardev.h"

#include <utility>

namespace ferry {

class MuxChardev::Frontend : public Chardev {
 public:
  Frontend(MuxChardev& mux, size_t index) : mux_(mux), index_(index) {}

  void write(const uint8_t* data, size_t len) override { mux_.backend_->write(data, len); }
  using Chardev::write;
  void flush_output() override { mux_.backend_->flush_output(); }
  bool is_open() const override { return mux_.backend_->is_open(); }
  bool is_tty() const override { return mux_.backend_->is_tty(); }
  bool has_focus() const override { return mux_.focus_ == index_; }
  std::vector<int> take_received_fds() override {
    if (!has_focus()) return {};
    return mux_.backend_->take_received_fds();
  }
  void disconnect() override { mux_.backend_->disconnect(); }
  std::string label() const override { return "mon:" + mux_.backend_->label(); }

  void push_input(const uint8_t* data, size_t len) { deliver_input(data, len); }
  void push_event(ChardevEvent event) { deliver_event(event); }

 private:
  MuxChardev& mux_;
  size_t index_;
};

MuxChardev::MuxChardev(std::unique_ptr<Chardev> backend) : backend_(std::move(backend)) {
  backend_->set_handlers(ChardevHandlers{
      [this](const uint8_t* data, size_t len) { handle_input(data, len); },
      [this](ChardevEvent event) { on_backend_event(event); },
  });
}

MuxChardev::~MuxChardev() { backend_->set_handlers({}); }

Chardev& MuxChardev::add_frontend() {
  frontends_.push_back(std::make_unique<Frontend>(*this, frontends_.size()));
  return *frontends_.back();
}

Chardev& MuxChardev::frontend(size_t index) { return *frontends_.at(index); }

void MuxChardev::set_focus(size_t index) {
  if (index >= frontends_.size() || index == focus_) return;
  size_t old = focus_;
  focus_ = index;
  if (old < frontends_.size()) frontends_[old]->push_event(ChardevEvent::kFocusOut);
  frontends_[focus_]->push_event(ChardevEvent::kFocusIn);
}

void MuxChardev::on_backend_event(ChardevEvent event) {
  if (event != ChardevEvent::kOpened && event != ChardevEvent::kClosed) return;
  for (auto& frontend : frontends_) frontend->push_event(event);
}

void MuxChardev::print_help() {
  backend_->write(
      "\r\n"
      "C-a h    print this help\r\n"
      "C-a x    exit emulator\r\n"
      "C-a c    switch between console and monitor\r\n"
      "C-a C-a  sends C-a\r\n");
}

void MuxChardev::handle_input(const uint8_t* data, size_t len) {
  // Plain bytes are passed on in runs; escapes split the runs.
  size_t run_start = 0;
  auto flush_run = [&](size_t end) {
    if (end > run_start && focus_ < frontends_.size()) {
      frontends_[focus_]->push_input(data + run_start, end - run_start);
    }
  };
  for (size_t i = 0; i < len; ++i) {
    uint8_t ch = data[i];
    if (escape_pending_) {
      escape_pending_ = false;
      run_start = i + 1;
      switch (ch) {
        case kEscapeChar:
          if (focus_ < frontends_.size()) frontends_[focus_]->push_input(&ch, 1);
          break;
        case 'h':
        case '?':
          print_help();
          break;
        case 'x':
          backend_->write("ferry: terminated\r\n");
          if (quit_handler_) quit_handler_();
          break;
        case 'c':
          if (!frontends_.empty()) set_focus((focus_ + 1) % frontends_.size());
          break;
        default:
          break;  // unknown escapes are dropped
      }
    } else if (ch == kEscapeChar) {
      flush_run(i);
      escape_pending_ = true;
      run_start = i + 1;
    }
  }
  flush_run(len);
}

}  // namespace ferry
