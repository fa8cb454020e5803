// Small builders of prometheus-cpp MetricFamily values, for the exporter's
// families that are computed at scrape time rather than registered.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <utility>
#include <vector>

namespace resmeter {

// Adds one labelled sample to a counter or gauge family.
inline void AddSample(prometheus::MetricFamily& f, double value,
                      std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

// A family with one sample.
inline prometheus::MetricFamily SingleSample(const std::string& name, const std::string& help,
                                             prometheus::MetricType type, double value,
                                             std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::MetricFamily f{name, help, type, {}};
  AddSample(f, value, std::move(labels));
  return f;
}

// An empty family.
inline prometheus::MetricFamily EmptyFamily(const std::string& name, const std::string& help,
                                            prometheus::MetricType type) {
  return prometheus::MetricFamily{name, help, type, {}};
}

}  // namespace resmeter
