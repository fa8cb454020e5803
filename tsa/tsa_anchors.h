// TsaAnchors: the certificates a buyer trusts to sign time-stamp tokens,
// loaded from PEM (`<trust_anchors_dir>/tsa/*.pem`, or PEM text from a
// policy). Any certificate may be an anchor: a TSA root, an intermediate, or
// the TSA's own certificate (partial chains are accepted, so pinning one TSA
// is possible). Immutable after loading; copies share the certificates;
// thread-safe to read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

class TsaAnchors {
 public:
  TsaAnchors() = default;

  // Every certificate in every *.pem file of `dir` (name order). A missing
  // directory yields no anchors (every token then fails its chain check);
  // IOError for an unreadable file, Corruption for a file without a
  // certificate or with a bad one, naming the file.
  static Result<TsaAnchors> LoadDir(const std::string& dir);
  // Every certificate of PEM text; Corruption when there is none.
  static Result<TsaAnchors> FromPem(const std::string& pem, const std::string& what);

  // Appends the certificates of `other`.
  void Add(const TsaAnchors& other);
  bool empty() const { return certs_.empty(); }
  size_t size() const { return certs_.size(); }
  // Opaque X509* values (OpenSSL), kept alive by this object.
  const std::vector<std::shared_ptr<void>>& certs() const { return certs_; }
  // Where they came from, for messages ("anchors/tsa/root.pem, ...").
  const std::string& source() const { return source_; }

 private:
  std::vector<std::shared_ptr<void>> certs_;
  std::string source_;
};

}  // namespace resmeter
