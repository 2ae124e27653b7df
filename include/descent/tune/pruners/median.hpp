#pragma once
// MedianPruner: stops a trial that is behind the median of the completed trials at its step.

#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>
#include <descent/tune/pruners/pruner.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace descent::tune {

/// Prunes a trial whose best value so far is worse than the median of the completed trials'
/// values at the same step (Optuna's MedianPruner). Waits for n_startup_trials completed
/// trials, leaves the steps below n_warmup_steps alone and decides at the first report in each
/// window of interval_steps steps after them. A trial that reported only NaN is pruned; a step
/// no completed trial reported (or only as NaN) prunes nothing.
class MedianPruner : public Pruner {
 public:
  /// When to start pruning and how often; the defaults are Optuna's.
  struct Options {
    int n_startup_trials = 5;         ///< completed trials needed before any pruning
    std::int64_t n_warmup_steps = 0;  ///< steps below this are never pruned
    std::int64_t interval_steps = 1;  ///< decide once per this many steps after the warmup, >= 1
  };
  MedianPruner() : MedianPruner(Options{}) {}
  /// Throws std::invalid_argument if an option is out of range.
  explicit MedianPruner(Options options) : m_options(options) {
    const auto fail = [](const std::string& what) {
      throw InvalidArgument("descent::tune::MedianPruner: " + what);
    };
    if (options.n_startup_trials < 0)
      fail("n_startup_trials must be >= 0, got " + std::to_string(options.n_startup_trials));
    if (options.n_warmup_steps < 0)
      fail("n_warmup_steps must be >= 0, got " + std::to_string(options.n_warmup_steps));
    if (options.interval_steps < 1)
      fail("interval_steps must be >= 1, got " + std::to_string(options.interval_steps));
  }

  bool prune(const std::vector<FrozenTrial>& trials, Direction direction,
             const FrozenTrial& trial) override {
    if (!detail::decides_now(trial, m_options.n_warmup_steps, m_options.interval_steps))
      return false;
    const std::int64_t step = trial.last_step();
    std::vector<double> others;
    int complete = 0;
    for (const auto& t : trials) {
      if (t.state != TrialState::complete || t.id == trial.id) continue;
      ++complete;
      const auto it = t.intermediate.find(step);
      if (it != t.intermediate.end() && !std::isnan(it->second)) others.push_back(it->second);
    }
    if (complete == 0 || complete < m_options.n_startup_trials) return false;
    const double best =
        detail::best_reported(direction, trial.intermediate.begin(), trial.intermediate.end());
    if (std::isnan(best)) return true;  // only NaN reported: nothing worth continuing
    if (others.empty()) return false;
    std::sort(others.begin(), others.end());
    const std::size_t n = others.size();
    const double median = n % 2 ? others[n / 2] : (others[n / 2 - 1] + others[n / 2]) / 2;
    return better(direction, median, best);
  }

 private:
  Options m_options;
};

}  // namespace descent::tune
