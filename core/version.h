// The software name and version signed into every report (swname, swversion).
#pragma once

namespace resmeter {

const char* SoftwareName();     // "resmeter"
const char* SoftwareVersion();  // the CMake project version, e.g. "0.1.0"

}  // namespace resmeter
