#include "core/yaml_checks.h"

#include <map>
#include <set>
#include <vector>

namespace resmeter {

Status CheckNoDuplicateKeys(const YAML::Node& root, const std::string& source) {
  // Iterative walk: the depth of an operator's file is yaml-cpp's concern, not our stack's.
  // Each node of the text is visited once: an alias (*a) refers to a node already
  // seen at the same source position, so "billion laughs" input stays linear.
  std::vector<YAML::Node> pending = {root};
  std::set<int> visited;  // source positions of the collections already walked
  while (!pending.empty()) {
    const YAML::Node node = pending.back();
    pending.pop_back();
    if ((node.IsMap() || node.IsSequence()) && !visited.insert(node.Mark().pos).second) continue;
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
