#pragma once
// Samplers choose a trial's parameter values. The base class, random search, grid search and
// PartialFixedSampler; TPE is in tpe.hpp. Every sampler is seeded: with one job, a seed gives the
// same trials every run. A value is a pure function of (seed, trial number, parameter name, the
// other trials when this one started), so the order in which threads ask does not change it.

#include <descent/detail/random.hpp>
#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace descent::tune {

/// Chooses the values of a trial's parameters, which Trial's suggest functions hand out.
class Sampler {
 public:
  virtual ~Sampler() = default;
  /// The internal value (see distributions.hpp) of parameter `name` for `trial`, given the study's
  /// `history`: its other trials as they were when `trial` started - the finished ones, and the
  /// ones other workers were running, with the parameters they had by then (a sampler that knows
  /// nothing of running trials skips them: TpeSampler without constant_liar does).
  virtual double sample(const std::vector<FrozenTrial>& history, Direction direction,
                        const FrozenTrial& trial, const std::string& name,
                        const Distribution& distribution) = 0;
};

namespace detail {

/// A generator of its own for each (seed, trial number, parameter name).
inline std::mt19937_64 param_rng(std::uint64_t seed, std::int64_t number, std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  using descent::detail::splitmix64;
  return std::mt19937_64(splitmix64(splitmix64(seed) ^ splitmix64(std::uint64_t(number) + h)));
}

/// The point a share t in [0, 1] of the way from lo to hi, finite even when hi - lo overflows.
inline double between(double lo, double hi, double t) {
  const double span = hi - lo;
  return std::isfinite(span) ? lo + t * span : lo * (1 - t) + hi * t;  // [-1e308, 1e308]
}

inline double uniform(std::mt19937_64& rng, double lo, double hi) {
  return between(lo, hi, descent::detail::unit_uniform(rng));
}

/// A value drawn uniformly over the space (log-uniformly for log spaces).
inline double sample_uniform(const Distribution& distribution, std::mt19937_64& rng) {
  if (const auto* f = std::get_if<FloatDistribution>(&distribution)) {
    if (f->step > 0) {
      const auto k = std::int64_t(std::llround((f->high - f->low) / f->step));
      return f->low + f->step * double(descent::detail::uniform_below(rng, std::uint64_t(k) + 1));
    }
    if (f->log) {
      const double v = std::exp(uniform(rng, std::log(f->low), std::log(f->high)));
      return std::clamp(v, f->low, f->high);
    }
    return std::clamp(uniform(rng, f->low, f->high), f->low, f->high);
  }
  if (const auto* i = std::get_if<IntDistribution>(&distribution)) {
    if (i->log) {
      // Each integer gets the log-width of [v - 0.5, v + 0.5].
      const double v =
          std::exp(uniform(rng, std::log(double(i->low) - 0.5), std::log(double(i->high) + 0.5)));
      return std::clamp(std::round(v), double(i->low), double(i->high));
    }
    // Unsigned, as in make_int: high - low overflows int64 for bounds of opposite sign.
    const auto low = std::uint64_t(i->low), step = std::uint64_t(i->step);
    const std::uint64_t k = (std::uint64_t(i->high) - low) / step;
    // k + 1 wraps to 0 only for the full 2^64-point grid, where any 64 bits are uniform.
    const std::uint64_t pick = k + 1 == 0 ? rng() : descent::detail::uniform_below(rng, k + 1);
    return double(std::int64_t(low + step * pick));
  }
  const auto& c = std::get<CategoricalDistribution>(distribution);
  return double(descent::detail::uniform_below(rng, c.choices.size()));
}

}  // namespace detail

/// Independent uniform draws (log-uniform on log spaces).
class RandomSampler : public Sampler {
 public:
  /// Draws from a generator keyed by (seed, trial number, parameter name), so runs repeat.
  explicit RandomSampler(std::uint64_t seed = 0) : m_seed(seed) {}
  double sample(const std::vector<FrozenTrial>&, Direction, const FrozenTrial& trial,
                const std::string& name, const Distribution& distribution) override {
    auto rng = detail::param_rng(m_seed, trial.number, name);
    return detail::sample_uniform(distribution, rng);
  }

 private:
  std::uint64_t m_seed;
};

/// Every combination of a few values per parameter, one per trial, in order of trial number.
/// Categoricals take every choice; a numeric parameter takes all its grid points when it has at
/// most `points` of them, else `points` values spread evenly (log-evenly on log spaces) from low
/// to high; `values` sets a parameter's values (internal form) explicitly. Trial n decodes n in a
/// mixed radix over the parameters in the order the objective asks for them (which must be the
/// same in every trial); after size() trials the grid starts over.
class GridSampler : public Sampler {
 public:
  /// How many values each parameter takes.
  struct Options {
    /// At most this many values for a numeric parameter that is not in `values`; >= 1.
    int points = 5;
    /// Explicit values (internal form) for some parameters, by name.
    std::map<std::string, std::vector<double>> values = {};
  };
  GridSampler() : GridSampler(Options{}) {}
  /// Throws std::invalid_argument if points < 1.
  explicit GridSampler(Options options) : m_options(std::move(options)) {
    if (m_options.points < 1) {
      throw InvalidArgument("descent::tune::GridSampler: points must be >= 1, got " +
                            std::to_string(m_options.points));
    }
  }

