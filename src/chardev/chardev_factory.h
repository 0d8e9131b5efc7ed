// create_chardev: builds the host chardev a ChardevSpec describes.
//
// Returns the backend for stdio, null, none (a NullChardev), file:, unix:
// and tcp:. The "mon:" prefix is the caller's business: wrap the result in
// a MuxChardev (HostIo does). Socket servers that wait for their first
// client block here, as QEMU does at startup.
//
// Threading: main thread (it registers fds with the EventLoop).
#pragma once

#include <memory>
#include <string>

#include "chardev/chardev.h"
#include "chardev/chardev_spec.h"
#include "chardev/stdio_chardev.h"
#include "util/event_loop.h"

namespace ferry {

// Returns nullptr and sets `*error` (naming the spec) on failure. `stdio`
// configures a stdio backend (fds, signals).
std::unique_ptr<Chardev> create_chardev(const ChardevSpec& spec, EventLoop& loop,
                                        const StdioOptions& stdio, std::string* error);

}  // namespace ferry
