// How /metrics is written: the format a scraper asked for (Accept), and
// gzip when it accepts it (Accept-Encoding).
//
// Formats: the Prometheus text format 0.0.4 (prometheus-cpp's
// TextSerializer) and OpenMetrics 1.0.0 text, written here: a counter's
// family is named without its `_total` suffix (the samples keep it), a gauge
// family named `*_info` whose samples are all 1 becomes an info family,
// label values and HELP are escaped, and the body ends with `# EOF`.
// Prometheus asks for OpenMetrics first by default; curl and older scrapers
// get the classic format.
//
// Negotiation follows RFC 9110: the media range with the highest q wins,
// the first listed on a tie; q=0 refuses. Nothing acceptable, or no Accept:
// the classic format (a lenient default rather than 406, so a dashboard's
// odd Accept still gets numbers).
//
// Pure functions; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace resmeter {

enum class MetricsFormat { kPrometheusText, kOpenMetrics };

inline constexpr const char* kPrometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr const char* kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// The format an Accept header asks for ("" or absent: the classic format).
MetricsFormat NegotiateMetricsFormat(std::string_view accept);
// True when an Accept-Encoding header accepts gzip (gzip, x-gzip or * with q > 0).
bool AcceptsGzip(std::string_view accept_encoding);

// The families in OpenMetrics 1.0.0 text, ending in "# EOF\n".
std::string SerializeOpenMetrics(const std::vector<prometheus::MetricFamily>& families);
// The families in the format asked for.
std::string SerializeMetrics(const std::vector<prometheus::MetricFamily>& families, MetricsFormat format);

// gzip (RFC 1952) of `data`; nullopt only when zlib fails.
std::optional<std::string> GzipCompress(std::string_view data);

}  // namespace resmeter
