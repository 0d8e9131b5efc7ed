// ImageLock: QEMU's image locking, so that two VMMs (ferry or QEMU, in any
// order) never write one image at the same time.
//
// As QEMU's file driver does, a user takes shared OFD locks on single bytes
// of the image file: byte 100 + p for each permission p it uses, byte 200 + p
// for each it does not share with others, and fails when another open file
// holds the opposite byte. Permissions: 0 consistent read, 1 write, 3 resize.
// A writer uses read and write (and resize, for formats that grow the file)
// and shares neither write nor resize; a reader uses read and does not share
// write. So two readers may share an image, a writer excludes everyone else.
//
// The locks live on a descriptor of their own, held until release() or the
// object's end.
#pragma once

#include <string>

namespace ferry {

class ImageLock {
 public:
  ImageLock() = default;
  ~ImageLock() { release(); }
  ImageLock(const ImageLock&) = delete;
  ImageLock& operator=(const ImageLock&) = delete;

  // Takes the locks for `path`; throws BlockError naming the permission and
  // the image when another process holds a conflicting one.
  void acquire(const std::string& path, bool write, bool resize);
  void release();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace ferry
