#pragma once
// A small plain-SVG writer for the example programs: a fixed-size figure with data-space axes,
// polylines, markers, text, a legend, and contour lines of f(x, y) by marching squares.
// No dependencies beyond the standard library; the files open in any browser.
//
//   descent::examples::Figure fig(800, 560, {-2, 2}, {-1, 3});
//   fig.add_contours(f, descent::examples::log_levels(0.1, 1000, 12));
//   fig.add_path(points, {.color = descent::examples::palette[0], .width = 2});
//   fig.add_legend_entry("Adam", {.color = descent::examples::palette[0], .width = 2});
//   fig.save("out.svg");  // throws std::runtime_error naming the file if it can't be written
//
// Several figures can share one document side by side (render_row), e.g. two panels of a plot.
//
// Example support code, not library API: it lives in descent::examples.

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace descent::examples {

/// Ten colours that stay apart for colour-blind readers: Okabe & Ito's (yellow left out, it
/// vanishes on white) then Paul Tol's wine, olive and indigo.
inline constexpr std::array<std::string_view, 10> palette = {
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2",
    "#D55E00", "#CC79A7", "#882255", "#999933", "#332288"};

struct Point {
  double x = 0;
  double y = 0;
};

struct Range {
  double lo = 0;
  double hi = 1;
};

/// lo..hi of the finite values, widened a little (and to at least `min_span`) so no curve sits on
/// the frame, then clipped to [floor_at, ceil_at]. With no finite value it is the clip range itself.
inline Range padded_range(const std::vector<double>& values, double min_span, double floor_at,
                          double ceil_at) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) return {floor_at, ceil_at};
  const double pad = std::max((hi - lo) * 0.08, (min_span - (hi - lo)) / 2);
  return {std::max(lo - pad, floor_at), std::min(hi + pad, ceil_at)};
}

/// Pixels around the plot area; the legend goes in the right margin, so leave room there.
struct Margins {
  double left = 64;
  double right = 24;
  double top = 44;
  double bottom = 56;
};

enum class Marker { circle, square, diamond, star };

struct Stroke {
  std::string_view color = "#000000";
  double width = 1.5;
  double opacity = 1.0;
  std::string_view dash = {};  ///< SVG stroke-dasharray, e.g. "6 3"; empty for a solid line
};

/// Text with &, <, >, " and ' replaced by entities, safe inside elements and attributes.
inline std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

/// n levels from lo to hi inclusive, evenly spaced.
inline std::vector<double> linear_levels(double lo, double hi, int n) {
  std::vector<double> levels;
  for (int i = 0; i < n; ++i) levels.push_back(n == 1 ? lo : lo + (hi - lo) * i / (n - 1));
  return levels;
}

/// n levels from lo to hi inclusive (both > 0), evenly spaced in log scale.
inline std::vector<double> log_levels(double lo, double hi, int n) {
  std::vector<double> levels;
  for (int i = 0; i < n; ++i) {
    levels.push_back(n == 1 ? lo : lo * std::pow(hi / lo, double(i) / (n - 1)));
  }
  return levels;
}

namespace detail {

/// v with `decimals` digits after the point, or in the shortest exact form when decimals < 0.
/// std::to_chars ignores the C locale, so a decimal comma can never break the SVG.
inline std::string number(double v, int decimals) {
  char buf[64];
  const auto result = decimals < 0 ? std::to_chars(buf, buf + sizeof buf, v)
                                   : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return result.ec == std::errc{} ? std::string(buf, result.ptr) : std::string("0");
}

/// About `target` round tick values (1, 2 or 5 times a power of ten) inside [lo, hi].
inline std::vector<double> nice_ticks(double lo, double hi, int target, double& step) {
  const double raw = (hi - lo) / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / power;
  step = (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * power;
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; ++k) {
    ticks.push_back(k == 0 ? 0.0 : k * step);  // k * step, not a running sum; and no "-0"
  }
  return ticks;
}

/// The opening of an SVG document of the given size.
inline std::string svg_open(double width, double height) {
  const std::string w = number(width, 1), h = number(height, 1);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
         "\" viewBox=\"0 0 " + w + " " + h + "\" font-family=\"Helvetica, Arial, sans-serif\">\n";
}

}  // namespace detail

