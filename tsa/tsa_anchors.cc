#include "tsa/tsa_anchors.h"

#include <openssl/pem.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tsa/openssl_handles.h"

namespace resmeter {

namespace {
// A bound on anchor files: they are the buyer's, but read before anything is verified.
constexpr uintmax_t kMaxAnchorFileBytes = 1024 * 1024;
}  // namespace

Result<TsaAnchors> TsaAnchors::FromPem(const std::string& pem, const std::string& what) {
  TsaAnchors out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::IOError(what + ": out of memory");
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.certs_.emplace_back(cert, [](void* p) { X509_free(static_cast<X509*>(p)); });
  }
  // The loop ends on "no start line" at the end of the text; anything else is a bad certificate.
  unsigned long err = ERR_peek_last_error();
  const bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (!clean_end && err != 0) return Status::Corruption(what + ": bad certificate: " + TakeOpenSslError());
  ERR_clear_error();
  if (out.certs_.empty()) return Status::Corruption(what + ": no PEM certificate");
  out.source_ = what;
  return out;
}

Result<TsaAnchors> TsaAnchors::LoadDir(const std::string& dir) {
  namespace fs = std::filesystem;
  TsaAnchors out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    out.source_ = dir + " (missing)";
    return out;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".pem") files.push_back(entry.path());
  }
  if (ec) return Status::IOError(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const uintmax_t size = fs::file_size(file, ec);
    if (ec || size > kMaxAnchorFileBytes)
      return Status::IOError(file.string() + ": unreadable or over 1 MiB");
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return Status::IOError(file.string() + ": cannot read");
    RESMETER_ASSIGN_OR_RETURN(TsaAnchors one, FromPem(text.str(), file.string()));
    out.Add(one);
  }
  if (out.source_.empty()) out.source_ = dir + " (no .pem files)";
  return out;
}

void TsaAnchors::Add(const TsaAnchors& other) {
  certs_.insert(certs_.end(), other.certs_.begin(), other.certs_.end());
  if (!other.source_.empty()) source_ += (source_.empty() ? "" : ", ") + other.source_;
}

}  // namespace resmeter
