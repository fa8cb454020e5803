// Where the usage ledger lives on disk: one directory of JSON Lines files,
// each named after the sequence number of its first statement,
// "ledger-<20-digit seq>.jsonl", so that name order is chain order and the
// newest file is the last. Pure functions plus directory reads; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/safe_dir.h"

namespace resmeter {

// "ledger-00000000000000000001.jsonl" for first_seq 1.
std::string LedgerFileName(uint64_t first_seq);
// The first sequence number encoded in a ledger file name (no directory), or
// nullopt when the name is not a ledger file name.
std::optional<uint64_t> ParseLedgerFileName(const std::string& name);
// Full paths of the ledger files in `dir`, in chain order. NotFound when the
// directory does not exist; an empty list when it holds no ledger file.
Result<std::vector<std::string>> ListLedgerFiles(const std::string& dir);
// OK when every entry of the ledger directory a writer uses (ledger files,
// LOCK, cut-*.bin) is a regular file; PermissionDenied naming the first that
// is a symbolic link or anything else (nothing is opened or changed).
Status CheckLedgerDirEntries(const SafeDir& dir);
// Expands the command-line arguments of `ledger audit`: a directory becomes
// its ledger files in order, a file stays itself. NotFound for missing paths.
Result<std::vector<std::string>> ExpandLedgerPaths(const std::vector<std::string>& paths);

}  // namespace resmeter
