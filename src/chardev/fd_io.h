// Small helpers for blocking output on raw file descriptors.
//
// Pure functions; any thread (callers serialise writes to one fd).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry {

// Writes all `len` bytes to `fd`, retrying on EINTR and waiting with poll()
// when the fd is non-blocking and full. Returns false on a hard error
// (EPIPE, EBADF…); the remaining bytes are dropped.
bool write_all_fd(int fd, const uint8_t* data, size_t len);

}  // namespace ferry
