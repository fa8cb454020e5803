// Recorded chronyd conversations for tests: a transport that records every
// request/reply pair to a directory, and one that replays such a directory.
//
// Layout of a recording directory: NN-CMD.req and NN-CMD.rpy per exchange
// (NN from 00, CMD the request code), raw bytes as sent and received.
// Replay checks that each request equals the recorded one except for the
// sequence number (bytes 8..11) and the attempt (bytes 6..7), and patches the
// request's sequence number into the recorded reply (bytes 16..19).
//
// Header-only; thread-compatible.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "timesource/chrony_client.h"

namespace resmeter::testing {

// Reads a whole file ("" when missing).
inline std::string ReadBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes bytes to a file.
inline void WriteBytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Big-endian u16/u32 at an offset (0 when out of range).
inline uint32_t BeAt(const std::string& s, size_t off, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | (off + i < s.size() ? static_cast<uint8_t>(s[off + i]) : 0);
  }
  return v;
}

// Wraps a transport and records each exchange under `dir`.
class RecordingTransport final : public ChronyTransport {
 public:
  RecordingTransport(std::unique_ptr<ChronyTransport> inner, std::filesystem::path dir)
      : inner_(std::move(inner)), dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
  }
  Status Send(std::string_view packet) override {
    last_request_.assign(packet);
    return inner_->Send(packet);
  }
  Result<std::string> Receive(double timeout_seconds) override {
    Result<std::string> r = inner_->Receive(timeout_seconds);
    if (r.ok()) {
      std::string base = Name(index_++, BeAt(last_request_, 4, 2));
      WriteBytes(dir_ / (base + ".req"), last_request_);
      WriteBytes(dir_ / (base + ".rpy"), *r);
    }
    return r;
  }
  std::string Endpoint() const override { return inner_->Endpoint(); }

  // "07-33": the file stem of exchange `index` for request code `command`.
  static std::string Name(int index, uint32_t command) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d-%u", index, command);
    return buf;
  }

 private:
  std::unique_ptr<ChronyTransport> inner_;
  std::filesystem::path dir_;
  std::string last_request_;
  int index_ = 0;
};

// Replays a recording; mismatching requests are reported through `errors`.
class ReplayTransport final : public ChronyTransport {
 public:
  explicit ReplayTransport(const std::filesystem::path& dir, std::vector<std::string>* errors = nullptr)
      : errors_(errors) {
    std::vector<std::filesystem::path> reqs;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".req") reqs.push_back(e.path());
    }
    std::sort(reqs.begin(), reqs.end());
    for (const auto& r : reqs) {
      auto rpy = r;
      rpy.replace_extension(".rpy");
      exchanges_.push_back({ReadBytes(r), ReadBytes(rpy), r.filename().string()});
    }
  }
  // Replaces the reply of exchange `i` (to inject truncation or corruption).
  void SetReply(size_t i, std::string bytes) { exchanges_.at(i).reply = std::move(bytes); }
  const std::string& Reply(size_t i) const { return exchanges_.at(i).reply; }
  size_t size() const { return exchanges_.size(); }
  // Requests consumed so far.
  size_t position() const { return next_; }

  Status Send(std::string_view packet) override {
    if (next_ >= exchanges_.size()) {
      Error("unexpected request beyond the recording");
      pending_ = false;
      return Status::Ok();
    }
    const Exchange& ex = exchanges_[next_];
    std::string got(packet);
    std::string want = ex.request;
    // Sequence and attempt differ from run to run.
    for (size_t i = 6; i < 12 && i < got.size() && i < want.size(); ++i) got[i] = want[i] = 0;
    if (got != want) Error("request differs from " + ex.name);
    sequence_ = BeAt(std::string(packet), 8, 4);
    pending_ = true;
    return Status::Ok();
  }
  Result<std::string> Receive(double) override {
    if (!pending_ || next_ >= exchanges_.size())
      return Status::DeadlineExceeded("chronyd busy: replay ended");
    pending_ = false;
    std::string reply = exchanges_[next_++].reply;
    if (reply.size() >= 20) {
      for (int i = 0; i < 4; ++i) reply[16 + i] = static_cast<char>(sequence_ >> (24 - 8 * i));
    }
    return reply;
  }
  std::string Endpoint() const override { return "replay"; }

 private:
  struct Exchange {
    std::string request, reply, name;
  };
  void Error(const std::string& e) {
    if (errors_) errors_->push_back(e);
  }
  std::vector<Exchange> exchanges_;
  std::vector<std::string>* errors_;
  size_t next_ = 0;
  uint32_t sequence_ = 0;
  bool pending_ = false;
};

}  // namespace resmeter::testing
