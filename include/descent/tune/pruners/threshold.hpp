#pragma once
// ThresholdPruner: stops a trial whose latest value leaves fixed bounds.

#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>
#include <descent/tune/pruners/pruner.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace descent::tune {

/// Prunes a trial whose latest value v is outside [lower, upper] - v < lower or v > upper - or
/// NaN (Optuna's ThresholdPruner). It looks at no other trial: the bounds say what no good
/// trial ever reports (a loss that diverged, an accuracy still at chance after the warmup).
/// Leaves the steps below n_warmup_steps alone and decides at the first report in each window of
/// interval_steps steps after them, as MedianPruner. Defaults: no lower bound, no upper bound
/// (at least one is needed), n_warmup_steps = 0, interval_steps = 1.
class ThresholdPruner : public Pruner {
 public:
  /// The bounds, and when to look; give lower, upper or both.
  struct Options {
    std::optional<double> lower = std::nullopt;  ///< prune below this; none: no lower bound
    std::optional<double> upper = std::nullopt;  ///< prune above this; none: no upper bound
    std::int64_t n_warmup_steps = 0;             ///< steps below this are never pruned
    std::int64_t interval_steps = 1;  ///< decide once per this many steps after the warmup, >= 1
  };
  /// Throws std::invalid_argument if neither bound is given, a bound is NaN, lower > upper or
  /// another option is out of range.
  explicit ThresholdPruner(Options options) : m_options(options) {
    const auto fail = [](const std::string& what) {
      throw InvalidArgument("descent::tune::ThresholdPruner: " + what);
    };
    if (!options.lower && !options.upper) fail("give lower, upper or both; got neither");
    if (options.lower && std::isnan(*options.lower)) fail("lower must not be NaN");
    if (options.upper && std::isnan(*options.upper)) fail("upper must not be NaN");
    if (options.lower && options.upper && *options.lower > *options.upper) {
      fail("lower must be <= upper, got lower " + detail::format_number(*options.lower) +
           " and upper " + detail::format_number(*options.upper));
    }
    if (options.n_warmup_steps < 0)
      fail("n_warmup_steps must be >= 0, got " + std::to_string(options.n_warmup_steps));
    if (options.interval_steps < 1)
      fail("interval_steps must be >= 1, got " + std::to_string(options.interval_steps));
  }

  bool prune(const std::vector<FrozenTrial>&, Direction, const FrozenTrial& trial) override {
    if (!detail::decides_now(trial, m_options.n_warmup_steps, m_options.interval_steps))
      return false;
    const double value = trial.intermediate.rbegin()->second;
    if (std::isnan(value)) return true;
    return (m_options.lower && value < *m_options.lower) ||
           (m_options.upper && value > *m_options.upper);
  }

 private:
  Options m_options;
};

}  // namespace descent::tune