class Figure {
 public:
  Figure(double width, double height, Range x, Range y, Margins margins = {})
      : m_width(width), m_height(height), m_x(x), m_y(y), m_margins(margins) {
    if (!(x.hi > x.lo && y.hi > y.lo)) throw std::invalid_argument("Figure: empty axis range");
    if (plot_width() <= 0 || plot_height() <= 0) {
      throw std::invalid_argument("Figure: margins leave no room for the plot");
    }
  }

  double plot_width() const { return m_width - m_margins.left - m_margins.right; }
  double plot_height() const { return m_height - m_margins.top - m_margins.bottom; }

  /// Data to pixel coordinates (y grows upward in data, downward in SVG).
  double px(double x) const { return m_margins.left + (x - m_x.lo) / (m_x.hi - m_x.lo) * plot_width(); }
  double py(double y) const { return m_margins.top + (m_y.hi - y) / (m_y.hi - m_y.lo) * plot_height(); }

  void set_title(std::string_view title) { m_title = escape_xml(title); }
  void set_axis_titles(std::string_view x, std::string_view y) {
    m_x_title = escape_xml(x);
    m_y_title = escape_xml(y);
  }

  /// Tick positions on the x axis, instead of about eight round values chosen automatically;
  /// with `labels` (one per tick) those texts are written instead of the numbers, for a log axis
  /// ("1e-3" at -3) or categories ("relu" at 1).
  void set_x_ticks(std::vector<double> ticks, std::vector<std::string> labels = {}) {
    if (!labels.empty() && labels.size() != ticks.size()) {
      throw std::invalid_argument("Figure: one label per x tick");
    }
    m_x_ticks = std::move(ticks);
    m_x_tick_labels = std::move(labels);
  }

  /// Decimals of the pixel coordinates in paths and contours (default 1). 0 makes files about a
  /// third smaller, for pictures that are committed; set it before adding anything.
  void set_precision(int decimals) { m_decimals = std::clamp(decimals, 0, 3); }

  /// A polyline in data coordinates, clipped to the plot area; a non-finite point breaks the line.
  /// A non-empty id is written as the path's id attribute, so tools and tests can find it.
  void add_path(const std::vector<Point>& points, const Stroke& stroke, std::string_view id = {}) {
    const std::string d = path_data(points);
    if (d.empty()) return;
    const std::string id_attr = id.empty() ? "" : " id=\"" + escape_xml(id) + "\"";
    m_plot += "<path" + id_attr + " d=\"" + d + "\" fill=\"none\"" + stroke_attrs(stroke) + "/>\n";
  }

