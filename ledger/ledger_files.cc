#include "ledger/ledger_files.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "core/strings.h"

namespace resmeter {
namespace {
constexpr std::string_view kPrefix = "ledger-";
constexpr std::string_view kSuffix = ".jsonl";
constexpr size_t kDigits = 20;
}  // namespace

std::string LedgerFileName(uint64_t first_seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "ledger-%020llu.jsonl", static_cast<unsigned long long>(first_seq));
  return buf;
}

std::optional<uint64_t> ParseLedgerFileName(const std::string& name) {
  if (name.size() != kPrefix.size() + kDigits + kSuffix.size() || !StartsWith(name, kPrefix) || !EndsWith(name, kSuffix)) {
    return std::nullopt;
  }
  const std::string digits = name.substr(kPrefix.size(), kDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return ParseUint64(digits);
}

Result<std::vector<std::string>> ListLedgerFiles(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return Status::NotFound("ledger directory " + dir + " does not exist");
    return Status::FromErrno("cannot list ledger directory " + dir, errno);
  }
  std::vector<std::pair<uint64_t, std::string>> found;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (auto seq = ParseLedgerFileName(name)) found.emplace_back(*seq, dir + "/" + name);
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

Status CheckLedgerDirEntries(const SafeDir& dir) {
  RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> names, dir.List());
  for (const std::string& name : names) {
    if (!ParseLedgerFileName(name) && name != "LOCK" && !(StartsWith(name, "cut-") && EndsWith(name, ".bin")))
      continue;
    RESMETER_ASSIGN_OR_RETURN(struct stat st, dir.StatAt(name));
    if (S_ISLNK(st.st_mode)) {
      return Status::PermissionDenied(
          "ledger file " + dir.PathOf(name) +
          " is a symbolic link; refusing the ledger (its target is left untouched)");
    }
    if (!S_ISREG(st.st_mode))
      return Status::PermissionDenied("ledger file " + dir.PathOf(name) +
                                      " is not a regular file; refusing the ledger");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ExpandLedgerPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) return Status::NotFound(p + ": no such file or directory");
    if (S_ISDIR(st.st_mode)) {
      RESMETER_ASSIGN_OR_RETURN(auto files, ListLedgerFiles(p));
      if (files.empty()) return Status::NotFound(p + ": no ledger-*.jsonl files");
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace resmeter
