#pragma once
// SuccessiveHalvingPruner: asynchronous successive halving (ASHA), the pruner inside each bracket
// of HyperbandPruner.

#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>
#include <descent/tune/pruners/pruner.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace descent::tune {

/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
/// Tuning", MLSys 2020), as Optuna's SuccessiveHalvingPruner. With r = min_resource,
/// eta = reduction_factor and s = min_early_stopping_rate, rung k sits at step r * eta^(s + k).
/// A trial's value at a rung is the one it reported at the first step >= the rung's. When a trial
/// reaches a rung it is compared with every competing trial (every trial of the study, for
/// prune()) that reached the rung before, whatever their state: with n values there, its own
/// included, it goes on only if it ranks among the best max(1, floor(n / eta)); a NaN value is
/// pruned, and so is every trial while n <= bootstrap_count. No trial waits for another, so
/// workers never idle. Defaults: r = 1 (Optuna: "auto"), eta = 4, s = 0, bootstrap_count = 0.
class SuccessiveHalvingPruner : public Pruner {
 public:
  /// Where the rungs are and how many trials each one lets through.
  struct Options {
    std::int64_t min_resource = 1;      ///< r: the step of rung 0 is r * eta^s, >= 1
    std::int64_t reduction_factor = 4;  ///< eta: rung steps grow, and survivors shrink, by it, >= 2
    int min_early_stopping_rate = 0;    ///< s: the rungs start at r * eta^s, >= 0
    /// A trial reaching a rung is pruned while at most this many trials, itself included, have
    /// reached it (Optuna's bootstrap_count), >= 0.
    std::int64_t bootstrap_count = 0;
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
    if (options.min_early_stopping_rate < 0) {
      fail("min_early_stopping_rate must be >= 0, got " +
           std::to_string(options.min_early_stopping_rate));
    }
    if (options.bootstrap_count < 0)
      fail("bootstrap_count must be >= 0, got " + std::to_string(options.bootstrap_count));
    m_first_rung = options.min_resource;
    for (int i = 0; i < options.min_early_stopping_rate && m_first_rung; ++i) {
      m_first_rung = next_rung(*m_first_rung);
    }
  }

  /// The step of rung k; INT64_MAX for the rungs beyond the last step an int64 holds.
  std::int64_t rung_step(int k) const {
    std::optional<std::int64_t> r = m_first_rung;
    for (int i = 0; i < k && r; ++i) r = next_rung(*r);
    return r.value_or(std::numeric_limits<std::int64_t>::max());
  }

  bool prune(const std::vector<FrozenTrial>& trials, Direction direction,
             const FrozenTrial& trial) override {
    return prune_among(trials, direction, trial, [](const FrozenTrial&) { return true; });
  }

  /// prune() with only the trials for which competes(t) is true competing at the rungs
  /// (HyperbandPruner: the trials of the bracket). `trial` itself never competes with itself.
  template <class Competes>
  bool prune_among(const std::vector<FrozenTrial>& trials, Direction direction,
                   const FrozenTrial& trial, Competes&& competes) const {
    const std::int64_t step = trial.last_step();
    if (step < 0) return false;
    for (std::optional<std::int64_t> rung = m_first_rung; rung && *rung <= step;
         rung = next_rung(*rung)) {
      const auto mine = rung_value(trial, *rung);
      if (!mine || mine->first != step) continue;  // this rung was decided at an earlier report
      const double value = mine->second;
      if (std::isnan(value)) return true;
      std::vector<double> competing{value};
      for (const auto& t : trials) {
        if (t.id == trial.id || !competes(t)) continue;
        if (const auto theirs = rung_value(t, *rung); theirs && !std::isnan(theirs->second)) {
          competing.push_back(theirs->second);
        }
      }
      if (std::int64_t(competing.size()) <= m_options.bootstrap_count) return true;
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
  std::optional<std::int64_t> m_first_rung;  ///< the step of rung 0; none: past int64
};

}  // namespace descent::tune
