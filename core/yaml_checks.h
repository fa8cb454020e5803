// Checks on a parsed YAML document that yaml-cpp does not make itself.
//
// yaml-cpp keeps both entries of a mapping that names a key twice and
// answers lookups with the first, so "a: 1 ... a: 2" silently means a: 1.
// Every loader of operator-written YAML (agent config, policy, web config)
// calls CheckNoDuplicateKeys right after YAML::Load. Pure and thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "core/status.h"

namespace resmeter {

// InvalidArgument "SOURCE:LINE: duplicate key 'x' (first at line N)" for the
// first mapping, at any depth, that has two equal scalar keys; Ok otherwise.
Status CheckNoDuplicateKeys(const YAML::Node& root, const std::string& source);

}  // namespace resmeter
