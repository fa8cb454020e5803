// The README's claim tables, generated from the declarations: one row per
// declared claim (meter, key, type, unit, meaning, policy name, metric) and
// the policy claim table (policy name, unit, qualifier, the claim it reads).
// `resmeter claims` prints them; tests/unit/declared_claims_test.cc fails
// when README.md differs, naming the claim and its readers.
// Pure functions of the registry and the policy table; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "claims/claim_spec.h"

namespace resmeter {

// Markdown table of every meter's declared claims, in registry order.
std::string RenderMeterClaimTable();
// Markdown table of the policy claims (README "Policies").
std::string RenderPolicyClaimTable();

// Who reads a declared claim: "policy cpu.vcpus", "metric resmeter_...",
// "usage accountant" (empty when nobody but the report does).
std::vector<std::string> ClaimReaders(const ClaimSpec& spec);
// "cpu.topology vcpus (read by policy cpu.vcpus, metric resmeter_cpu_topology_vcpus)".
std::string DescribeClaim(const ClaimSpec& spec);

// Why `claims` (one run of `meter`) does not match its declarations, one
// line per problem, or "" when it does. An undeclared key (a rename that
// bypassed the declaration) also lists the declared claims with readers
// that the run did not emit, with those readers:
//   "cpu.topology: undeclared claim vcpu_count; declared but not emitted:
//    cpu.topology vcpus (read by policy cpu.vcpus, metric resmeter_cpu_topology_vcpus)"
std::string ExplainClaims(const std::string& meter, const nlohmann::json& claims);

// The part of `text` between "<!-- BEGIN generated: NAME -->" and
// "<!-- END generated: NAME -->" lines (exclusive), or "" when absent.
std::string GeneratedSection(const std::string& text, const std::string& name);

}  // namespace resmeter
