// Shared by the fuzz targets: the fixed test key the seed corpora are signed
// with (tests/fuzz/fuzz-key.jwk, written by make_fuzz_corpus), a sink for
// printed output, and the verification time the corpora are valid at.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <streambuf>

#include "jose/jwk.h"

namespace resmeter::fuzz {

// Reports in the corpora are issued at this time with an hour of validity.
inline constexpr double kCorpusNowUnixSeconds = 1'800'000'000 + 60;
// The nonce the challenged reports and identity documents in the corpora carry.
inline constexpr const char* kCorpusNonceHex = "00112233445566778899aabbccddeeff";

// The public half of the corpus key. Aborts when the file is missing: a
// broken checkout, not a finding.
inline const PublicKey& CorpusPublicKey() {
  static const std::shared_ptr<const PublicKey> key = [] {
    std::ifstream f(RESMETER_FUZZ_DIR "/fuzz-key.jwk");
    nlohmann::json jwk = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
    auto k = PublicKey::FromJwk(jwk);
    if (!k.ok()) {
      std::fprintf(stderr, "fuzz: cannot load %s: %s\n", RESMETER_FUZZ_DIR "/fuzz-key.jwk",
                   k.status().message().c_str());
      std::abort();
    }
    return *k;
  }();
  return *key;
}

// An ostream that discards everything (printing is exercised, not kept).
class NullStream : public std::ostream {
 public:
  NullStream() : std::ostream(&buf_) {}

 private:
  struct NullBuf : std::streambuf {
    int overflow(int c) override { return c; }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  } buf_;
};

}  // namespace resmeter::fuzz
