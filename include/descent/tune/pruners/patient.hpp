#pragma once
// PatientPruner: lets another pruner stop a trial only once the trial has stopped getting better.

#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>
#include <descent/tune/pruners/pruner.hpp>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace descent::tune {

/// Early stopping with patience around another pruner (Optuna's PatientPruner). With the
/// trial's reports in step order, `recent` its last patience + 1 and `earlier` the ones before,
/// it has stalled when best(recent) is worse than best(earlier) by more than min_delta:
/// best(recent) > best(earlier) + min_delta when minimizing, best(recent) < best(earlier) -
/// min_delta when maximizing (NaN reports skipped; all NaN on either side: not stalled). A
/// stalled trial is pruned if the wrapped pruner also says so, or at once if there is none; a
/// trial that has not reported more than patience + 1 values is never pruned. Note that a
/// trial whose recent best merely equals its earlier best has not stalled, as in Optuna.
/// Defaults: patience = 0, min_delta = 0 (Optuna requires patience).
class PatientPruner : public Pruner {
 public:
  /// How long a trial may go without getting better.
  struct Options {
    std::int64_t patience = 0;  ///< the last patience + 1 reports face the earlier ones, >= 0
    double min_delta = 0;       ///< how much worse the recent best may be than the earlier, >= 0
  };
  /// Wraps `wrapped` (nullptr: prune every stalled trial) with the default options.
  explicit PatientPruner(std::shared_ptr<Pruner> wrapped)
      : PatientPruner(std::move(wrapped), Options{}) {}
  /// Wraps `wrapped` (nullptr: prune every stalled trial). Throws std::invalid_argument if an
  /// option is out of range.
  PatientPruner(std::shared_ptr<Pruner> wrapped, Options options)
      : m_wrapped(std::move(wrapped)), m_options(options) {
    const auto fail = [](const std::string& what) {
      throw InvalidArgument("descent::tune::PatientPruner: " + what);
    };
    if (options.patience < 0)
      fail("patience must be >= 0, got " + std::to_string(options.patience));
    if (!(options.min_delta >= 0))
      fail("min_delta must be >= 0, got " + detail::format_number(options.min_delta));
  }

  bool prune(const std::vector<FrozenTrial>& trials, Direction direction,
             const FrozenTrial& trial) override {
    const auto& reports = trial.intermediate;
    if (std::int64_t(reports.size()) <= m_options.patience + 1) return false;
    const auto recent = std::prev(reports.end(), std::ptrdiff_t(m_options.patience) + 1);
    const double before = detail::best_reported(direction, reports.begin(), recent);
    const double after = detail::best_reported(direction, recent, reports.end());
    const bool stalled = direction == Direction::minimize ? before + m_options.min_delta < after
                                                          : before - m_options.min_delta > after;
    if (!stalled) return false;
    return !m_wrapped || m_wrapped->prune(trials, direction, trial);
  }

 private:
  std::shared_ptr<Pruner> m_wrapped;
  Options m_options;
};

}  // namespace descent::tune
