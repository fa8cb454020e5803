#include "core/yaml_checks.h"

#include <map>
#include <vector>

namespace resmeter {

Status CheckNoDuplicateKeys(const YAML::Node& root, const std::string& source) {
  // Iterative walk: the depth of an operator's file is yaml-cpp's concern, not our stack's.
  std::vector<YAML::Node> pending = {root};
  while (!pending.empty()) {
    const YAML::Node node = pending.back();
    pending.pop_back();
    if (node.IsMap()) {
      std::map<std::string, int> first_line;  // key -> 1-based line of its first occurrence
      for (const auto& entry : node) {
        if (entry.first.IsScalar()) {
          const int line = entry.first.Mark().line + 1;
          auto [it, inserted] = first_line.emplace(entry.first.Scalar(), line);
          if (!inserted) {
            std::string key = entry.first.Scalar().substr(0, 80);
            return Status::InvalidArgument(source + ":" + std::to_string(line) + ": duplicate key '" + key +
                                           "' (first at line " + std::to_string(it->second) + ")");
          }
        }
        pending.push_back(entry.second);
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) pending.push_back(item);
    }
  }
  return Status::Ok();
}

}  // namespace resmeter
