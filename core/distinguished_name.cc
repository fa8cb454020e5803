#include "core/distinguished_name.h"

#include <algorithm>

namespace resmeter {

std::string Rfc2253CommonName(const std::string& subject) {
  size_t at = 0;
  while (at < subject.size()) {
    size_t end = at;
    // A backslash escapes the next character, so "\," does not end the RDN.
    while (end < subject.size() && subject[end] != ',') end += subject[end] == '\\' ? 2 : 1;
    end = std::min(end, subject.size());
    if (subject.compare(at, 3, "CN=") == 0) return subject.substr(at + 3, end - at - 3);
    at = end + 1;
  }
  return "";
}

}  // namespace resmeter
