#include "attester/evidence_configfs_tsm.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include "core/strings.h"

namespace resmeter {
namespace {

std::atomic<uint64_t> g_entry_counter{0};

// Seconds on the monotonic clock.
double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Reads a whole attribute; NotFound when it does not exist.
Result<std::string> ReadAttr(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("configfs-tsm: " + path + " does not exist");
    return Status::FromErrno("configfs-tsm: open " + path, errno);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("configfs-tsm: read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Writes an attribute in one write(2) (configfs binary attributes take the
// whole blob at once); no O_TRUNC, which configfs does not support.
Status WriteAttr(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("configfs-tsm: open " + path, errno);
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  int rc = ::close(fd);
  if (n < 0) return Status::FromErrno("configfs-tsm: write " + path, err);
  if (static_cast<size_t>(n) != data.size()) {
    return Status::IOError("configfs-tsm: short write to " + path + ": " + std::to_string(n) + " of " +
                           std::to_string(data.size()) + " bytes");
  }
  if (rc != 0) return Status::FromErrno("configfs-tsm: close " + path, errno);
  return Status::Ok();
}

// Reads `generation` as an integer.
Result<uint64_t> ReadGeneration(const std::string& entry) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, ReadAttr(entry + "/generation"));
  std::optional<uint64_t> g = ParseUint64(Trim(text));
  if (!g) return Status::Corruption("configfs-tsm: " + entry + "/generation is not a number: '" + text + "'");
  return *g;
}

// Removes the entry: rmdir, or (outside configfs) unlink its files then rmdir.
void RemoveEntry(const std::string& entry) {
  if (::rmdir(entry.c_str()) == 0 || errno == ENOENT) return;
  if (errno != ENOTEMPTY && errno != EEXIST) return;
  if (DIR* dir = ::opendir(entry.c_str())) {
    while (dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") ::unlink((entry + "/" + name).c_str());
    }
    ::closedir(dir);
  }
  ::rmdir(entry.c_str());
}

// Removes the entry when it goes out of scope.
class EntryGuard {
 public:
  explicit EntryGuard(std::string entry) : entry_(std::move(entry)) {}
  ~EntryGuard() { RemoveEntry(entry_); }
  EntryGuard(const EntryGuard&) = delete;
  EntryGuard& operator=(const EntryGuard&) = delete;

 private:
  std::string entry_;
};

// Creates a uniquely named entry; NotSupported when the root is absent.
Result<std::string> MakeEntry(const std::string& root) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotSupported("configfs-tsm: " + root + " is not a directory (no TSM report support)");
  }
  std::string entry = root + "/resmeter-" + std::to_string(::getpid()) + "-" + std::to_string(g_entry_counter++);
  if (::mkdir(entry.c_str(), 0700) != 0) return Status::FromErrno("configfs-tsm: mkdir " + entry, errno);
  return entry;
}

// Waits until `path` exists, up to `deadline`.
Status WaitFor(const std::string& path, double deadline) {
  while (::access(path.c_str(), F_OK) != 0) {
    if (Now() > deadline) return Status::DeadlineExceeded("configfs-tsm: " + path + " did not appear");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

// Reads the provider attribute of an entry.
Result<std::string> ReadProvider(const std::string& entry) {
  Result<std::string> provider = ReadAttr(entry + "/provider");
  if (!provider.ok() && provider.status().code() == Status::Code::kNotFound) {
    return Status::NotFound("configfs-tsm: " + entry + "/provider is missing (no TSM provider loaded)");
  }
  if (!provider.ok()) return provider.status();
  std::string name(Trim(*provider));
  if (name.empty()) return Status::NotFound("configfs-tsm: " + entry + "/provider is empty");
  return name;
}

}  // namespace

Result<EvidenceType> EvidenceTypeForTsmProvider(const std::string& provider) {
  if (provider == "sev_guest") return EvidenceType::kSevSnp;
  if (provider == "tdx_guest") return EvidenceType::kTdx;
  return Status::NotSupported("configfs-tsm: provider '" + provider + "' is neither sev_guest nor tdx_guest");
}

ConfigfsTsmBackend::ConfigfsTsmBackend(ConfigfsTsmOptions options) : options_(std::move(options)) {}

Result<EvidenceType> ConfigfsTsmBackend::Probe() {
  RESMETER_ASSIGN_OR_RETURN(std::string entry, MakeEntry(options_.root));
  EntryGuard guard(entry);
  RESMETER_RETURN_IF_ERROR(WaitFor(entry + "/inblob", Now() + options_.wait_seconds));
  RESMETER_ASSIGN_OR_RETURN(std::string provider, ReadProvider(entry));
  RESMETER_ASSIGN_OR_RETURN(type_, EvidenceTypeForTsmProvider(provider));
  return type_;
}

Result<nlohmann::json> ConfigfsTsmBackend::Collect(const std::string& user_data) {
  if (user_data.size() != kUserDataSize) {
    return Status::InvalidArgument("configfs-tsm: user data is " + std::to_string(user_data.size()) +
                                   " bytes, want 64");
  }
  double deadline = Now() + options_.wait_seconds;
  RESMETER_ASSIGN_OR_RETURN(std::string entry, MakeEntry(options_.root));
  EntryGuard guard(entry);
  RESMETER_RETURN_IF_ERROR(WaitFor(entry + "/inblob", deadline));
  RESMETER_ASSIGN_OR_RETURN(std::string provider, ReadProvider(entry));
  RESMETER_ASSIGN_OR_RETURN(EvidenceType type, EvidenceTypeForTsmProvider(provider));
  uint64_t writes = 0;
  if (options_.privlevel >= 0) {
    RESMETER_RETURN_IF_ERROR(WriteAttr(entry + "/privlevel", std::to_string(options_.privlevel)));
    ++writes;
  }
  RESMETER_RETURN_IF_ERROR(WriteAttr(entry + "/inblob", user_data));
  ++writes;
  // A provider answers the write by producing outblob; wait for it (bounded).
  std::string outblob;
  for (;;) {
    Result<std::string> out = ReadAttr(entry + "/outblob");
    if (out.ok() && !out->empty()) {
      outblob = std::move(out).value();
      break;
    }
    if (!out.ok() && out.status().code() != Status::Code::kNotFound) return out.status();
    if (Now() > deadline) return Status::DeadlineExceeded("configfs-tsm: " + entry + "/outblob stayed empty");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  RESMETER_ASSIGN_OR_RETURN(uint64_t generation, ReadGeneration(entry));
  if (generation != writes) {
    return Status::IOError("configfs-tsm: generation raced: " + std::to_string(generation) + " after our " +
                             std::to_string(writes) + " write(s); another writer changed " + entry);
  }
  std::string auxblob;
  if (Result<std::string> aux = ReadAttr(entry + "/auxblob"); aux.ok()) {
    auxblob = std::move(aux).value();
  } else if (aux.status().code() != Status::Code::kNotFound) {
    return aux.status();
  }
  RESMETER_ASSIGN_OR_RETURN(uint64_t generation_after, ReadGeneration(entry));
  if (generation_after != generation) {
    return Status::IOError("configfs-tsm: generation raced: " + std::to_string(generation) + " became " +
                             std::to_string(generation_after) + " while reading " + entry);
  }
  type_ = type;
  nlohmann::json j = {{"type", EvidenceTypeName(type)},
                      {"provider", provider},
                      {"user_data", HexEncode(user_data)},
                      {"auxblob", Base64Encode(auxblob)},
                      {"generation", generation}};
  j[type == EvidenceType::kSevSnp ? "report" : "quote"] = Base64Encode(outblob);
  return j;
}

}  // namespace resmeter
