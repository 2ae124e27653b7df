// trajectories: all nine optimizers, one start point, five 2-D test functions, one picture each.
//
// What it shows
//   Each optimizer (in double) walks down a 2-D function from the same start for the same number
//   of steps. trajectory_<function>.svg draws every path in its own colour over the function's
//   contour lines, with the start (white circle), the minimum (star) and each path's end (dot).
//   Per function the program prints a table: learning rate, final f, distance to the minimum,
//   and who got closest; at the end a summary, every optimizer's distance and rank on every
//   function. With --animate it also writes trajectory_<function>_animated.svg, where the paths
//   grow step by step (SVG's own animation, no script): 10 seconds for all the steps, so you
//   see which optimizer is fast at the start and which at the end.
//
// How to run
//   ./scripts/demo.sh
//   build/examples/trajectories --out build/trajectories [--steps N] [--animate]
//   then open build/trajectories/trajectory_<function>.svg in a browser.
//   Default: 300 steps per function, 1000 on Rosenbrock; --steps N sets N for all of them.
//
// What to look for
//   bowl        0.5 (u^2 + 50 v^2) in axes turned 30 degrees (condition number 50). SGD, at 0.038
//               just under its stability limit 2/50, zig-zags across the narrow valley. Momentum
//               overshoots the minimum and swings back; Nesterov's look-ahead damps the swing.
//               AdaGrad's first step is learning_rate along each axis (the gradient's sign), its
//               later steps shrink. Per-axis scaling cannot undo a turned valley, but the adaptive
//               methods do not zig-zag. Adadelta has covered a third of the way.
//   rosenbrock  the curved valley. All drop into it fast, then crawl along its floor. SGD, held to
//               0.001 by the steep walls at the start (curvature ~2000), is still on the left arm;
//               AdaGrad's steps have shrunk to nothing at the bottom of the valley; Momentum and
//               Nesterov run along the floor; Adam gets closest. AdamW stops short: its weight
//               decay pulls toward the origin, so it minimizes f plus decay, not f.
//   beale       a steep start and a long flat floor. Momentum and Nesterov swing wide below the
//               valley; Adam, AdamW and Nadam first step diagonally (sign-like steps), then follow
//               the valley; all end strung out along the floor leading to (3, 0.5).
//   saddle      x^2 + (y^2 - 1)^2 / 4: a saddle at (0, 0) between wells at (0, +-1); the start
//               lies 0.001 off the ridge y = 0. SGD, Momentum and Nesterov run along the ridge
//               into the saddle and wait there while the offset grows (by 1 + lr per step for
//               SGD) before they climb to (0, 1); Momentum overshoots past the saddle. AdaGrad,
//               RMSProp, Adadelta, Adam and Nadam divide the tiny y-gradient by its own size and
//               head for the well at once.
//   plateau     1 - exp(-(x^2 + 5 y^2) / 2): almost flat far from the minimum. SGD's learning
//               rate is capped by the well's curvature (5, stable below 2/5), and at 0.3 it has
//               hardly left the start after 300 steps (the dots mark every 25th step). The
//               adaptive methods move about learning_rate per step from the first one; RMSProp's
//               first steps are 10x its learning rate (no bias correction: sqrt(1 - rho) = 0.1).
//               Momentum gathers speed slowly, then overshoots.
//   Adadelta runs at its default learning rate 1.0 everywhere, untuned: its first steps are about
//   sqrt(epsilon / (1 - rho)) ~ 0.003 and grow from there, so it is slow to start on every picture.
//
// Learning rates (per function, chosen so each optimizer does well without diverging; Momentum
// and Nesterov use momentum 0.9, so their long-run step is 10x the learning rate; AdamW keeps its
// default weight_decay 0.01; all other options are the defaults):
//
//   optimizer   bowl     rosenbrock  beale    saddle   plateau
//   SGD         0.038    0.001       0.01     0.05     0.3
//   Momentum    0.01     0.0005      0.001    0.02     0.2
//   Nesterov    0.01     0.0005      0.001    0.02     0.2
//   AdaGrad     0.5      0.5         0.5      0.5      0.5
//   RMSProp     0.02     0.01        0.01     0.02     0.02
//   Adadelta    1        1           1        1        1
//   Adam        0.05     0.05        0.05     0.05     0.05
//   AdamW       0.05     0.05        0.05     0.05     0.05
//   Nadam       0.05     0.02        0.05     0.05     0.05
//
// A path that turns non-finite or strays more than a view's width outside the view is stopped
// there; the table then says "diverged at step k" and the legend marks it.

