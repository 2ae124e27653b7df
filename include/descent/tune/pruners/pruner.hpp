#pragma once
// The pruner interface, the pruner that never prunes, and the rules several pruners share.

#include <descent/tune/frozen_trial.hpp>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <vector>

namespace descent::tune {

/// Decides whether a running trial should stop early; Trial::should_prune() asks it. A study
/// with several jobs asks from several threads at once: a pruner that keeps state guards it.
class Pruner {
 public:
  virtual ~Pruner() = default;
  /// Whether `trial`, which has just reported its latest value, should stop now. `trials` holds
  /// every trial of the study as stored now (`trial` among them, as it was at its last report).
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

namespace detail {

/// Whether a pruner that leaves steps below n_warmup_steps alone and decides every
/// interval_steps steps decides at the trial's last report. The steps from the warmup on fall
/// into windows [w + k * interval_steps, w + (k + 1) * interval_steps), w = n_warmup_steps; the
/// first report in each window is decided, so a trial that skips the window's first step is
/// still judged once in it (Optuna's rule).
inline bool decides_now(const FrozenTrial& trial, std::int64_t n_warmup_steps,
                        std::int64_t interval_steps) {
  const std::int64_t step = trial.last_step();
  if (step < 0 || step < n_warmup_steps) return false;
  const std::int64_t window =
      n_warmup_steps + (step - n_warmup_steps) / interval_steps * interval_steps;
  if (trial.intermediate.size() < 2) return true;
  return std::prev(trial.intermediate.end(), 2)->first < window;  // the report before this one
}

/// The best value of the (step, value) pairs in [first, last), NaN skipped; NaN if there is none.
template <class Iterator>
double best_reported(Direction direction, Iterator first, Iterator last) {
  double best = std::numeric_limits<double>::quiet_NaN();
  for (; first != last; ++first) {
    if (better(direction, first->second, best)) best = first->second;
  }
  return best;
}

}  // namespace detail
}  // namespace descent::tune
