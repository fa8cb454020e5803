// The README's claim tables, generated from the declarations: one row per
// declared claim (meter, key, type, unit, meaning, policy name, metric) and
// the policy claim table (policy name, unit, qualifier, the claim it reads).
// `resmeter claims` prints them; tests/unit/declared_claims_test.cc fails
// when README.md differs, naming the claim and its readers.
// Pure functions of the registry and the policy table; thread-safe.
#pragma once

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

// The part of `text` between "<!-- BEGIN generated: NAME -->" and
// "<!-- END generated: NAME -->" lines (exclusive), or "" when absent.
std::string GeneratedSection(const std::string& text, const std::string& name);

}  // namespace resmeter
