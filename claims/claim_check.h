// Checks a meter's claims object against its declarations: every key (and
// every member of a list claim whose members are declared) must be an
// instance of a declared key, with the declared JSON type. Used by the tests
// that run meters (tests/unit/declared_claims_test.cc, the golden probe
// test); a meter writing a key it did not declare fails them by name.
// Pure function; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "claims/claim_spec.h"

namespace resmeter {

// One line per problem ("undeclared claim vcpu_count", "claim vcpus is a
// string, declared integer"); empty when the claims match the declarations.
std::vector<std::string> CheckClaimsAgainstDeclarations(std::span<const ClaimSpec* const> specs,
                                                        const nlohmann::json& claims);

}  // namespace resmeter
