// QEMU's comma-separated option lists ("a,b=c,d"), where ",," stands for a
// literal comma. Used by the command line and by chardev specs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry {

// Splits at single commas; ",," becomes a ',' inside an element.
std::vector<std::string> split_option_list(std::string_view text);

// A boolean option value as QEMU reads one: on/yes/true/y or off/no/false/n.
// False (and *out untouched) for anything else.
bool parse_option_bool(std::string_view text, bool* out);

}  // namespace ferry
