#include "util/option_list.h"

namespace ferry {

std::vector<std::string> split_option_list(std::string_view text) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ',') {
      cur.push_back(text[i]);
    } else if (i + 1 < text.size() && text[i + 1] == ',') {  // ",," is a literal comma
      cur.push_back(',');
      ++i;
    } else {
      parts.push_back(cur);
      cur.clear();
    }
  }
  parts.push_back(cur);
  return parts;
}

bool parse_option_bool(std::string_view text, bool* out) {
  if (text == "on" || text == "yes" || text == "true" || text == "y") return *out = true, true;
  if (text == "off" || text == "no" || text == "false" || text == "n") return *out = false, true;
  return false;
}

}  // namespace ferry
