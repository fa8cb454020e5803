#include "html/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "html/html_text.h"

namespace resmeter::html {
namespace {

constexpr int kLeft = 78, kRight = 16, kTop = 30, kBottom = 46;

// "12.5" with at most two decimals, for SVG coordinates.
std::string C(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

bool Usable(double v, const Axis& a) { return std::isfinite(v) && (a.scale != AxisScale::kLog || v > 0); }

double T(double v, const Axis& a) { return a.scale == AxisScale::kLog ? std::log10(v) : v; }

// The data range of an axis, widened so it is never empty.
struct Range {
  double lo = 0, hi = 0;
  bool any = false;
  void Add(double v) {
    if (!any) lo = hi = v, any = true;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
};

Range Finish(Range r, const Axis& a) {
  if (!r.any) r.lo = a.scale == AxisScale::kLog ? 1 : 0, r.hi = a.scale == AxisScale::kLog ? 10 : 1;
  if (a.scale == AxisScale::kLinear && a.from_zero) r.lo = std::min(r.lo, 0.0), r.hi = std::max(r.hi, 0.0);
  if (r.hi <= r.lo) {
    if (a.scale == AxisScale::kLog) {
      r.lo /= 2, r.hi *= 2;
    } else {
      const double pad = r.lo == 0 ? 1 : std::fabs(r.lo) * 0.1;
      r.lo -= a.from_zero && r.lo == 0 ? 0 : pad, r.hi += pad;
    }
  } else if (a.scale == AxisScale::kLinear) {
    const double pad = (r.hi - r.lo) * 0.05;
    r.hi += pad;
    if (!(a.from_zero && r.lo == 0)) r.lo -= pad;
  } else if (a.scale == AxisScale::kLog) {
    r.lo /= 1.15, r.hi *= 1.15;
  }
  return r;
}

std::string AxisTitle(const Axis& a) {
  if (a.unit.empty() || a.scale == AxisScale::kTime) return a.label;
  return a.label + " (" + a.unit + (a.scale == AxisScale::kLog ? ", log scale" : "") + ")";
}

// Thins a series to at most kMaxPointsPerSeries points, keeping the ends.
std::vector<Point> Thin(const std::vector<Point>& pts, bool* thinned) {
  if (pts.size() <= kMaxPointsPerSeries) return pts;
  *thinned = true;
  std::vector<Point> out;
  out.reserve(kMaxPointsPerSeries);
  const double step = static_cast<double>(pts.size() - 1) / static_cast<double>(kMaxPointsPerSeries - 1);
  for (size_t i = 0; i < kMaxPointsPerSeries; ++i)
    out.push_back(pts[static_cast<size_t>(std::llround(static_cast<double>(i) * step))]);
  return out;
}

std::string Figure(const std::string& id, const std::string& title, const std::string& note,
                   const std::string& svg) {
  std::string out = "<figure class=\"plot\"><figcaption>" + Escape(title) + "</figcaption>";
  if (!note.empty()) out += "<p class=\"note\">" + Escape(note) + "</p>";
  (void)id;
  return out + svg + "</figure>\n";
}

}  // namespace

std::string TickText(double value, const Axis& axis) {
  if (axis.scale == AxisScale::kTime) {
    const time_t t = static_cast<time_t>(std::floor(value));
    struct tm tm;
    if (!std::isfinite(value) || gmtime_r(&t, &tm) == nullptr) return "-";
    char buf[32];
    std::strftime(buf, sizeof buf, tm.tm_hour == 0 && tm.tm_min == 0 ? "%m-%d" : "%m-%d %H:%M", &tm);
    return buf;
  }
  if (axis.unit == "%") return Number(value, 3) + "%";
  if (axis.unit == "B" && value > 0) {
    // Sizes on a power-of-two axis read best as whole binary units.
    static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int i = 0;
    double v = value;
    while (v >= 1024 && i < 5) v /= 1024, ++i;
    return Number(v, 3) + " " + kUnits[i];
  }
  if (axis.unit.empty() || axis.unit == "count" || axis.unit == "x") return Number(value, 3);
  return WithUnit(value, axis.unit);
}

std::vector<double> Ticks(double lo, double hi, const Axis& axis) {
  std::vector<double> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  if (axis.scale == AxisScale::kLog) {
    if (lo <= 0) return out;
    if (axis.unit == "B") {  // powers of two, every `step` octaves
      const double a = std::ceil(std::log2(lo)), b = std::floor(std::log2(hi));
      const double step = std::max(1.0, std::ceil((b - a + 1) / 9));
      for (double e = a; e <= b; e += step) out.push_back(std::exp2(e));
      return out;
    }
    const double a = std::floor(std::log10(lo)), b = std::ceil(std::log10(hi));
    const double decades = b - a;
    const double step = std::max(1.0, std::ceil(decades / 9));
    for (double e = a; e <= b; e += step) {
      for (double m : decades <= 3 ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo && v <= hi) out.push_back(v);
      }
    }
    return out;
  }
  if (axis.scale == AxisScale::kTime) {
    static const double kSteps[] = {60,    300,   900,   1800,   3600,   7200,    10800,
                                    21600, 43200, 86400, 172800, 604800, 1209600, 2592000};
    double step = kSteps[0];
    for (double s : kSteps) {
      step = s;
      if ((hi - lo) / s <= 8) break;
    }
    for (double t = std::ceil(lo / step) * step; t <= hi && out.size() < 64; t += step) out.push_back(t);
    return out;
  }
  const double raw = (hi - lo) / 6;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9 && out.size() < 64; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return out;
}

std::string RenderXyChart(const XyChart& chart) {
  Range rx, ry;
  bool thinned = false;
  std::vector<std::vector<Point>> drawn;
  for (const Series& s : chart.series) {
    std::vector<Point> usable;
    for (const Point& p : s.points)
      if (Usable(p.x, chart.x) && Usable(p.y, chart.y)) usable.push_back(p);
    usable = Thin(usable, &thinned);
    for (const Point& p : usable) rx.Add(p.x), ry.Add(p.y);
    if (s.style == SeriesStyle::kBars && chart.y.scale != AxisScale::kLog) ry.Add(0);
    drawn.push_back(std::move(usable));
  }
  for (const Marker& m : chart.x_markers)
    if (Usable(m.value, chart.x)) rx.Add(m.value);
  for (const Marker& m : chart.y_markers)
    if (Usable(m.value, chart.y)) ry.Add(m.value);
  for (const Band& b : chart.bands)
    if (Usable(b.from, chart.x) && Usable(b.to, chart.x)) rx.Add(b.from), rx.Add(b.to);
  const Range fx = Finish(rx, chart.x), fy = Finish(ry, chart.y);
  const double w = chart.width, h = chart.height;
  const double pw = w - kLeft - kRight, ph = h - kTop - kBottom;
  auto X = [&](double v) {
    return kLeft + (T(v, chart.x) - T(fx.lo, chart.x)) / (T(fx.hi, chart.x) - T(fx.lo, chart.x)) * pw;
  };
  auto Y = [&](double v) {
    return kTop + ph - (T(v, chart.y) - T(fy.lo, chart.y)) / (T(fy.hi, chart.y) - T(fy.lo, chart.y)) * ph;
  };
  auto clampx = [&](double px) { return std::clamp(px, static_cast<double>(kLeft), kLeft + pw); };

  std::string s = "<svg class=\"chart\" data-plot=\"" + Escape(chart.id) + "\" viewBox=\"0 0 " + C(w) + " " +
                  C(h) + "\" width=\"" + C(w) + "\" height=\"" + C(h) + "\" role=\"img\" aria-label=\"" +
                  Escape(chart.title) + "\">";
  // Grid and ticks.
  s += "<g class=\"grid\">";
  for (double t : Ticks(fx.lo, fx.hi, chart.x)) {
    const double px = X(t);
    s += "<line x1=\"" + C(px) + "\" y1=\"" + C(kTop) + "\" x2=\"" + C(px) + "\" y2=\"" + C(kTop + ph) +
         "\"/>";
    s += "<text class=\"tick\" x=\"" + C(px) + "\" y=\"" + C(kTop + ph + 14) + "\" text-anchor=\"middle\">" +
         Escape(TickText(t, chart.x)) + "</text>";
  }
  for (double t : Ticks(fy.lo, fy.hi, chart.y)) {
    const double py = Y(t);
    s += "<line x1=\"" + C(kLeft) + "\" y1=\"" + C(py) + "\" x2=\"" + C(kLeft + pw) + "\" y2=\"" + C(py) +
         "\"/>";
    s += "<text class=\"tick\" x=\"" + C(kLeft - 4) + "\" y=\"" + C(py + 4) + "\" text-anchor=\"end\">" +
         Escape(TickText(t, chart.y)) + "</text>";
  }
  s += "</g><rect class=\"frame\" x=\"" + C(kLeft) + "\" y=\"" + C(kTop) + "\" width=\"" + C(pw) +
       "\" height=\"" + C(ph) + "\"/>";
  s += "<text class=\"axis-label\" data-axis=\"x\" x=\"" + C(kLeft + pw / 2) + "\" y=\"" + C(h - 8) +
       "\" text-anchor=\"middle\">" + Escape(AxisTitle(chart.x)) + "</text>";
  s += "<text class=\"axis-label\" data-axis=\"y\" transform=\"translate(14," + C(kTop + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + Escape(AxisTitle(chart.y)) + "</text>";
  // Series.
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& se = chart.series[i];
    const std::vector<Point>& pts = drawn[i];
    const std::string cls = "c" + std::to_string(((se.color % 8) + 8) % 8);
    s += "<g class=\"series " + cls + "\" data-series=\"" + Escape(se.name) + "\" data-points=\"" +
         std::to_string(pts.size()) + "\">";
    if (se.style == SeriesStyle::kBars) {
      const double base = chart.y.scale == AxisScale::kLog ? kTop + ph : Y(std::max(0.0, fy.lo));
      double bw = pts.size() > 1 ? std::max(1.0, pw / static_cast<double>(pts.size()) * 0.8) : 8;
      if (pts.size() > 1 && chart.x.scale != AxisScale::kLog) {
        double min_gap = fx.hi - fx.lo;
        for (size_t k = 1; k < pts.size(); ++k)
          if (pts[k].x > pts[k - 1].x) min_gap = std::min(min_gap, pts[k].x - pts[k - 1].x);
        bw = std::max(1.0, min_gap / (fx.hi - fx.lo) * pw * 0.9);
      }
      for (const Point& p : pts) {
        const double py = Y(p.y);
        s += "<rect x=\"" + C(X(p.x) - bw / 2) + "\" y=\"" + C(std::min(py, base)) + "\" width=\"" + C(bw) +
             "\" height=\"" + C(std::fabs(base - py)) + "\"/>";
      }
    } else if (se.style == SeriesStyle::kPoints) {
      for (const Point& p : pts) s += "<circle cx=\"" + C(X(p.x)) + "\" cy=\"" + C(Y(p.y)) + "\" r=\"2.5\"/>";
    } else {
      std::string d;
      for (size_t k = 0; k < pts.size(); ++k) {
        if (se.style == SeriesStyle::kSteps && k > 0) d += C(X(pts[k].x)) + "," + C(Y(pts[k - 1].y)) + " ";
        d += C(X(pts[k].x)) + "," + C(Y(pts[k].y)) + " ";
      }
      s += "<polyline points=\"" + d + "\"/>";
      if (se.style == SeriesStyle::kLine && pts.size() <= 80)
        for (const Point& p : pts) s += "<circle cx=\"" + C(X(p.x)) + "\" cy=\"" + C(Y(p.y)) + "\" r=\"2\"/>";
    }
    s += "</g>";
  }
  // Shaded ranges over the series (translucent), so a range is seen even where bars fill the plot.
  for (const Band& b : chart.bands) {
    if (!Usable(b.from, chart.x) || !Usable(b.to, chart.x)) continue;
    const double x0 = clampx(X(b.from)), x1 = clampx(X(b.to));
    s += "<rect class=\"" + Escape(b.css_class) + "\" x=\"" + C(x0) + "\" y=\"" + C(kTop) + "\" width=\"" +
         C(std::max(1.0, x1 - x0)) + "\" height=\"" + C(ph) + "\"><title>" + Escape(b.label) +
         "</title></rect>";
  }
  // Markers: solid ones labelled from the top, dashed ones from the bottom, staggered.
  int n_solid = 0, n_dashed = 0;
  for (const Marker& m : chart.x_markers) {
    if (!Usable(m.value, chart.x)) continue;
    const double px = X(m.value);
    const double ty = m.dashed ? kTop + ph - 6 - (n_dashed++ % 4) * 11 : kTop + 11 + (n_solid++ % 4) * 11;
    const std::string cls =
        "marker c" + std::to_string(((m.color % 8) + 8) % 8) + (m.dashed ? " dashed" : "");
    s += "<g class=\"" + cls + "\" data-marker=\"" + Escape(m.label) + "\"><line x1=\"" + C(px) + "\" y1=\"" +
         C(kTop) + "\" x2=\"" + C(px) + "\" y2=\"" + C(kTop + ph) + "\"/><text x=\"" + C(px + 3) + "\" y=\"" +
         C(ty) + "\">" + Escape(m.label) + "</text></g>";
  }
  for (const Marker& m : chart.y_markers) {
    if (!Usable(m.value, chart.y)) continue;
    const double py = Y(m.value);
    const std::string cls =
        "marker c" + std::to_string(((m.color % 8) + 8) % 8) + (m.dashed ? " dashed" : "");
    s += "<g class=\"" + cls + "\" data-marker=\"" + Escape(m.label) + "\"><line x1=\"" + C(kLeft) +
         "\" y1=\"" + C(py) + "\" x2=\"" + C(kLeft + pw) + "\" y2=\"" + C(py) + "\"/><text x=\"" +
         C(kLeft + pw - 3) + "\" y=\"" + C(py - 3) + "\" text-anchor=\"end\">" + Escape(m.label) +
         "</text></g>";
  }
  // Legend along the top.
  double lx = kLeft;
  for (const Series& se : chart.series) {
    if (se.name.empty()) continue;
    const std::string cls = "c" + std::to_string(((se.color % 8) + 8) % 8);
    s += "<g class=\"legend " + cls + "\"><rect x=\"" + C(lx) +
         "\" y=\"8\" width=\"10\" height=\"10\"/><text x=\"" + C(lx + 14) + "\" y=\"17\">" + Escape(se.name) +
         "</text></g>";
    lx += 24 + 6.5 * static_cast<double>(std::min<size_t>(se.name.size(), 60));
  }
  s += "</svg>";
  std::string note = chart.note;
  if (thinned)
    note += (note.empty() ? "" : " ") + std::string("(series thinned to ") +
            std::to_string(kMaxPointsPerSeries) + " points)";
  return Figure(chart.id, chart.title, note, s);
}

std::string RenderBarChart(const BarChart& chart) {
  const size_t n = std::min(chart.bars.size(), kMaxBars);
  const double row = 20, label_w = 220, right = 110;
  const double w = chart.width, pw = w - label_w - right;
  const double h = kTop + row * static_cast<double>(n) + kBottom;
  Range r;
  for (size_t i = 0; i < n; ++i)
    if (Usable(chart.bars[i].value, chart.value_axis)) r.Add(chart.bars[i].value);
  for (const Marker& m : chart.reference_lines)
    if (Usable(m.value, chart.value_axis)) r.Add(m.value);
  Axis a = chart.value_axis;
  if (a.scale == AxisScale::kLinear) a.from_zero = true;
  const Range f = Finish(r, a);
  auto X = [&](double v) { return label_w + (T(v, a) - T(f.lo, a)) / (T(f.hi, a) - T(f.lo, a)) * pw; };
  std::string s = "<svg class=\"chart bars\" data-plot=\"" + Escape(chart.id) + "\" viewBox=\"0 0 " + C(w) +
                  " " + C(h) + "\" width=\"" + C(w) + "\" height=\"" + C(h) +
                  "\" role=\"img\" aria-label=\"" + Escape(chart.title) + "\"><g class=\"grid\">";
  for (double t : Ticks(f.lo, f.hi, a)) {
    s += "<line x1=\"" + C(X(t)) + "\" y1=\"" + C(kTop) + "\" x2=\"" + C(X(t)) + "\" y2=\"" + C(h - kBottom) +
         "\"/>";
    s += "<text class=\"tick\" x=\"" + C(X(t)) + "\" y=\"" + C(h - kBottom + 14) +
         "\" text-anchor=\"middle\">" + Escape(TickText(t, a)) + "</text>";
  }
  s += "</g>";
  const double base = a.scale == AxisScale::kLog ? label_w : X(std::max(0.0, f.lo));
  for (size_t i = 0; i < n; ++i) {
    const Bar& b = chart.bars[i];
    const double y = kTop + row * static_cast<double>(i);
    s += "<g class=\"bar" + std::string(b.bad ? " bad" : "") + "\" data-bar=\"" + Escape(b.label) + "\">";
    s += "<text class=\"bar-label\" x=\"" + C(label_w - 6) + "\" y=\"" + C(y + 14) +
         "\" text-anchor=\"end\">" + Escape(b.label.size() > 40 ? b.label.substr(0, 37) + "..." : b.label) +
         "</text>";
    if (Usable(b.value, a)) {
      const double px = X(b.value);
      s += "<rect x=\"" + C(std::min(base, px)) + "\" y=\"" + C(y + 3) + "\" width=\"" +
           C(std::max(1.0, std::fabs(px - base))) + "\" height=\"" + C(row - 6) + "\"/>";
      s += "<text class=\"bar-value\" x=\"" + C(std::max(base, px) + 4) + "\" y=\"" + C(y + 14) + "\">" +
           Escape(TickText(b.value, a)) + "</text>";
    } else {
      s += "<text class=\"bar-value\" x=\"" + C(label_w + 4) + "\" y=\"" + C(y + 14) +
           "\">not measured</text>";
    }
    s += "</g>";
  }
  for (const Marker& m : chart.reference_lines) {
    if (!Usable(m.value, a)) continue;
    const double px = X(m.value);
    s += "<g class=\"marker c" + std::to_string(((m.color % 8) + 8) % 8) + (m.dashed ? " dashed" : "") +
         "\" data-marker=\"" + Escape(m.label) + "\"><line x1=\"" + C(px) + "\" y1=\"" + C(kTop - 4) +
         "\" x2=\"" + C(px) + "\" y2=\"" + C(h - kBottom) + "\"/><text x=\"" + C(px + 3) + "\" y=\"" +
         C(kTop - 8) + "\">" + Escape(m.label) + "</text></g>";
  }
  s += "<text class=\"axis-label\" data-axis=\"x\" x=\"" + C(label_w + pw / 2) + "\" y=\"" + C(h - 8) +
       "\" text-anchor=\"middle\">" + Escape(AxisTitle(a)) + "</text></svg>";
  std::string note = chart.note;
  if (chart.bars.size() > n)
    note += (note.empty() ? "" : " ") + std::string("(first ") + std::to_string(n) + " of " +
            std::to_string(chart.bars.size()) + " shown)";
  return Figure(chart.id, chart.title, note, s);
}

}  // namespace resmeter::html
