// The common name (CN) of an X.509 subject or issuer printed in RFC 2253 form
// ("CN=tsa.example,O=Example"), as OpenSSL's XN_FLAG_RFC2253 writes it: the
// policy's NTS certificate pins and the TSA name lists both match on it.
// Pure string function; thread-safe.
#pragma once

#include <string>

namespace resmeter {

// The first CN= value, with RFC 2253 escapes ("\,") left as they are; "" when none.
std::string Rfc2253CommonName(const std::string& subject);

}  // namespace resmeter
