// libFuzzer target: decoding of chronyd command replies (header, reply check
// against each request it could answer, and every reply data decoder). Must
// never crash or read out of bounds; short or wrong replies are a Status.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "timesource/chrony_protocol.h"

namespace chrony = resmeter::chrony;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view packet(reinterpret_cast<const char*>(data), size);
  auto header = chrony::DecodeReplyHeader(packet);
  if (header.ok()) {
    (void)chrony::StatusCodeName(header->status);
    (void)chrony::ReplyDataBytes(header->reply);
  }
  struct Pair {
    uint16_t request, reply;
  };
  static constexpr Pair kPairs[] = {{chrony::kReqTracking, chrony::kRpyTracking},
                                    {chrony::kReqNSources, chrony::kRpyNSources},
                                    {chrony::kReqSourceData, chrony::kRpySourceData},
                                    {chrony::kReqNtpData, chrony::kRpyNtpData},
                                    {chrony::kReqAuthData, chrony::kRpyAuthData},
                                    {chrony::kReqNtpSourceName, chrony::kRpyNtpSourceName}};
  for (const Pair& p : kPairs) {
    auto body = chrony::CheckReply(packet, p.request, p.reply);
    if (!body.ok()) continue;
    switch (p.reply) {
      case chrony::kRpyTracking:
        if (auto t = chrony::DecodeTracking(*body); t.ok()) {
          (void)t->ip.ToString();
          (void)chrony::LeapStatusName(t->leap_status);
        }
        break;
      case chrony::kRpyNSources:
        (void)chrony::DecodeNSources(*body);
        break;
      case chrony::kRpySourceData:
        if (auto s = chrony::DecodeSourceData(*body); s.ok()) {
          (void)s->ip.ToString();
          (void)chrony::SourceStateName(s->state);
        }
        break;
      case chrony::kRpyNtpData:
        if (auto n = chrony::DecodeNtpData(*body); n.ok()) {
          (void)n->remote.ToString();
          (void)n->local.ToString();
        }
        break;
      case chrony::kRpyAuthData:
        if (auto a = chrony::DecodeAuthData(*body); a.ok()) (void)chrony::AuthModeName(a->mode);
        break;
      case chrony::kRpyNtpSourceName:
        (void)chrony::DecodeNtpSourceName(*body);
        break;
    }
  }
  // The data decoders on the raw bytes too, so their bounds are hit directly.
  (void)chrony::DecodeTracking(packet);
  (void)chrony::DecodeSourceData(packet);
  (void)chrony::DecodeNtpData(packet);
  (void)chrony::DecodeNtpSourceName(packet);
  (void)chrony::DecodeAuthData(packet);
  (void)chrony::DecodeNSources(packet);
  return 0;
}
