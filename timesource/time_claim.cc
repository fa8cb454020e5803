#include "timesource/time_claim.h"

namespace resmeter {

nlohmann::json CurrentTimeClaim(const Options&, double wall_seconds) {
  return {{"source", "system-clock"},
          {"wall_unix_seconds", wall_seconds},
          {"synchronized", nullptr},
          {"nts_authenticated", false},
          {"trusted", false},
          {"reason", "no trusted time source consulted: this build reads the system clock only"}};
}

}  // namespace resmeter
