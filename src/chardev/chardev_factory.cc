#include "chardev/chardev_factory.h"

#include "chardev/file_chardev.h"
#include "chardev/null_chardev.h"
#include "chardev/socket_chardev.h"

namespace ferry {

std::unique_ptr<Chardev> create_chardev(const ChardevSpec& spec, EventLoop& loop,
                                        const StdioOptions& stdio, std::string* error) {
  std::string why;
  std::unique_ptr<Chardev> chr;
  switch (spec.kind) {
    case ChardevSpec::Kind::kNone:
    case ChardevSpec::Kind::kNull:
      return std::make_unique<NullChardev>();
    case ChardevSpec::Kind::kStdio:
      return std::make_unique<StdioChardev>(loop, stdio);
    case ChardevSpec::Kind::kFile:
      chr = FileChardev::open(spec.path, &why);
      break;
    case ChardevSpec::Kind::kUnix:
    case ChardevSpec::Kind::kTcp:
      chr = SocketChardev::create(loop, spec, &why);
      break;
  }
  if (!chr) *error = "chardev '" + spec.text + "': " + why;
  return chr;
}

}  // namespace ferry
