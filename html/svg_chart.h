// Inline SVG charts written by hand (no library, no script): an XY chart
// (lines, points, steps; linear, log or time axes; vertical and horizontal
// markers; shaded x ranges) and a bar chart (one value per category, with
// reference lines). The charts are data-driven only: every label passes
// through Escape(), every number is finite, and the point count per series
// is capped so a hostile report cannot make a page of gigabytes.
//
// Each chart is one <figure class="plot"> holding an <svg data-plot="ID">
// whose axes carry <text class="axis-label"> "Label (unit)" so tests and
// people can read what is drawn. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace resmeter::html {

enum class AxisScale { kLinear, kLog, kTime };

struct Axis {
  std::string label;  // "working-set size"
  std::string unit;   // "B", "s", "Hz", "B/s", "bit/s", "%", ... (ticks scale with it)
  AxisScale scale = AxisScale::kLinear;
  bool from_zero = false;  // linear axis: include 0
};

struct Point {
  double x = 0, y = 0;
};

enum class SeriesStyle { kLine, kPoints, kSteps, kBars };

struct Series {
  std::string name;
  std::vector<Point> points;
  SeriesStyle style = SeriesStyle::kLine;
  int color = 0;  // index into the page's palette (.c0 .. .c7)
};

// A line across the plot at one coordinate, labelled ("L1 32 KiB", "p99", "bound").
struct Marker {
  double value = 0;
  std::string label;
  int color = 0;
  bool dashed = true;
};

// A shaded x range ("untrusted time", "restart gap").
struct Band {
  double from = 0, to = 0;
  std::string label;
  std::string css_class = "band";  // band, band-bad, band-gap
};

struct XyChart {
  std::string id;     // data-plot value, e.g. "cache.latency_curve"
  std::string title;  // figure caption
  std::string note;   // a line below the caption (what was measured, what is missing)
  Axis x, y;
  std::vector<Series> series;
  std::vector<Marker> x_markers, y_markers;
  std::vector<Band> bands;
  int width = 720, height = 300;
};

struct Bar {
  std::string label;
  double value = 0;
  bool bad = false;  // drawn in the failure colour (below a bound, a failed check)
};

struct BarChart {
  std::string id, title, note;
  Axis value_axis;
  std::vector<Bar> bars;
  std::vector<Marker> reference_lines;  // at values of the value axis
  int width = 720;
};

// The most points drawn per series; more are thinned evenly (the caption says so).
inline constexpr size_t kMaxPointsPerSeries = 4000;
// The most bars drawn per chart.
inline constexpr size_t kMaxBars = 256;

std::string RenderXyChart(const XyChart& chart);
std::string RenderBarChart(const BarChart& chart);

// A tick value as text on an axis with this unit and scale.
std::string TickText(double value, const Axis& axis);
// Tick positions for [lo, hi] on this axis (a handful, at round values).
std::vector<double> Ticks(double lo, double hi, const Axis& axis);

}  // namespace resmeter::html
