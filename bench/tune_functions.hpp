#pragma once
// The tuning benchmark's problems, in C++: the same definitions as bench/tune_functions.py.
// scripts/tune_bench.sh evaluates both at the same points and refuses to make a table when they
// disagree, so a typo on one side cannot skew the comparison. A problem is its search space and an
// objective over the values in that order; `argmin` is where its known optimum lies, and the
// optimum's value is measured there, never typed in.

#include <descent/tune/frozen_trial.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numbers>
#include <string>
#include <vector>

namespace tune_bench {

/// One parameter of a problem's search space, as a trial asks for it.
struct ParamSpec {
  enum class Kind { real, integer, categorical };
  std::string name;
  Kind kind = Kind::real;
  double low = 0, high = 1;
  bool log = false;
  double step = 0;  ///< floats: 0 is continuous; ints: the grid step
  std::vector<std::string> choices = {};
};

/// Values in the order of a problem's parameters: double, std::int64_t or the chosen string.
using Point = std::vector<descent::tune::ParamValue>;

/// A search space, an objective over it and the point of its known optimum.
struct Problem {
  std::string name;
  std::vector<ParamSpec> params;
  std::function<double(const Point&)> f;
  Point argmin;
};

inline ParamSpec real(std::string name, double low, double high, bool log = false,
                      double step = 0) {
  return {std::move(name), ParamSpec::Kind::real, low, high, log, step};
}
inline ParamSpec integer(std::string name, double low, double high, double step = 1,
                         bool log = false) {
  return {std::move(name), ParamSpec::Kind::integer, low, high, log, step};
}
inline ParamSpec categorical(std::string name, std::vector<std::string> choices) {
  return {std::move(name), ParamSpec::Kind::categorical, 0, 0, false, 0, std::move(choices)};
}

/// A number from a Point, whether it holds a double or an integer.
inline double number(const descent::tune::ParamValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return double(*i);
  return std::get<double>(v);
}

/// The doubles of an all-float point.
inline std::vector<double> reals(const Point& p) {
  std::vector<double> x;
  for (const auto& v : p) x.push_back(number(v));
  return x;
}

constexpr double pi = std::numbers::pi;

// ---- continuous test functions (Surjanovic & Bingham's collection, usual domains) ---------------

inline double sphere(const std::vector<double>& x) {
  double total = 0;
  for (double v : x) total += v * v;
  return total;
}

/// Schwefel 1.2, the rotated hyper-ellipsoid: ill-conditioned, not separable.
inline double ellipsoid(const std::vector<double>& x) {
  double total = 0, partial = 0;
  for (double v : x) partial += v, total += partial * partial;
  return total;
}

inline double rosenbrock(const std::vector<double>& x) {
  double total = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    total += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
  }
  return total;
}

inline double rastrigin(const std::vector<double>& x) {
  double total = 0;
  for (double v : x) total += v * v - 10 * std::cos(2 * pi * v);
  return 10 * double(x.size()) + total;
}

inline double ackley(const std::vector<double>& x) {
  double squares = 0, cosines = 0;
  for (double v : x) squares += v * v;
  for (double v : x) cosines += std::cos(2 * pi * v);
  const double d = double(x.size());
  return -20 * std::exp(-0.2 * std::sqrt(squares / d)) - std::exp(cosines / d) + 20 +
         std::numbers::e;
}

inline double griewank(const std::vector<double>& x) {
  double total = 0, product = 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    total += x[i] * x[i] / 4000;
    product *= std::cos(x[i] / std::sqrt(double(i + 1)));
  }
  return total - product + 1;
}

inline double styblinski_tang(const std::vector<double>& x) {
  double total = 0;
  for (double v : x) total += std::pow(v, 4) - 16 * v * v + 5 * v;
  return total / 2;
}

