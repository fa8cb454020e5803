#include "ledger/ledger_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ledger/ledger_files.h"
#include "ledger/ledger_reader.h"
#include "ledger/ledger_statement.h"

namespace resmeter {
namespace {

constexpr size_t kScanChunkBytes = 1 << 20;   // Build/Extend read this much at a time
constexpr size_t kReadChunkBytes = 64 << 10;  // Read reads this much at a time

// Reads up to n bytes at `offset` into buf; returns how many (0 at the end).
Result<size_t> PreadSome(int fd, const std::string& display, uint64_t offset, char* buf, size_t n) {
  for (;;) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::FromErrno("cannot read " + display, errno);
    return static_cast<size_t>(r);
  }
}

// True when the line starting at out[begin] (up to its newline) parses and has seq `want`.
bool LineHasSeq(const std::string& out, size_t begin, uint64_t want) {
  const size_t nl = out.find('\n', begin);
  auto parsed = ParseLedgerLine(std::string_view(out).substr(begin, nl - begin));
  return parsed.ok() && parsed->seq == want;
}

}  // namespace

Status LedgerIndex::Scan(const SafeDir& dir, State* s) {
  RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> names, dir.List());
  std::vector<File> on_disk;
  for (auto& name : names) {
    if (auto seq = ParseLedgerFileName(name)) on_disk.push_back({std::move(name), *seq});
  }
  std::sort(on_disk.begin(), on_disk.end(),
            [](const File& a, const File& b) { return a.first_seq < b.first_seq; });
  if (on_disk.empty()) return Status::Ok();
  if (s->files.empty()) {
    s->files.push_back(on_disk.front());
    s->scan_offset = 0;
    s->scan_seq = on_disk.front().first_seq;
  }
  std::string buf(kScanChunkBytes, '\0');
  for (;;) {
    const size_t fi = s->files.size() - 1;
    const File cur = s->files.back();
    RESMETER_ASSIGN_OR_RETURN(UniqueFd fd, dir.OpenFileAt(cur.name, O_RDONLY));
    // Count the complete lines after the frontier; a torn tail stays unscanned.
    for (uint64_t pos = s->scan_offset;;) {
      RESMETER_ASSIGN_OR_RETURN(size_t n,
                                PreadSome(fd.get(), dir.PathOf(cur.name), pos, buf.data(), buf.size()));
      if (n == 0) break;
      const char* p = buf.data();
      const char* end = p + n;
      while (const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
        const char* nl = static_cast<const char*>(hit);
        if (s->scan_offset == 0 || s->scan_seq % kStride == 0)
          s->marks.push_back({s->scan_seq, fi, s->scan_offset});
        ++s->scan_seq;
        s->scan_offset = pos + static_cast<uint64_t>(nl - buf.data()) + 1;
        p = nl + 1;
      }
      pos += n;
    }
    auto next = std::upper_bound(on_disk.begin(), on_disk.end(), cur.first_seq,
                                 [](uint64_t seq, const File& f) { return seq < f.first_seq; });
    if (next == on_disk.end()) return Status::Ok();
    s->files.push_back(*next);  // a rotation: the next file starts at the seq in its name
    s->scan_offset = 0;
    s->scan_seq = next->first_seq;
  }
}

Status LedgerIndex::Build(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    path_ = dir;
  }
  RESMETER_ASSIGN_OR_RETURN(SafeDir opened, SafeDir::Open(dir, 0));
  auto shared = std::make_shared<const SafeDir>(std::move(opened));
  State fresh;
  RESMETER_RETURN_IF_ERROR(Scan(*shared, &fresh));
  std::lock_guard<std::mutex> lock(mu_);
  dir_ = std::move(shared);
  state_ = std::move(fresh);
  stale_ = false;
  return Status::Ok();
}

Status LedgerIndex::Extend() {
  std::shared_ptr<const SafeDir> dir;
  State s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dir_) return Status::InvalidArgument("ledger index of " + path_ + " was not built");
    dir = dir_;
    s = state_;  // only this (the writer's) thread changes state_, so nothing is lost
  }
  RESMETER_RETURN_IF_ERROR(Scan(*dir, &s));
  std::lock_guard<std::mutex> lock(mu_);
  state_ = std::move(s);
  return Status::Ok();
}