#include <descent/optim.hpp>

#include "svg.hpp"

#include <Eigen/Core>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

namespace ex = descent::examples;
using Vec2 = Eigen::Vector2d;

constexpr int optimizer_count = 9;

struct TestFunction {
  std::string name;   ///< file name part: trajectory_<name>.svg
  std::string title;  ///< figure title
  std::function<double(double, double)> f;
  std::function<Vec2(const Vec2&)> grad;
  Vec2 start;
  Vec2 minimum;
  ex::Range x;
  ex::Range y;
  std::vector<double> levels;
  std::array<double, optimizer_count> learning_rates;  ///< in the order of `optimizers` below
  int steps = 300;
  std::string look_for;
  int dot_every = 0;  ///< a dot on each path every this many steps, to show speed; 0 for none
  std::size_t contour_grid = 100;  ///< marching-squares cells per axis; fewer, smaller files
  ex::Point start_label = {8, -8};  ///< pixel offset of the "start" label; dx < 0 puts it left
  ex::Point minimum_label = {10, 14};
  std::vector<std::pair<ex::Point, std::string>> notes = {};  ///< other points worth a label
};

struct Trajectory {
  std::vector<Vec2> points;  ///< start, then one point per step taken
  int diverged_at = 0;       ///< step at which the path was stopped, 0 if it ran to the end
};

/// Runs `steps` steps of Opt from fn.start; stops early if the point is non-finite or far out.
template <class Opt>
Trajectory run(const TestFunction& fn, double learning_rate, int steps) {
  typename Opt::Options options;
  options.learning_rate = learning_rate;
  const Opt optimizer(options);
  Vec2 w = fn.start;
  auto state = optimizer.init(w);
  const double wx = fn.x.hi - fn.x.lo, wy = fn.y.hi - fn.y.lo;
  Trajectory t;
  t.points.push_back(w);
  for (int i = 1; i <= steps; ++i) {
    optimizer.step(w, fn.grad(w), state);
    const bool far = w.x() < fn.x.lo - wx || w.x() > fn.x.hi + wx || w.y() < fn.y.lo - wy ||
                     w.y() > fn.y.hi + wy;
    if (!w.allFinite() || far) {
      if (w.allFinite()) t.points.push_back(w);  // drawn up to the plot's edge
      t.diverged_at = i;
      break;
    }
    t.points.push_back(w);
  }
  return t;
}

struct Optimizer {
  std::string_view name;
  Trajectory (*run)(const TestFunction&, double, int);
  std::string_view dash;  ///< AdamW is dashed: it runs on top of Adam for most of the way
};

const std::array<Optimizer, optimizer_count> optimizers = {{
    {descent::SGD<double>::class_name, &run<descent::SGD<double>>, ""},
    {descent::Momentum<double>::class_name, &run<descent::Momentum<double>>, ""},
    {descent::Nesterov<double>::class_name, &run<descent::Nesterov<double>>, ""},
    {descent::AdaGrad<double>::class_name, &run<descent::AdaGrad<double>>, ""},
    {descent::RMSProp<double>::class_name, &run<descent::RMSProp<double>>, ""},
    {descent::Adadelta<double>::class_name, &run<descent::Adadelta<double>>, ""},
    {descent::Adam<double>::class_name, &run<descent::Adam<double>>, ""},
    {descent::AdamW<double>::class_name, &run<descent::AdamW<double>>, "7 4"},
    {descent::Nadam<double>::class_name, &run<descent::Nadam<double>>, ""},
}};

