#pragma once
// Pruners stop unpromising trials early, from the values trials report per step (epochs, for a
// network). A pruner sees the trial that asks and every trial of the study as stored now.

#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace descent::tune {

/// Decides whether a running trial should stop early; Trial::should_prune() asks it.
class Pruner {
 public:
  virtual ~Pruner() = default;
  /// Whether `trial`, which has just reported its latest value, should stop now.
  virtual bool prune(const std::vector<FrozenTrial>& trials, Direction direction,
                     const FrozenTrial& trial) = 0;
};

/// Never prunes.
class NopPruner : public Pruner {
 public:
  bool prune(const std::vector<FrozenTrial>&, Direction, const FrozenTrial&) override {
    return false;
  }
};

/// Prunes a trial whose best value so far is worse than the median of the completed trials'
/// values at the same step. Waits for n_startup_trials completed trials, leaves the first
/// n_warmup_steps steps alone and decides only every interval_steps steps.
class MedianPruner : public Pruner {
 public:
  /// When to start pruning and how often; the defaults are Optuna's.
  struct Options {
    int n_startup_trials = 5;         ///< completed trials needed before any pruning
    std::int64_t n_warmup_steps = 0;  ///< steps below this are never pruned
    std::int64_t interval_steps = 1;  ///< decide every this many steps after the warmup, >= 1
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
    const std::int64_t step = trial.last_step();
    if (step < 0 || step < m_options.n_warmup_steps) return false;
    if ((step - m_options.n_warmup_steps) % m_options.interval_steps != 0) return false;
    std::vector<double> others;
    int complete = 0;
    for (const auto& t : trials) {
      if (t.state != TrialState::complete || t.id == trial.id) continue;
      ++complete;
      const auto it = t.intermediate.find(step);
      if (it != t.intermediate.end() && !std::isnan(it->second)) others.push_back(it->second);
    }
    if (complete < m_options.n_startup_trials || others.empty()) return false;
    double best = std::numeric_limits<double>::quiet_NaN();
    for (const auto& [s, v] : trial.intermediate) {
      if (better(direction, v, best)) best = v;
    }
    if (std::isnan(best)) return true;  // only NaN reported: nothing worth continuing
    std::sort(others.begin(), others.end());
    const std::size_t n = others.size();
    const double median = n % 2 ? others[n / 2] : (others[n / 2 - 1] + others[n / 2]) / 2;
    return better(direction, median, best);
  }

 private:
  Options m_options;
};

/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
/// Tuning", MLSys 2020). Rung k sits at step min_resource * reduction_factor^k. A trial's value at
/// a rung is the one it reported at the first step >= the rung's. When a trial reaches a rung it
/// is compared with every trial of the study that reached the rung before, whatever their state:
/// it goes on only if it ranks in the top 1/reduction_factor of them (the best of them while
/// there are fewer than reduction_factor). No trial waits for another, so workers never idle.
class SuccessiveHalvingPruner : public Pruner {
 public:
  /// Where the rungs are and how many trials each one lets through.
  struct Options {
    std::int64_t min_resource = 1;      ///< the step of rung 0, >= 1
    std::int64_t reduction_factor = 4;  ///< rung steps grow, and survivors shrink, by it, >= 2
  };
  SuccessiveHalvingPruner() : SuccessiveHalvingPruner(Options{}) {}
  /// Throws std::invalid_argument if an option is out of range.
  explicit SuccessiveHalvingPruner(Options options) : m_options(options) {
    const auto fail = [](const std::string& what) {
      throw InvalidArgument("descent::tune::SuccessiveHalvingPruner: " + what);
    };
    if (options.min_resource < 1)
      fail("min_resource must be >= 1, got " + std::to_string(options.min_resource));
    if (options.reduction_factor < 2)
      fail("reduction_factor must be >= 2, got " + std::to_string(options.reduction_factor));
  }

  /// The step of rung k; INT64_MAX for the rungs beyond the last step an int64 holds.
  std::int64_t rung_step(int k) const {
    std::optional<std::int64_t> r = m_options.min_resource;
    for (int i = 0; i < k && r; ++i) r = next_rung(*r);
    return r.value_or(std::numeric_limits<std::int64_t>::max());
  }

  bool prune(const std::vector<FrozenTrial>& trials, Direction direction,
             const FrozenTrial& trial) override {
    const std::int64_t step = trial.last_step();
    if (step < 0) return false;
    for (std::optional<std::int64_t> rung = m_options.min_resource; rung && *rung <= step;
         rung = next_rung(*rung)) {
      const auto mine = rung_value(trial, *rung);
      if (!mine || mine->first != step) continue;  // this rung was decided at an earlier report
      const double value = mine->second;
      if (std::isnan(value)) return true;
      std::vector<double> competing{value};
      for (const auto& t : trials) {
        if (t.id == trial.id) continue;
        if (const auto theirs = rung_value(t, *rung); theirs && !std::isnan(theirs->second)) {
          competing.push_back(theirs->second);
        }
      }
      std::sort(competing.begin(), competing.end(),
                [direction](double a, double b) { return better(direction, a, b); });
      const std::size_t keep =
          std::max<std::size_t>(1, competing.size() / std::size_t(m_options.reduction_factor));
      // Promoted when at least as good as the keep-th best.
      if (better(direction, competing[keep - 1], value)) return true;
    }
    return false;
  }

 private:
  /// The rung after `rung`, or none when its step would overflow int64.
  std::optional<std::int64_t> next_rung(std::int64_t rung) const {
    if (rung > std::numeric_limits<std::int64_t>::max() / m_options.reduction_factor)
      return std::nullopt;
    return rung * m_options.reduction_factor;
  }

  /// (step, value) of the first report at or after `rung`.
  static std::optional<std::pair<std::int64_t, double>> rung_value(const FrozenTrial& t,
                                                                   std::int64_t rung) {
    const auto it = t.intermediate.lower_bound(rung);
    if (it == t.intermediate.end()) return std::nullopt;
    return *it;
  }

  Options m_options;
};

}  // namespace descent::tune