  /// A polyline drawn over time (SVG SMIL animation, no script): the line grows from the first
  /// point and a dot of the line's colour runs ahead of it, reaching points[i] at times[i] (in
  /// [0, 1], ascending) of `seconds`; then it holds for `hold` seconds and starts again. Viewers
  /// without SMIL show nothing of it. Needs finite points. At most `keyframes` + 1 key frames are
  /// written, at evenly spaced points, so long paths stay small.
  void add_animated_path(const std::vector<Point>& points, const std::vector<double>& times,
                         const Stroke& stroke, std::string_view id, double seconds, double hold = 2,
                         std::size_t keyframes = 60) {
    if (points.size() != times.size()) throw std::invalid_argument("Figure: one time per point");
    const std::string d = path_data(points);
    if (d.empty() || points.size() < 2) return;
    // Cumulative length in pixels, as the renderer measures the path (same rounded coordinates).
    std::vector<double> length(points.size(), 0.0);
    for (std::size_t i = 1; i < points.size(); ++i) {
      const auto a = pixel(points[i - 1]), b = pixel(points[i]);
      length[i] = length[i - 1] + std::hypot(b.x - a.x, b.y - a.y);
    }
    const double total = length.back(), cycle = seconds + hold;
    if (!(total > 0)) return;
    std::string key_times, key_points, offsets;
    const std::size_t last = points.size() - 1, frames = std::min(keyframes, last);
    for (std::size_t k = 0; k <= frames; ++k) {
      const std::size_t i = k * last / frames;
      const std::string sep = k ? ";" : "";
      // Three decimals, trailing zeros dropped: "0.25", not "0.250".
      const auto fraction = [](double v) { return detail::number(std::round(v * 1000) / 1000, -1); };
      key_times += sep + fraction(std::clamp(times[i], 0.0, 1.0) * seconds / cycle);
      key_points += sep + fraction(length[i] / total);
      offsets += sep + fraction(1 - length[i] / total);
    }
    key_times += ";1";
    key_points += ";1";
    offsets += ";0";
    const std::string timing = "dur=\"" + detail::number(cycle, -1) + "s\" keyTimes=\"" + key_times +
                               "\" calcMode=\"linear\" repeatCount=\"indefinite\"";
    // pathLength="1": the dash and its offset count in fractions of the whole path; the growing
    // line is one dash, so the stroke's own dash pattern is left out.
    Stroke solid = stroke;
    solid.dash = {};
    const std::string name = escape_xml(id);
    m_plot += "<path id=\"" + name + "\" d=\"" + d + "\" fill=\"none\"" + stroke_attrs(solid) +
              " pathLength=\"1\" stroke-dasharray=\"1 1\" stroke-dashoffset=\"1\">"
              "<animate attributeName=\"stroke-dashoffset\" values=\"" + offsets + "\" " + timing +
              "/></path>\n";
    m_plot += "<circle r=\"4\" fill=\"" + std::string(stroke.color) +
              "\" stroke=\"#ffffff\" stroke-width=\"1\"><animateMotion keyPoints=\"" + key_points + "\" " +
              timing + "><mpath href=\"#" + name + "\"/></animateMotion></circle>\n";
  }

  /// A marker of `radius` pixels at a data point; drawn over the axes, not clipped.
  void add_marker(Point at, Marker shape, double radius, std::string_view fill,
                  const Stroke& stroke = {}) {
    const double x = px(at.x), y = py(at.y), r = radius;
    const std::string style = " fill=\"" + std::string(fill) + "\"" + stroke_attrs(stroke) + "/>\n";
    const auto polygon = [&](const std::vector<Point>& corners) {
      std::string points;
      for (const Point& c : corners) points += num(x + c.x) + "," + num(y + c.y) + " ";
      m_overlay += "<polygon points=\"" + points + "\"" + style;
    };
    switch (shape) {
      case Marker::circle:
        m_overlay += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\"" + style;
        break;
      case Marker::square: polygon({{-r, -r}, {r, -r}, {r, r}, {-r, r}}); break;
      case Marker::diamond: polygon({{0, -r}, {r, 0}, {0, r}, {-r, 0}}); break;
      case Marker::star: {
        std::vector<Point> corners;
        for (int k = 0; k < 10; ++k) {
          const double angle = k * 0.6283185307179586, len = k % 2 ? r * 0.45 : r;
          corners.push_back({len * std::sin(angle), -len * std::cos(angle)});
        }
        polygon(corners);
        break;
      }
    }
  }

  /// Text at a data point, shifted by (dx, dy) pixels; anchor is "start", "middle" or "end".
  /// A white halo keeps it readable where it crosses lines.
  void add_text(Point at, std::string_view text, double size = 12, std::string_view anchor = "start",
                double dx = 0, double dy = 0, std::string_view color = "#000000") {
    m_overlay += "<text x=\"" + num(px(at.x) + dx) + "\" y=\"" + num(py(at.y) + dy) +
                 "\" font-size=\"" + num(size) + "\" text-anchor=\"" + std::string(anchor) +
                 "\" fill=\"" + std::string(color) +
                 "\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">" +
                 escape_xml(text) + "</text>\n";
  }

  /// One legend row: a short line in the path's style, then the label.
  void add_legend_entry(std::string_view label, const Stroke& stroke) {
    m_legend.push_back({escape_xml(label), std::string(stroke.color), stroke.width, stroke.opacity,
                        std::string(stroke.dash)});
  }