std::vector<TestFunction> test_functions() {
  std::vector<TestFunction> fns;

  // Ill-conditioned bowl: 0.5 (u^2 + 50 v^2) with (u, v) the axes turned by 30 degrees.
  {
    const double c = std::cos(std::numbers::pi / 6), s = std::sin(std::numbers::pi / 6), k = 50;
    const auto uv = [=](double x, double y) { return Vec2(c * x + s * y, -s * x + c * y); };
    TestFunction fn;
    fn.name = "bowl";
    fn.title = "Ill-conditioned bowl 0.5 (u\u00b2 + 50 v\u00b2), axes turned 30\u00b0";
    fn.f = [=](double x, double y) {
      const Vec2 p = uv(x, y);
      return 0.5 * (p.x() * p.x() + k * p.y() * p.y());
    };
    // df/dx = u c - k v s,  df/dy = u s + k v c
    fn.grad = [=](const Vec2& w) {
      const Vec2 p = uv(w.x(), w.y());
      return Vec2(p.x() * c - k * p.y() * s, p.x() * s + k * p.y() * c);
    };
    fn.start = {-2.75, -1.25};
    fn.start_label = {-8, -8};
    fn.minimum = {0, 0};
    fn.x = {-3.2, 1.2};
    fn.y = {-1.8, 1.0};
    fn.levels = ex::log_levels(0.01, 100, 15);
    fn.learning_rates = {0.038, 0.01, 0.01, 0.5, 0.02, 1.0, 0.05, 0.05, 0.05};
    fn.look_for =
        "SGD (just under its limit 2/50) zig-zags across the narrow valley; Momentum overshoots\n"
        "the minimum and swings back, Nesterov less; AdaGrad's steps shrink; Adadelta is a third\n"
        "of the way there.";
    fns.push_back(fn);
  }

  // Rosenbrock: (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1).
  {
    TestFunction fn;
    fn.name = "rosenbrock";
    fn.title = "Rosenbrock (1 \u2212 x)\u00b2 + 100 (y \u2212 x\u00b2)\u00b2";
    fn.f = [](double x, double y) { return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x); };
    // df/dx = -2 (1 - x) - 400 x (y - x^2),  df/dy = 200 (y - x^2)
    fn.grad = [](const Vec2& w) {
      const double x = w.x(), y = w.y();
      return Vec2(-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x));
    };
    fn.start = {-1.5, 2.0};
    fn.start_label = {-8, -8};
    fn.minimum = {1, 1};
    fn.x = {-2, 2};
    fn.y = {-1, 3};
    fn.levels = ex::log_levels(0.05, 2000, 16);
    fn.learning_rates = {0.001, 0.0005, 0.0005, 0.5, 0.01, 1.0, 0.05, 0.05, 0.02};
    fn.steps = 1000;
    fn.contour_grid = 70;  // its long curved contours are most of the file
    fn.look_for =
        "all drop into the curved valley, then crawl along its floor toward (1, 1). SGD is held\n"
        "back by the steep walls, AdaGrad's steps have shrunk away, AdamW stops short (its weight\n"
        "decay pulls toward the origin).";
    fns.push_back(fn);
  }

  // Beale: (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2, minimum at (3, 0.5).
  {
    TestFunction fn;
    fn.name = "beale";
    fn.title = "Beale function, minimum at (3, 0.5)";
    fn.f = [](double x, double y) {
      const double a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, d = 2.625 - x + x * y * y * y;
      return a * a + b * b + d * d;
    };
    // df/dx = 2a (y - 1) + 2b (y^2 - 1) + 2d (y^3 - 1),  df/dy = 2a x + 2b 2xy + 2d 3xy^2
    fn.grad = [](const Vec2& w) {
      const double x = w.x(), y = w.y();
      const double a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, d = 2.625 - x + x * y * y * y;
      return Vec2(2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * d * (y * y * y - 1),
                  2 * a * x + 4 * b * x * y + 6 * d * x * y * y);
    };
    fn.start = {1.0, 1.4};
    fn.minimum = {3, 0.5};
    fn.x = {-0.5, 4};
    fn.y = {-1.2, 2};
    fn.levels = ex::log_levels(0.01, 500, 16);
    fn.learning_rates = {0.01, 0.001, 0.001, 0.5, 0.01, 1.0, 0.05, 0.05, 0.05};
    fn.look_for =
        "Momentum and Nesterov swing wide below the valley; Adam, AdamW and Nadam first step\n"
        "diagonally (sign-like steps); all end strung out along the flat floor toward (3, 0.5).";
    fns.push_back(fn);
  }

  // A saddle between two wells: x^2 + (y^2 - 1)^2 / 4; saddle at (0, 0), minima at (0, +-1).
  {
    TestFunction fn;
    fn.name = "saddle";
    fn.title = "Saddle x\u00b2 + (y\u00b2 \u2212 1)\u00b2 / 4, start just off the ridge";
    fn.f = [](double x, double y) { return x * x + 0.25 * (y * y - 1) * (y * y - 1); };
    // df/dx = 2x,  df/dy = y (y^2 - 1)
    fn.grad = [](const Vec2& w) { return Vec2(2 * w.x(), w.y() * (w.y() * w.y() - 1)); };
    fn.start = {-1.4, 0.001};
    fn.start_label = {8, 18};
    fn.notes = {{{0, 0}, "saddle"}};
    fn.minimum = {0, 1};
    fn.x = {-1.6, 1.0};
    fn.y = {-0.9, 1.5};
    fn.levels = ex::linear_levels(0.02, 2.5, 20);
    fn.learning_rates = {0.05, 0.02, 0.02, 0.5, 0.02, 1.0, 0.05, 0.05, 0.05};
    fn.look_for =
        "SGD, Momentum and Nesterov run along the ridge into the saddle and leave it late;\n"
        "the adaptive methods scale up the tiny y-gradient and head for the well at once.";
    fns.push_back(fn);
  }

  // Plateau: 1 - exp(-(x^2 + 5 y^2) / 2), flat far from the minimum at (0, 0).
  {
    const double a = 5;
    TestFunction fn;
    fn.name = "plateau";
    fn.title = "Plateau 1 \u2212 exp(\u2212(x\u00b2 + 5 y\u00b2) / 2)";
    fn.f = [=](double x, double y) { return 1 - std::exp(-(x * x + a * y * y) / 2); };
    // df/dx = x e,  df/dy = a y e,  e = exp(-(x^2 + a y^2) / 2)
    fn.grad = [=](const Vec2& w) {
      const double e = std::exp(-(w.x() * w.x() + a * w.y() * w.y()) / 2);
      return Vec2(w.x() * e, a * w.y() * e);
    };
    fn.start = {3.2, 1.1};
    fn.dot_every = 25;
    fn.minimum = {0, 0};
    fn.x = {-1.2, 3.8};
    fn.y = {-1.0, 1.4};
    // Levels at "radius" r = 0.25 ... 4: f = 1 - exp(-r^2 / 2); most of them crowd near 1.
    for (double r = 0.25; r <= 4.01; r += 0.25) fn.levels.push_back(1 - std::exp(-r * r / 2));
    fn.learning_rates = {0.3, 0.2, 0.2, 0.5, 0.02, 1.0, 0.05, 0.05, 0.05};
    fn.look_for =
        "SGD, its learning rate capped by the well's curvature, hardly leaves the start (dots every\n"
        "25 steps); the adaptive methods cross the flat part at about learning_rate per step;\n"
        "Momentum gathers speed slowly, then overshoots.";
    fns.push_back(fn);
  }
  return fns;
}