inline double levy(const std::vector<double>& x) {
  std::vector<double> w;
  for (double v : x) w.push_back(1 + (v - 1) / 4);
  double total = std::pow(std::sin(pi * w[0]), 2);
  for (std::size_t i = 0; i + 1 < w.size(); ++i) {
    total += std::pow(w[i] - 1, 2) * (1 + 10 * std::pow(std::sin(pi * w[i] + 1), 2));
  }
  return total + std::pow(w.back() - 1, 2) * (1 + std::pow(std::sin(2 * pi * w.back()), 2));
}

inline double schwefel(const std::vector<double>& x) {
  double total = 418.9828872724338 * double(x.size());
  for (double v : x) total -= v * std::sin(std::sqrt(std::abs(v)));
  return total;
}

inline double hartmann6(const std::vector<double>& x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double a[4][6] = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static const double p[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                 {2329, 4135, 8307, 3736, 1004, 9991},
                                 {2348, 1451, 3522, 2883, 3047, 6650},
                                 {4047, 8828, 8732, 5743, 1091, 381}};
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) {
      const double d = x[std::size_t(j)] - p[i][j] * 1e-4;
      inner += a[i][j] * d * d;
    }
    total += alpha[i] * std::exp(-inner);
  }
  return -total;
}

inline double branin(const std::vector<double>& x) {
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  return std::pow(x[1] - b * x[0] * x[0] + c * x[0] - 6, 2) + 10 * (1 - t) * std::cos(x[0]) + 10;
}

inline double six_hump_camel(const std::vector<double>& x) {
  const double a = x[0] * x[0], b = x[1] * x[1];
  return (4 - 2.1 * a + a * a / 3) * a + x[0] * x[1] + (-4 + 4 * b) * b;
}

// ---- mixed spaces: a network's and a trainer's hyperparameters, optimum 0 by construction -------

inline double mlp(const Point& v) {
  static const std::map<std::string, double> best_log_lr = {
      {"sgd", -1.0}, {"momentum", -2.0}, {"adam", -3.0}, {"rmsprop", -3.0}};
  static const std::map<std::string, double> optimizer_cost = {
      {"sgd", 0.6}, {"momentum", 0.3}, {"adam", 0.0}, {"rmsprop", 0.15}};
  static const std::map<std::string, double> activation_cost = {
      {"relu", 0.1}, {"tanh", 0.4}, {"sigmoid", 0.8}, {"gelu", 0.0}};
  const double lr = number(v[0]), layers = number(v[2]), dropout = number(v[4]);
  const std::string& optimizer = std::get<std::string>(v[1]);
  const double width = std::log2(number(v[3]));
  return std::pow(std::log10(lr) - best_log_lr.at(optimizer), 2) + optimizer_cost.at(optimizer) +
         0.2 * std::pow(layers - 3, 2) + 0.3 * std::pow(width - 7, 2) +
         std::pow((layers * width - 21) / 10, 2) + 4 * std::pow(dropout - 0.05 * (width - 3), 2) +
         activation_cost.at(std::get<std::string>(v[5]));
}

inline double trainer(const Point& v) {
  static const std::map<std::string, double> schedule_cost = {
      {"constant", 0.5}, {"step", 0.2}, {"cosine", 0.0}, {"linear", 0.1}};
  const double b = std::log2(number(v[0])), epochs = number(v[1]), momentum = number(v[2]);
  return 0.5 * std::pow(b - 6, 2) + std::pow((epochs - 10 * (b - 2)) / 30, 2) +
         8 * std::pow(momentum - 0.9, 2) + 0.25 * std::pow(std::log10(number(v[3])) + 4, 2) +
         schedule_cost.at(std::get<std::string>(v[4])) + 0.05 * std::pow(number(v[5]) - 3, 2);
}

/// A d-dimensional box [low, high]^d of parameters x0, x1, ...
inline std::vector<ParamSpec> box(int dims, double low, double high) {
  std::vector<ParamSpec> out;
  for (int i = 0; i < dims; ++i) out.push_back(real("x" + std::to_string(i), low, high));
  return out;
}

inline Problem continuous(std::string name, std::vector<ParamSpec> params,
                          double (*f)(const std::vector<double>&), std::vector<double> argmin) {
  return {std::move(name), std::move(params), [f](const Point& p) { return f(reals(p)); },
          Point(argmin.begin(), argmin.end())};
}

