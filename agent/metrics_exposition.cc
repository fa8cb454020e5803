#include "agent/metrics_exposition.h"

#include <prometheus/text_serializer.h>
#include <zlib.h>

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include "core/strings.h"

namespace resmeter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// One element of an Accept or Accept-Encoding list: the value and its q.
struct Preference {
  std::string value;  // lower case, parameters removed
  std::string version;
  double q = 1;
};

// Splits "a;q=0.5;version=1, b" into preferences. A malformed q counts as 0
// (refused), so garbage never selects anything.
std::vector<Preference> ParsePreferences(std::string_view header) {
  std::vector<Preference> out;
  for (std::string_view element : Split(header, ',')) {
    std::vector<std::string_view> parts = Split(element, ';');
    if (parts.empty()) continue;
    Preference p;
    p.value = Lower(Trim(parts[0]));
    if (p.value.empty()) continue;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view param = Trim(parts[i]);
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string key = Lower(Trim(param.substr(0, eq)));
      std::string_view value = Trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (key == "q") {
        double q = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
        p.q = (ec == std::errc() && end == value.data() + value.size() && q >= 0 && q <= 1) ? q : 0;
      } else if (key == "version") {
        p.version = std::string(value);
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

// A sample value: shortest round-trip decimal, +Inf/-Inf/NaN spelled as both formats want.
std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// OpenMetrics escaping of label values and HELP: backslash, double quote, newline.
std::string Escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void Labels(std::string& out, const std::vector<ClientMetric::Label>& labels,
            const char* extra_name = nullptr, const std::string& extra_value = "") {
  if (labels.empty() && !extra_name) return;
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.name + "=\"" + Escape(l.value) + "\"";
  }
  if (extra_name) {
    if (!first) out += ',';
    out += std::string(extra_name) + "=\"" + Escape(extra_value) + "\"";
  }
  out += '}';
}

void Sample(std::string& out, const std::string& name, const ClientMetric& m, double value,
            const char* extra_name = nullptr, const std::string& extra_value = "") {
  out += name;
  Labels(out, m.label, extra_name, extra_value);
  out += ' ';
  out += Number(value);
  out += '\n';
}

}  // namespace

MetricsFormat NegotiateMetricsFormat(std::string_view accept) {
  double best_q = 0;
  MetricsFormat best = MetricsFormat::kPrometheusText;
  for (const Preference& p : ParsePreferences(accept)) {
    std::optional<MetricsFormat> f;
    if (p.value == "application/openmetrics-text" && (p.version.empty() || p.version == "1.0.0")) {
      f = MetricsFormat::kOpenMetrics;
    } else if ((p.value == "text/plain" && (p.version.empty() || p.version == "0.0.4")) ||
               p.value == "text/*" || p.value == "*/*") {
      f = MetricsFormat::kPrometheusText;
    }
    if (f && p.q > best_q) {  // strictly greater: the first listed wins a tie
      best_q = p.q;
      best = *f;
    }
  }
  return best;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<double> gzip_q, any_q;
  for (const Preference& p : ParsePreferences(accept_encoding)) {
    if (p.value == "gzip" || p.value == "x-gzip") gzip_q = std::max(gzip_q.value_or(0), p.q);
    if (p.value == "*") any_q = p.q;
  }
  if (gzip_q) return *gzip_q > 0;  // an explicit gzip;q=0 beats *
  return any_q.value_or(0) > 0;
}

std::string SerializeOpenMetrics(const std::vector<MetricFamily>& families) {
  std::string out;
  std::set<std::string> seen;  // family names: each once
  for (const MetricFamily& f : families) {
    if (f.metric.empty()) continue;
    std::string family = f.name;
    std::string type;
    switch (f.type) {
      case MetricType::Counter:
        type = "counter";
        if (EndsWith(family, "_total")) family.resize(family.size() - 6);
        break;
      case MetricType::Gauge: {
        type = "gauge";
        bool ones = true;
        for (const auto& m : f.metric) ones = ones && m.gauge.value == 1;
        if (EndsWith(family, "_info") && ones) {  // identity: an info family
          type = "info";
          family.resize(family.size() - 5);
        }
        break;
      }
      case MetricType::Histogram:
        type = "histogram";
        break;
      case MetricType::Summary:
        type = "summary";
        break;
      default:
        type = "unknown";
        break;
    }
    if (!seen.insert(family).second) continue;
    out += "# TYPE " + family + " " + type + "\n";
    if (!f.help.empty()) out += "# HELP " + family + " " + Escape(f.help) + "\n";
    for (const ClientMetric& m : f.metric) {
      switch (f.type) {
        case MetricType::Counter:
          Sample(out, family + "_total", m, m.counter.value);
          break;
        case MetricType::Gauge:
          Sample(out, type == "info" ? family + "_info" : family, m, m.gauge.value);
          break;
        case MetricType::Histogram: {
          bool has_inf = false;
          for (const auto& b : m.histogram.bucket) {
            has_inf = has_inf || std::isinf(b.upper_bound);
            Sample(out, family + "_bucket", m, static_cast<double>(b.cumulative_count), "le",
                   Number(b.upper_bound));
          }
          if (!has_inf)
            Sample(out, family + "_bucket", m, static_cast<double>(m.histogram.sample_count), "le", "+Inf");
          Sample(out, family + "_count", m, static_cast<double>(m.histogram.sample_count));
          Sample(out, family + "_sum", m, m.histogram.sample_sum);
          break;
        }
        case MetricType::Summary:
          for (const auto& q : m.summary.quantile)
            Sample(out, family, m, q.value, "quantile", Number(q.quantile));
          Sample(out, family + "_count", m, static_cast<double>(m.summary.sample_count));
          Sample(out, family + "_sum", m, m.summary.sample_sum);
          break;
        default:
          Sample(out, family, m, m.untyped.value);
          break;
      }
    }
  }
  out += "# EOF\n";
  return out;
}

std::string SerializeMetrics(const std::vector<MetricFamily>& families, MetricsFormat format) {
  if (format == MetricsFormat::kOpenMetrics) return SerializeOpenMetrics(families);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

std::optional<std::string> GzipCompress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return std::nullopt;
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(written);
  return out;
}

}  // namespace resmeter
