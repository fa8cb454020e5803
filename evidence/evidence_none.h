// NoneBackend: development mode, when no TEE evidence can be (or is
// configured to be) collected. Its evidence says so, with the reason, and is
// never trusted by the default verification policy. Stateless; thread-safe.
#pragma once

#include <string>

#include "evidence/evidence.h"

namespace resmeter {

class NoneBackend : public EvidenceBackend {
 public:
  explicit NoneBackend(std::string reason) : reason_(std::move(reason)) {}
  EvidenceType type() const override { return EvidenceType::kNone; }
  // {"type": "none", "user_data": hex, "trusted": false, "reason": ...}.
  Result<nlohmann::json> Collect(const std::string& user_data) override;
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

}  // namespace resmeter