  /// The grid values of one parameter.
  std::vector<double> axis(const std::string& name, const Distribution& distribution) const {
    if (const auto it = m_options.values.find(name); it != m_options.values.end()) {
      for (const double v : it->second) {
        if (!contains(distribution, v)) {
          detail::bad_param(name, "grid value " + detail::format_number(v) + " is outside " +
                                      describe(distribution));
        }
      }
      if (it->second.empty()) detail::bad_param(name, "grid has no values");
      return it->second;
    }
    const auto n = std::size_t(m_options.points);
    std::vector<double> out;
    if (const auto* c = std::get_if<CategoricalDistribution>(&distribution)) {
      for (std::size_t i = 0; i < c->choices.size(); ++i) out.push_back(double(i));
      return out;
    }
    double lo = 0, hi = 0, step = 0;
    bool log = false;
    const auto* integer = std::get_if<IntDistribution>(&distribution);
    if (const auto* f = std::get_if<FloatDistribution>(&distribution)) {
      lo = f->low, hi = f->high, step = f->step, log = f->log;
    } else {
      lo = double(integer->low), hi = double(integer->high);
      step = double(integer->step), log = integer->log;
    }
    // Onto the grid; ints in integer arithmetic, as doubles lose int64 grids past 2^53.
    const auto snap = [&](double v) {
      if (integer) return double(integer->nearest(v));
      return std::clamp(step > 0 ? lo + std::round((v - lo) / step) * step : v, lo, hi);
    };
    if (step > 0 && (hi - lo) / step + 1 <= double(n) + 0.5) {
      for (double k = 0; lo + k * step <= hi + 1e-9 * step; ++k) out.push_back(snap(lo + k * step));
      return out;
    }
    for (std::size_t k = 0; k < n; ++k) {
      const double t = n == 1 ? 0.0 : double(k) / double(n - 1);
      const double v = snap(log ? std::exp(std::log(lo) + t * (std::log(hi) - std::log(lo)))
                                : detail::between(lo, hi, t));
      if (out.empty() || v != out.back()) out.push_back(v);
    }
    return out;
  }

  double sample(const std::vector<FrozenTrial>&, Direction, const FrozenTrial& trial,
                const std::string& name, const Distribution& distribution) override {
    // The product of the axes already decoded is the same whatever order trial.params lists them.
    std::uint64_t stride = 1;
    for (const auto& [other, param] : trial.params) {
      stride *= axis(other, param.distribution).size();
    }
    const auto values = axis(name, distribution);
    return values[(std::uint64_t(trial.number) / stride) % values.size()];
  }

 private:
  Options m_options;
};

/// Some parameters pinned to given values, the rest from a base sampler, like Optuna's
/// PartialFixedSampler: for a parameter named in `fixed`, the value given; for any other, what the
/// base sampler says, seeing the trials without their pinned parameters.
class PartialFixedSampler : public Sampler {
 public:
  /// Values by parameter name: a double, an std::int64_t or a choice's text. Throws
  /// std::invalid_argument if `base` is null. A value of another type than the space asked for,
  /// or outside it, fails the trial with an error naming the parameter (Optuna warns and uses it;
  /// descent's storages keep only values inside their space).
  PartialFixedSampler(std::map<std::string, ParamValue> fixed, std::shared_ptr<Sampler> base)
      : m_fixed(std::move(fixed)), m_base(std::move(base)) {
    if (!m_base)
      throw InvalidArgument("descent::tune::PartialFixedSampler: the base sampler is null");
  }

  /// The pinned values, by name.
  const std::map<std::string, ParamValue>& fixed() const { return m_fixed; }

  double sample(const std::vector<FrozenTrial>& history, Direction direction,
                const FrozenTrial& trial, const std::string& name,
                const Distribution& distribution) override {
    const auto it = m_fixed.find(name);
    if (it != m_fixed.end()) return internal_value(name, distribution, it->second);
    // The base sampler sees the trials without the pinned parameters, as Optuna leaves them out
    // of the base's joint search space: a multivariate TPE models only what it chooses.
    std::vector<FrozenTrial> unpinned = history;
    for (auto& t : unpinned) {
      for (const auto& entry : m_fixed) t.params.erase(entry.first);
    }
    FrozenTrial current = trial;
    for (const auto& entry : m_fixed) current.params.erase(entry.first);
    return m_base->sample(unpinned, direction, current, name, distribution);
  }

 private:
  std::map<std::string, ParamValue> m_fixed;
  std::shared_ptr<Sampler> m_base;
};

}  // namespace descent::tune
