#include "evidence/evidence_none.h"

#include "core/strings.h"

namespace resmeter {

Result<nlohmann::json> NoneBackend::Collect(const std::string& user_data) {
  return nlohmann::json{{"type", "none"},
                        {"user_data", HexEncode(user_data)},
                        {"trusted", false},
                        {"reason", "development mode: " + reason_}};
}

}  // namespace resmeter