size_t LedgerIndex::marks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.marks.size();
}

Result<std::string> LedgerIndex::Read(uint64_t from, size_t max_lines) const {
  std::shared_ptr<const SafeDir> dir;
  std::vector<File> files;
  Mark start;
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dir = dir_;
    path = path_;
    files = state_.files;
    const auto& marks = state_.marks;
    if (from >= state_.scan_seq || marks.empty()) {
      start = {state_.scan_seq, files.empty() ? 0 : files.size() - 1, state_.scan_offset};
    } else {
      auto it = std::upper_bound(marks.begin(), marks.end(), from,
                                 [](uint64_t seq, const Mark& m) { return seq < m.seq; });
      start = it == marks.begin() ? marks.front() : *(it - 1);
    }
  }
  // The full scan: before a Build, and whenever the files disagree with the index.
  auto scan = [&]() -> Result<std::string> {
    RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> paths, ListLedgerFiles(path));
    return ScanLedgerLines(paths, from, max_lines);
  };
  if (!dir) return scan();
  std::string out;
  size_t served = 0, first_begin = 0, last_begin = 0;
  uint64_t first_seq = 0, last_seq = 0;
  std::string buf;
  for (size_t fi = start.file; fi < files.size() && served < max_lines; ++fi) {
    uint64_t pos = fi == start.file ? start.offset : 0;
    uint64_t seq = fi == start.file ? start.seq : files[fi].first_seq;
    auto file = dir->OpenFileAt(files[fi].name, O_RDONLY);
    if (!file.ok()) {
      stale_ = true;
      return scan();
    }
    buf.clear();
    size_t consumed = 0;
    bool eof = false;
    while (served < max_lines) {
      const size_t nl = buf.find('\n', consumed);
      if (nl == std::string::npos) {
        if (eof) break;                                     // a torn or in-progress last line is not served
        if (buf.size() - consumed > kMaxLedgerLineBytes) {  // no statement is that long
          stale_ = true;
          return scan();
        }
        buf.erase(0, consumed);
        consumed = 0;
        const size_t had = buf.size();
        buf.resize(had + kReadChunkBytes);
        RESMETER_ASSIGN_OR_RETURN(size_t n, PreadSome(file->get(), dir->PathOf(files[fi].name), pos,
                                                      buf.data() + had, kReadChunkBytes));
        buf.resize(had + n);
        pos += n;
        eof = n == 0;
        continue;
      }
      if (seq >= from) {
        if (served == 0) {
          first_begin = out.size();
          first_seq = seq;
        }
        last_begin = out.size();
        last_seq = seq;
        out.append(buf, consumed, nl + 1 - consumed);
        ++served;
      }
      ++seq;
      consumed = nl + 1;
    }
  }
  if (served > 0 && (!LineHasSeq(out, first_begin, first_seq) || !LineHasSeq(out, last_begin, last_seq))) {
    stale_ = true;
    return scan();
  }
  return out;
}

Result<std::string> ScanLedgerLines(const std::vector<std::string>& paths, uint64_t from, size_t max_lines) {
  // Skip files that end before `from`: a file's statements precede the next file's first seq.
  std::vector<std::string> wanted;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i + 1 < paths.size()) {
      const std::string& next = paths[i + 1];
      auto first_next = ParseLedgerFileName(next.substr(next.rfind('/') + 1));
      if (first_next && *first_next <= from) continue;
    }
    wanted.push_back(paths[i]);
  }
  LedgerReader reader(wanted);
  std::string out;
  size_t lines = 0;
  LedgerLine line;
  while (lines < max_lines) {
    RESMETER_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
    if (!more) break;
    if (!line.complete || line.too_long) continue;  // an append in progress, or not ours to serve
    auto st = ParseLedgerLine(line.text);
    if (!st.ok() || st->seq < from) continue;
    out.append(line.text);
    out.push_back('\n');
    ++lines;
  }
  return out;
}

}  // namespace resmeter