  /// Contour lines f(x, y) = level for each level, by marching squares on a grid x grid lattice
  /// over the plot range. Light grey by default, drawn under everything added later.
  template <class F>
  void add_contours(const F& f, const std::vector<double>& levels, std::size_t grid = 160,
                    const Stroke& stroke = {.color = "#c8c8c8", .width = 0.8}) {
    const std::size_t n = std::max<std::size_t>(grid, 2);
    const auto gx = [&](double i) { return m_x.lo + (m_x.hi - m_x.lo) * i / double(n); };
    const auto gy = [&](double j) { return m_y.lo + (m_y.hi - m_y.lo) * j / double(n); };
    std::vector<double> v((n + 1) * (n + 1));  // f at the lattice points, row j = y index
    for (std::size_t j = 0; j <= n; ++j) {
      for (std::size_t i = 0; i <= n; ++i) v[j * (n + 1) + i] = f(gx(double(i)), gy(double(j)));
    }
    // Corners of a cell counter-clockwise from bottom-left; edge k runs from corner k to k + 1.
    constexpr std::array<std::array<int, 2>, 4> corner = {{{0, 0}, {1, 0}, {1, 1}, {0, 1}}};
    for (const double level : levels) {
      PathData d(m_decimals);  // d.last(): where the previous segment ended, to continue there
      bool started = false;
      const auto same = [](Point a, Point b) { return a.x == b.x && a.y == b.y; };
      const auto segment = [&](Point a, Point b) {
        Point from = pixel(a), to = pixel(b);
        if (started && same(to, d.last())) std::swap(from, to);
        if (!started || !same(from, d.last())) d.move_to(from);
        d.line_to(to);
        started = true;
      };
      for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t i = 0; i < n; ++i) {
          std::array<double, 4> val{};
          for (std::size_t k = 0; k < 4; ++k) {
            val[k] = v[(j + std::size_t(corner[k][1])) * (n + 1) + i + std::size_t(corner[k][0])];
          }
          if (!std::all_of(val.begin(), val.end(), [](double x) { return std::isfinite(x); })) continue;
          std::array<Point, 4> cross;  // where the level crosses the cell's edges, in edge order
          std::size_t count = 0;
          for (std::size_t k = 0; k < 4; ++k) {
            const std::size_t l = (k + 1) % 4;
            if ((val[k] < level) == (val[l] < level)) continue;
            const double t = (level - val[k]) / (val[l] - val[k]);
            cross[count++] = {gx(double(i) + corner[k][0] + t * (corner[l][0] - corner[k][0])),
                              gy(double(j) + corner[k][1] + t * (corner[l][1] - corner[k][1]))};
          }
          if (count == 2) {
            segment(cross[0], cross[1]);
          } else if (count == 4) {  // saddle cell: the centre value decides the pairing
            const double centre = (val[0] + val[1] + val[2] + val[3]) / 4;
            if ((centre < level) == (val[0] < level)) {  // corners 1 and 3 are cut off
              segment(cross[0], cross[1]);
              segment(cross[2], cross[3]);
            } else {  // corners 0 and 2 are cut off
              segment(cross[3], cross[0]);
              segment(cross[1], cross[2]);
            }
          }
        }
      }
      if (started) m_plot += "<path d=\"" + d.str() + "\" fill=\"none\"" + stroke_attrs(stroke) + "/>\n";
    }
  }

  double width() const { return m_width; }
  double height() const { return m_height; }

  /// The whole document as text.
  std::string render() const {
    return detail::svg_open(m_width, m_height) + render_content("plot-area") + "</svg>\n";
  }

  /// The figure's elements without the document around them, for composing figures; clip_id
  /// names its clip path and must be unique within the document.
  std::string render_content(std::string_view clip_id) const {
    const double left = m_margins.left, top = m_margins.top;
    const double right = left + plot_width(), bottom = top + plot_height();
    std::string s = "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    s += "<defs><clipPath id=\"" + std::string(clip_id) + "\"><rect x=\"" + num(left) + "\" y=\"" + num(top) +
         "\" width=\"" + num(plot_width()) + "\" height=\"" + num(plot_height()) +
         "\"/></clipPath></defs>\n";
    s += "<g clip-path=\"url(#" + std::string(clip_id) + ")\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n" +
         m_plot + "</g>\n";

    // Axes: a frame, ticks outward, tick labels, titles.
    s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(plot_width()) +
         "\" height=\"" + num(plot_height()) + "\" fill=\"none\" stroke=\"#000000\"/>\n";
    double step = 0;
    std::vector<double> x_ticks = detail::nice_ticks(m_x.lo, m_x.hi, 8, step);
    std::vector<std::string> x_labels;
    if (!m_x_ticks.empty()) {
      x_ticks.clear();
      for (std::size_t i = 0; i < m_x_ticks.size(); ++i) {
        const double t = m_x_ticks[i];
        if (t < m_x.lo || t > m_x.hi) continue;
        x_ticks.push_back(t);
        if (!m_x_tick_labels.empty()) x_labels.push_back(escape_xml(m_x_tick_labels[i]));
      }
      step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
    }
    for (std::size_t i = 0; i < x_ticks.size(); ++i) {
      const double t = x_ticks[i];
      const std::string x = num(px(t));
      s += "<line x1=\"" + x + "\" y1=\"" + num(bottom) + "\" x2=\"" + x + "\" y2=\"" +
           num(bottom + 5) + "\" stroke=\"#000000\"/>\n";
      s += "<text x=\"" + x + "\" y=\"" + num(bottom + 19) + "\" font-size=\"12\" text-anchor=\"middle\">" +
           (x_labels.empty() ? tick_label(t, step) : x_labels[i]) + "</text>\n";
    }
    for (const double t : detail::nice_ticks(m_y.lo, m_y.hi, 6, step)) {
      const std::string y = num(py(t));
      s += "<line x1=\"" + num(left - 5) + "\" y1=\"" + y + "\" x2=\"" + num(left) + "\" y2=\"" + y +
           "\" stroke=\"#000000\"/>\n";
      s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(py(t) + 4) +
           "\" font-size=\"12\" text-anchor=\"end\">" + tick_label(t, step) + "</text>\n";
    }
    if (!m_x_title.empty()) {
      s += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(bottom + 42) +
           "\" font-size=\"14\" text-anchor=\"middle\">" + m_x_title + "</text>\n";
    }
    if (!m_y_title.empty()) {
      const std::string x = num(left - 44), y = num((top + bottom) / 2);
      s += "<text x=\"" + x + "\" y=\"" + y + "\" font-size=\"14\" text-anchor=\"middle\" transform=\"rotate(-90 " +
           x + " " + y + ")\">" + m_y_title + "</text>\n";
    }
    if (!m_title.empty()) {
      s += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(top - 16) +
           "\" font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\">" + m_title + "</text>\n";
    }
    s += m_overlay;

    // Legend in the right margin, one 20-pixel row per entry.
    for (std::size_t k = 0; k < m_legend.size(); ++k) {
      const LegendEntry& e = m_legend[k];
      const double y = top + 10 + 20.0 * double(k);
      s += "<line x1=\"" + num(right + 14) + "\" y1=\"" + num(y) + "\" x2=\"" + num(right + 40) +
           "\" y2=\"" + num(y) + "\"" +
           stroke_attrs({.color = e.color, .width = std::max(e.width, 2.5), .opacity = e.opacity, .dash = e.dash}) +
           "/>\n";
      s += "<text x=\"" + num(right + 46) + "\" y=\"" + num(y + 4) + "\" font-size=\"12\">" + e.label +
           "</text>\n";
    }
    return s;
  }

  /// Writes render() to `path`; throws std::runtime_error naming the file on failure.
  void save(const std::filesystem::path& path) const {
    std::ofstream out(path, std::ios::binary);
    if (out) out << render();
    if (out) out.close();
    if (!out) throw std::runtime_error("cannot write SVG file '" + path.string() + "'");
  }

 private:
  struct LegendEntry {
    std::string label;
    std::string color;
    double width;
    double opacity;
    std::string dash;
  };

  static std::string num(double v) { return detail::number(v, 1); }

  /// p in pixels, rounded as it is written. Far-off points (a diverging path) are pulled in so
  /// renderers never see huge numbers.
  Point pixel(Point p) const {
    const double scale = std::pow(10.0, m_decimals);
    const auto round = [&](double v) { return std::round(std::clamp(v, -1e5, 1e5) * scale) / scale; };
    return {round(px(p.x)), round(py(p.y))};
  }

  /// Path data "M x,y l dx,dy dx,dy ...": moves absolute, lines relative (shorter), in pixels
  /// rounded to the precision, so the offsets add up exactly.
  class PathData {
   public:
    explicit PathData(int decimals) : m_decimals(decimals) {}
    void move_to(Point p) {
      m_d.append(m_d.empty() ? "M" : " M").append(text(p.x)).append(",").append(text(p.y));
      m_last = p;
      m_relative = false;
    }
    void line_to(Point p) {
      m_d.append(m_relative ? " " : " l").append(text(p.x - m_last.x)).append(",").append(text(p.y - m_last.y));
      m_last = p;
      m_relative = true;
    }
    const Point& last() const { return m_last; }
    const std::string& str() const { return m_d; }

   private:
    std::string text(double v) const {
      const std::string t = detail::number(v, m_decimals);
      return t == "-0" || t == "-0.0" ? t.substr(1) : t;
    }
    int m_decimals;
    std::string m_d;
    Point m_last;
    bool m_relative = false;
  };

  /// The path data of a polyline; a non-finite point breaks the line, repeated pixels are left out.
  std::string path_data(const std::vector<Point>& points) const {
    PathData d(m_decimals);
    bool pen_down = false;
    for (const Point& p : points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
        pen_down = false;
        continue;
      }
      const Point q = pixel(p);
      if (!pen_down) {
        d.move_to(q);
      } else if (q.x != d.last().x || q.y != d.last().y) {
        d.line_to(q);
      }
      pen_down = true;
    }
    return d.str();
  }

  static std::string tick_label(double t, double step) {
    const int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
    return detail::number(t, decimals);
  }

  static std::string stroke_attrs(const Stroke& s) {
    std::string a = " stroke=\"" + std::string(s.color) + "\" stroke-width=\"" + detail::number(s.width, -1) + "\"";
    if (s.opacity < 1) a += " stroke-opacity=\"" + detail::number(s.opacity, -1) + "\"";
    if (!s.dash.empty()) a += " stroke-dasharray=\"" + std::string(s.dash) + "\"";
    return a;
  }

  double m_width;
  double m_height;
  Range m_x;
  Range m_y;
  Margins m_margins;
  std::string m_title;
  std::string m_x_title;
  std::string m_y_title;
  std::string m_plot;     ///< contours and paths, clipped to the plot area
  std::string m_overlay;  ///< markers and text, drawn over the axes
  std::vector<LegendEntry> m_legend;
  std::vector<double> m_x_ticks;  ///< empty: automatic
  std::vector<std::string> m_x_tick_labels;  ///< empty: the numbers
  int m_decimals = 1;             ///< of pixel coordinates in paths
};

