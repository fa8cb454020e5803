// base64url without padding (RFC 4648 section 5), as JOSE uses it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace resmeter {

std::string Base64UrlEncode(std::string_view bytes);
// Decodes unpadded base64url; nullopt on any character outside the alphabet,
// on padding, or on an impossible length.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace resmeter