ex::Point point(const Vec2& v) { return {v.x(), v.y()}; }

std::string format_lr(double lr) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", lr);
  return buf;
}

/// "AdaGrad" -> "adagrad": the name make_optimizer knows, used as the path's id.
std::string lower(std::string_view name) {
  std::string s(name);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The empty picture of fn: axes, title, contours. Whole-pixel coordinates and a coarse contour
/// grid keep the files small enough to commit.
ex::Figure figure(const TestFunction& fn, std::string_view title_suffix = {}) {
  // Same scale on both axes, so a zig-zag across a valley looks like one.
  const double plot_width = 540;
  const double plot_height = plot_width * (fn.y.hi - fn.y.lo) / (fn.x.hi - fn.x.lo);
  const ex::Margins margins{.left = 64, .right = 200, .top = 44, .bottom = 56};
  ex::Figure fig(plot_width + margins.left + margins.right, plot_height + margins.top + margins.bottom,
                 fn.x, fn.y, margins);
  fig.set_precision(0);
  fig.set_title(fn.title + std::string(title_suffix));
  fig.set_axis_titles("x", "y");
  fig.add_contours(fn.f, fn.levels, fn.contour_grid);
  return fig;
}

/// Distance of each optimizer's end point to the minimum (NaN where it diverged), in the order
/// of `optimizers`.
using Distances = std::array<double, optimizer_count>;

/// Runs every optimizer on fn, writes the picture (and, with `animate`, an animated one), prints
/// the table; returns the distances for the summary.
Distances show(const TestFunction& fn, int steps, const std::filesystem::path& out_dir, bool animate) {
  ex::Figure fig = figure(fn);
  ex::Figure anim = figure(fn, " (animated)");
  Distances distances;
  distances.fill(std::numeric_limits<double>::quiet_NaN());

  std::printf("\n== %s: %d steps from (%g, %g); minimum at (%g, %g), f = %g\n", fn.name.c_str(), steps,
              fn.start.x(), fn.start.y(), fn.minimum.x(), fn.minimum.y(),
              fn.f(fn.minimum.x(), fn.minimum.y()));
  std::printf("  %-10s %-13s %-12s %-14s %s\n", "optimizer", "learning_rate", "final f",
              "dist. to min", "note");

  struct End {
    ex::Point at;
    std::string_view color;
  };
  std::vector<End> ends;  // drawn after all paths, SGD's last, so short paths keep a visible dot
  std::string_view best;
  double best_distance = std::numeric_limits<double>::infinity();
  std::string arrived;  // names of those within `close` of the minimum
  constexpr double close = 1e-6;
  for (std::size_t k = 0; k < optimizers.size(); ++k) {
    const Optimizer& opt = optimizers[k];
    const double lr = fn.learning_rates[k];
    const Trajectory t = opt.run(fn, lr, steps);
    const ex::Stroke stroke{.color = ex::palette[k], .width = 1.8, .opacity = 0.9, .dash = opt.dash};
    std::vector<ex::Point> points;
    std::vector<double> times;  // step i of `steps` is reached at time i / steps
    for (const Vec2& p : t.points) {
      times.push_back(double(points.size()) / steps);
      points.push_back(point(p));
    }
    fig.add_path(points, stroke, "path-" + lower(opt.name));
    if (animate) {
      anim.add_animated_path(points, times, stroke, "path-" + lower(opt.name), 10);
      anim.add_legend_entry(std::string(opt.name) + "  lr " + format_lr(lr) +
                                (t.diverged_at ? "  (diverged)" : ""),
                            stroke);
    }
    for (std::size_t i = fn.dot_every; fn.dot_every > 0 && i < points.size(); i += fn.dot_every) {
      const ex::Point& p = points[i];
      if (p.x >= fn.x.lo && p.x <= fn.x.hi && p.y >= fn.y.lo && p.y <= fn.y.hi) {
        fig.add_marker(p, ex::Marker::circle, 2.2, ex::palette[k], {.color = ex::palette[k], .width = 0});
      }
    }
    const Vec2& end = t.points.back();
    if (t.diverged_at == 0) ends.push_back({point(end), ex::palette[k]});
    fig.add_legend_entry(std::string(opt.name) + "  lr " + format_lr(lr) +
                             (t.diverged_at ? "  (diverged)" : ""),
                         stroke);

    if (t.diverged_at) {
      std::printf("  %-10s %-13s %-12s %-14s diverged at step %d\n", std::string(opt.name).c_str(),
                  format_lr(lr).c_str(), "-", "-", t.diverged_at);
      continue;
    }
    const double f_end = fn.f(end.x(), end.y());
    const double distance = (end - fn.minimum).norm();
    distances[k] = distance;
    std::printf("  %-10s %-13s %-12.4e %.4e\n", std::string(opt.name).c_str(), format_lr(lr).c_str(),
                f_end, distance);
    if (distance < close) arrived += (arrived.empty() ? "" : ", ") + std::string(opt.name);
    if (distance < best_distance) {
      best_distance = distance;
      best = opt.name;
    }
  }

  for (auto e = ends.rbegin(); e != ends.rend(); ++e) {
    fig.add_marker(e->at, ex::Marker::circle, 3.5, e->color, {.color = "#ffffff", .width = 0.8});
  }
  for (ex::Figure* f : {&fig, &anim}) {
    const auto label = [&](const Vec2& at, std::string_view text, ex::Point offset) {
      f->add_text(point(at), text, 12, offset.x < 0 ? "end" : "start", offset.x, offset.y);
    };
    for (const auto& [at, text] : fn.notes) {
      f->add_marker(at, ex::Marker::diamond, 4.5, "#ffffff", {.color = "#000000", .width = 1.2});
      f->add_text(at, text, 12, "start", 8, 16);
    }
    f->add_marker(point(fn.start), ex::Marker::circle, 5, "#ffffff", {.color = "#000000", .width = 1.5});
    label(fn.start, "start", fn.start_label);
    f->add_marker(point(fn.minimum), ex::Marker::star, 8, "#ffffff", {.color = "#000000", .width = 1.3});
    label(fn.minimum, "minimum", fn.minimum_label);
  }

  const std::filesystem::path file = out_dir / ("trajectory_" + fn.name + ".svg");
  fig.save(file);
  if (animate) {
    const std::filesystem::path animated = out_dir / ("trajectory_" + fn.name + "_animated.svg");
    anim.save(animated);
    std::printf("  wrote %s (10 seconds for %d steps, then again)\n", animated.string().c_str(), steps);
  }
  if (!best.empty()) {
    std::printf("  closest to the minimum: %s (%.3g away)\n", std::string(best).c_str(), best_distance);
  }
  if (!arrived.empty()) std::printf("  within %g of the minimum: %s\n", close, arrived.c_str());
  std::string look_for = fn.look_for;  // indent continuation lines under the first
  for (std::size_t i = look_for.find('\n'); i != std::string::npos; i = look_for.find('\n', i + 1)) {
    look_for.insert(i + 1, "    ");
  }
  std::printf("  look for: %s\n  wrote %s\n", look_for.c_str(), file.string().c_str());
  return distances;
}

/// Who got closest to each function's minimum: a row per optimizer, its distance and its rank
/// on each function (1 = closest), and at the bottom the winner of each column.
void print_summary(const std::vector<TestFunction>& fns, const std::vector<Distances>& all,
                   const std::vector<int>& steps) {
  std::printf("\n== Summary: distance to the minimum after the steps given (rank in brackets)\n");
  std::printf("  %-10s", "");
  for (std::size_t f = 0; f < fns.size(); ++f) {
    std::printf(" %-16s", (fns[f].name + " (" + std::to_string(steps[f]) + ")").c_str());
  }
  std::printf("\n");
  for (std::size_t k = 0; k < optimizers.size(); ++k) {
    std::printf("  %-10s", std::string(optimizers[k].name).c_str());
    for (std::size_t f = 0; f < fns.size(); ++f) {
      const double d = all[f][k];
      if (std::isnan(d)) {
        std::printf(" %-16s", "diverged");
        continue;
      }
      int rank = 1;  // 1 + how many got strictly closer
      for (const double other : all[f]) rank += other < d ? 1 : 0;
      char cell[32];
      std::snprintf(cell, sizeof cell, "%.2e (%d)", d, rank);
      std::printf(" %-16s", cell);
    }
    std::printf("\n");
  }
  std::printf("  %-10s", "closest");
  for (std::size_t f = 0; f < fns.size(); ++f) {
    std::size_t best = 0;
    for (std::size_t k = 1; k < optimizers.size(); ++k) {
      if (std::isnan(all[f][best]) || all[f][k] < all[f][best]) best = k;
    }
    std::printf(" %-16s", std::string(optimizers[best].name).c_str());
  }
  std::printf("\n  No optimizer wins everywhere: that is the point of having nine.\n");
}

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "trajectories: %s\nusage: trajectories [--out DIR] [--steps N] [--animate]\n",
               message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path out_dir = ".";
  std::optional<int> steps;  // unset: each function's own count
  bool animate = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf("usage: trajectories [--out DIR] [--steps N] [--animate]\n"
                  "  --out DIR    where to write trajectory_<function>.svg (default: .)\n"
                  "  --steps N    steps per optimizer on every function\n"
                  "               (default: 300, 1000 on Rosenbrock)\n"
                  "  --animate    also write trajectory_<function>_animated.svg, where the paths\n"
                  "               grow step by step (SVG animation; open it in a browser)\n");
      return 0;
    }
    if (arg == "--animate") {
      animate = true;
      continue;
    }
    if (arg != "--out" && arg != "--steps") usage_error("unknown flag '" + std::string(arg) + "'");
    if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
    const std::string_view value = argv[++i];
    if (arg == "--out") {
      if (value.empty()) usage_error("--out needs a non-empty directory name");
      out_dir = std::filesystem::path(value);
    } else {
      int n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n < 1 || n > 100000) {
        usage_error("--steps must be an integer from 1 to 100000, got '" + std::string(value) + "'");
      }
      steps = n;
    }
  }

  try {
    std::filesystem::create_directories(out_dir);
    std::printf("Nine optimizers in double precision, one start point per function.\n"
                "Each SVG shows their paths over the contour lines; the tables say where they ended.\n");
    const std::vector<TestFunction> fns = test_functions();
    std::vector<Distances> distances;
    std::vector<int> counts;
    for (const TestFunction& fn : fns) {
      counts.push_back(steps.value_or(fn.steps));
      distances.push_back(show(fn, counts.back(), out_dir, animate));
    }
    print_summary(fns, distances, counts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trajectories: %s\n", e.what());
    return 1;
  }
  return 0;
}