/// Figures side by side in one document, tops aligned, under an optional title line.
inline std::string render_row(const std::vector<const Figure*>& figures, std::string_view title = {}) {
  const double band = title.empty() ? 0 : 34;
  double width = 0, height = 0;
  for (const Figure* f : figures) {
    width += f->width();
    height = std::max(height, f->height());
  }
  const auto num = [](double v) { return detail::number(v, 1); };
  std::string s = detail::svg_open(width, height + band);
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!title.empty()) {
    s += "<text x=\"" + num(width / 2) + "\" y=\"24\" font-size=\"17\" font-weight=\"bold\" "
         "text-anchor=\"middle\">" + escape_xml(title) + "</text>\n";
  }
  double x = 0;
  for (std::size_t i = 0; i < figures.size(); ++i) {
    const Figure& f = *figures[i];
    s += "<svg x=\"" + num(x) + "\" y=\"" + num(band) + "\" width=\"" + num(f.width()) +
         "\" height=\"" + num(f.height()) + "\" viewBox=\"0 0 " + num(f.width()) + " " +
         num(f.height()) + "\">\n" + f.render_content("plot-area-" + std::to_string(i)) + "</svg>\n";
    x += f.width();
  }
  return s + "</svg>\n";
}

}  // namespace descent::examples
