// exec: channels: the stream goes to (source) or comes from (destination) a
// child process running `/bin/sh -c COMMAND`, in its own process group.
//
// With a return path (the `return-path` capability on the source) the
// child's stdout is read back, as QEMU does: the command is then a relay to
// the destination (e.g. `exec:ssh host nc dst 4444`). shutdown() kills the
// whole process group, so a child that stopped reading or writing can never
// block a cancel.
#pragma once

#include <memory>
#include <string>

#include "migration/channel.h"

namespace ferry {

enum class ExecDirection {
  kToChild,        // source: the child's stdin
  kFromChild,      // destination: the child's stdout
  kBoth,           // source with a return path: stdin, and stdout read back
};

// nullptr with *error when the child can't be started.
std::unique_ptr<Channel> spawn_exec(const std::string& command, ExecDirection direction,
                                    std::string* error);

}  // namespace ferry
