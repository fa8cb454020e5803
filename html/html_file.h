// Writing a page: to a temporary file beside the target, then rename(2), so
// a reader never sees half a page. "-" writes to standard output.
#pragma once

#include <string>

#include "core/status.h"

namespace resmeter::html {

Status WriteHtmlFile(const std::string& path, const std::string& text);

}  // namespace resmeter::html
