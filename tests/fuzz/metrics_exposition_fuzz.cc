// libFuzzer target: what /metrics takes from outside. The first line of the
// input is an Accept header, the second an Accept-Encoding header (client
// bytes: NegotiateMetricsFormat, AcceptsGzip); the rest is gpu.devices
// claims JSON (host bytes) turned into per-GPU series (DeviceFamilies) and
// serialized in both formats. Must never crash or throw; the expositions
// must stay well formed whatever the names: every line a comment or a
// sample of a resmeter_ name, label values valid UTF-8, OpenMetrics ending
// in "# EOF", gzip of it inflating back.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/device_metrics.h"
#include "agent/metrics_exposition.h"
#include "core/untrusted_json.h"

namespace {

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

void CheckExposition(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) __builtin_trap();  // every line ends in a newline
    const std::string_view line(text.data() + start, end - start);
    if (line.empty() || (line[0] != '#' && line.rfind("resmeter_", 0) != 0)) __builtin_trap();
    start = end + 1;
  }
  if (!ValidUtf8(text)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl1 = in.find('\n');
  const std::string_view accept = in.substr(0, nl1);
  const std::string_view rest = nl1 == std::string_view::npos ? std::string_view() : in.substr(nl1 + 1);
  const size_t nl2 = rest.find('\n');
  const std::string_view encoding = rest.substr(0, nl2);
  const std::string_view claims = nl2 == std::string_view::npos ? std::string_view() : rest.substr(nl2 + 1);
  (void)resmeter::NegotiateMetricsFormat(accept);
  (void)resmeter::AcceptsGzip(encoding);

  nlohmann::json parsed = resmeter::ParseUntrustedJsonOrDiscarded(claims);
  if (parsed.is_discarded()) return 0;
  std::map<std::string, resmeter::MeterRecord> meters;
  for (const char* name : {"gpu.devices", "gpu.compute"}) {
    resmeter::MeterRecord& r = meters[name];
    r.run.name = name;
    r.run.result = resmeter::MeterResult::Ok();
    r.run.result.claims = parsed;
  }
  const auto families = resmeter::DeviceFamilies(meters);
  const std::string om = resmeter::SerializeMetrics(families, resmeter::MetricsFormat::kOpenMetrics);
  CheckExposition(om);
  if (om.size() < 6 || om.compare(om.size() - 6, 6, "# EOF\n") != 0) __builtin_trap();
  CheckExposition(resmeter::SerializeMetrics(families, resmeter::MetricsFormat::kPrometheusText));
  auto gz = resmeter::GzipCompress(om);
  if (!gz) __builtin_trap();
  std::string back(om.size() + 1, '\0');
  uLongf back_size = 0;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) __builtin_trap();
  zs.next_in = reinterpret_cast<Bytef*>(gz->data());
  zs.avail_in = static_cast<uInt>(gz->size());
  zs.next_out = reinterpret_cast<Bytef*>(back.data());
  zs.avail_out = static_cast<uInt>(back.size());
  const int rc = inflate(&zs, Z_FINISH);
  back_size = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || back.compare(0, back_size, om) != 0 || back_size != om.size()) __builtin_trap();
  return 0;
}
