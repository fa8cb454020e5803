#include "core/version.h"

#include "core/version_generated.h"

namespace resmeter {

const char* SoftwareName() { return "resmeter"; }
const char* SoftwareVersion() { return RESMETER_VERSION_STRING; }

}  // namespace resmeter
