// Reading and writing the control files of a cgroup that an integration test
// makes for itself (cpu quota, block-device throttle). Test support only.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace resmeter {

// Writes `value` to the control file `path`; false when the kernel refuses it.
inline bool WriteCgroupFile(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

// The whole content of a (control or text) file; "" when unreadable.
inline std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace resmeter