/// Every problem of the benchmark, in the order of the table.
inline std::vector<Problem> problems() {
  using S = std::string;
  const std::vector<double> hartmann6_argmin = {0.20168952, 0.15001069, 0.47687398,
                                                0.27533243, 0.31165162, 0.65730054};
  return {
      continuous("sphere", box(5, -5.12, 5.12), sphere, std::vector<double>(5, 0.0)),
      continuous("ellipsoid", box(10, -65.536, 65.536), ellipsoid, std::vector<double>(10, 0.0)),
      continuous("rosenbrock", box(4, -5.0, 10.0), rosenbrock, std::vector<double>(4, 1.0)),
      continuous("rastrigin", box(6, -5.12, 5.12), rastrigin, std::vector<double>(6, 0.0)),
      continuous("ackley", box(5, -32.768, 32.768), ackley, std::vector<double>(5, 0.0)),
      continuous("griewank", box(4, -600.0, 600.0), griewank, std::vector<double>(4, 0.0)),
      continuous("styblinski_tang", box(5, -5.0, 5.0), styblinski_tang,
                 std::vector<double>(5, -2.903534027771178)),
      continuous("levy", box(4, -10.0, 10.0), levy, std::vector<double>(4, 1.0)),
      continuous("schwefel", box(3, -500.0, 500.0), schwefel,
                 std::vector<double>(3, 420.9687463599820)),
      continuous("hartmann6", box(6, 0.0, 1.0), hartmann6, hartmann6_argmin),
      continuous("branin", {real("x0", -5.0, 10.0), real("x1", 0.0, 15.0)}, branin, {pi, 2.275}),
      continuous("six_hump_camel", {real("x0", -3.0, 3.0), real("x1", -2.0, 2.0)}, six_hump_camel,
                 {0.08984201368301331, -0.7126564032704135}),
      {"mlp",
       {real("lr", 1e-5, 1.0, true),
        categorical("optimizer", {"sgd", "momentum", "adam", "rmsprop"}),
        integer("layers", 1, 5), integer("units", 8, 1024, 1, true), real("dropout", 0.0, 0.5),
        categorical("activation", {"relu", "tanh", "sigmoid", "gelu"})},
       mlp,
       {1e-3, S("adam"), std::int64_t{3}, std::int64_t{128}, 0.2, S("gelu")}},
      {"trainer",
       {integer("batch_size", 16, 1024, 1, true), integer("epochs", 10, 100, 10),
        real("momentum", 0.0, 0.95, false, 0.05), real("weight_decay", 1e-6, 1e-1, true),
        categorical("schedule", {"constant", "step", "cosine", "linear"}),
        integer("warmup", 0, 10)},
       trainer,
       {std::int64_t{64}, std::int64_t{40}, 0.9, 1e-4, S("cosine"), std::int64_t{3}}},
  };
}

/// `count` points spread over the space by a golden-ratio sequence, the same in Python.
inline std::vector<Point> check_points(const std::vector<ParamSpec>& params, int count = 3) {
  std::vector<Point> points;
  for (int k = 0; k < count; ++k) {
    Point point;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const ParamSpec& p = params[i];
      const double t = std::fmod(0.5 + (k + 1) * 0.6180339887498949 * double(i + 1), 1.0);
      if (p.kind == ParamSpec::Kind::categorical) {
        point.emplace_back(p.choices[std::size_t(t * double(p.choices.size()))]);
      } else if (p.kind == ParamSpec::Kind::integer) {
        const double n = std::floor((p.high - p.low) / p.step);
        point.emplace_back(std::int64_t(p.low + p.step * std::floor(t * (n + 1))));
      } else if (p.log) {
        point.emplace_back(std::exp(std::log(p.low) + t * (std::log(p.high) - std::log(p.low))));
      } else {
        point.emplace_back(p.low + t * (p.high - p.low));
      }
    }
    points.push_back(std::move(point));
  }
  return points;
}

}  // namespace tune_bench
