// Small OpenSSL helpers shared by the jose, evidence and report libraries.
#pragma once

#include <string>

#include "core/result.h"

namespace resmeter {

// The oldest queued OpenSSL error as text (and clears the queue); "unknown error" if none.
std::string OpenSslError();
// Drops queued OpenSSL errors (after an expected failure).
void ClearOpenSslErrors();
// ECDSA signature conversions between raw R||S (big-endian, fixed width) and DER.
Result<std::string> EcdsaRawToDer(const std::string& raw);
Result<std::string> EcdsaDerToRaw(const std::string& der, size_t field_bytes);
// SHA-256 / SHA-384 / SHA-512 of bytes, raw digests.
std::string Sha256(const std::string& data);
std::string Sha384(const std::string& data);
std::string Sha512(const std::string& data);

}  // namespace resmeter
