#pragma once
// HyperbandPruner: successive halving run in several brackets at once, from the most eager to
// stop trials to the most patient, each trial in one bracket.

#include <descent/detail/random.hpp>
#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>
#include <descent/tune/pruners/pruner.hpp>
#include <descent/tune/pruners/successive_halving.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace descent::tune {

/// Hyperband (Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
/// Optimization", JMLR 2018) over asynchronous successive halving, as Optuna's HyperbandPruner.
/// How early to judge a trial is itself a hyperparameter: judged early, many trials are tried
/// and slow starters are lost; judged late, few are tried. Hyperband hedges across brackets.
///
/// With r = min_resource, R = max_resource and eta = reduction_factor there are
/// n = floor(log_eta(R / r)) + 1 brackets (computed exactly, in integers). Bracket b is a
/// SuccessiveHalvingPruner with min_early_stopping_rate b: its rungs sit at r * eta^(b + k), so
/// bracket 0 judges trials first at step r and bracket n - 1 not before r * eta^(n - 1) <= R.
/// A trial competes only with the trials of its own bracket. Bracket b gets the share
/// B_b / (B_0 + ... + B_(n-1)) of the trials, B_b = ceil(n * eta^s / (s + 1)) with
/// s = n - 1 - b (the paper's trial counts per bracket, as in Optuna). The bracket of trial
/// number i is fixed by i alone: u = splitmix64(i) / 2^64, uniform in [0, 1), falls into the
/// share of one bracket, the brackets laid out in order over [0, 1). (Optuna hashes the study
/// name with the number, by CRC-32; the shares are the same, the bracket of a given trial is
/// not.)
///
/// max_resource none means "auto", as in Optuna: R = 1 + the largest last step of the completed
/// trials, taken at the first decision after a trial completed (nothing is pruned before) and
/// kept. A study resumed in a new process takes it again, from all its completed trials: give
/// max_resource to keep the brackets. If auto gives R < r: one bracket (Optuna: none, so it
/// never prunes).
///
/// In Optuna the sampler, too, sees only the trials of the asking trial's bracket. descent does
/// not filter: its samplers see every trial of the study, whatever the pruner.
///
/// Defaults: r = 1, R = auto, eta = 3, bootstrap_count = 0 (Optuna's).
class HyperbandPruner : public Pruner {
 public:
  /// The range of steps to spread the brackets over, and the halving inside each.
  struct Options {
    std::int64_t min_resource = 1;  ///< r: bracket 0's first rung, >= 1
    /// R: the step a trial that is never pruned reaches, >= r; none: "auto" (see above).
    std::optional<std::int64_t> max_resource = std::nullopt;
    std::int64_t reduction_factor = 3;  ///< eta, >= 2
    /// Each bracket's SuccessiveHalvingPruner prunes a trial reaching a rung while at most this
    /// many trials of the bracket, itself included, have reached it; >= 0, and 0 with "auto".
    std::int64_t bootstrap_count = 0;
  };
  HyperbandPruner() : HyperbandPruner(Options{}) {}
  /// Throws std::invalid_argument if an option is out of range.
  explicit HyperbandPruner(Options options) : m_options(options) {
    const auto fail = [](const std::string& what) {
      throw InvalidArgument("descent::tune::HyperbandPruner: " + what);
    };
    if (options.min_resource < 1)
      fail("min_resource must be >= 1, got " + std::to_string(options.min_resource));
    if (options.max_resource && *options.max_resource < options.min_resource) {
      fail("max_resource must be >= min_resource (" + std::to_string(options.min_resource) +
           "), got " + std::to_string(*options.max_resource));
    }
    if (options.reduction_factor < 2)
      fail("reduction_factor must be >= 2, got " + std::to_string(options.reduction_factor));
    if (options.bootstrap_count < 0)
      fail("bootstrap_count must be >= 0, got " + std::to_string(options.bootstrap_count));
    if (options.bootstrap_count > 0 && !options.max_resource) {
      fail("bootstrap_count > 0 needs a max_resource, not auto; got bootstrap_count " +
           std::to_string(options.bootstrap_count));
    }
    if (options.max_resource) build(*options.max_resource);
  }

  bool prune(const std::vector<FrozenTrial>& trials, Direction direction,
             const FrozenTrial& trial) override {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (m_brackets.empty()) {
        std::int64_t last = -1;
        for (const auto& t : trials) {
          if (t.state == TrialState::complete) last = std::max(last, t.last_step());
        }
        if (last < 0) return false;  // auto, and no completed trial yet
        build(last == std::numeric_limits<std::int64_t>::max() ? last : last + 1);
      }
    }  // the brackets never change once built: read without the lock from here on
    const int b = find_bracket(trial.number);
    return m_brackets[std::size_t(b)].prune_among(
        trials, direction, trial,
        [&](const FrozenTrial& t) { return find_bracket(t.number) == b; });
  }

  /// The number of brackets; 0 while max_resource is auto and no trial has completed.
  int n_brackets() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return int(m_brackets.size());
  }
  /// R: max_resource, or the auto estimate once taken; none before.
  std::optional<std::int64_t> max_resource() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_max_resource;
  }
  /// The bracket of trial `number`, in [0, n_brackets()); 0 while there are no brackets.
  int bracket_of(std::int64_t number) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_brackets.empty() ? 0 : find_bracket(number);
  }
  /// The SuccessiveHalvingPruner of bracket b; throws std::out_of_range outside
  /// [0, n_brackets()).
  const SuccessiveHalvingPruner& bracket(int b) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (b < 0 || std::size_t(b) >= m_brackets.size()) {
      throw OutOfRange("descent::tune::HyperbandPruner: no bracket " + std::to_string(b) + " of " +
                       std::to_string(m_brackets.size()));
    }
    return m_brackets[std::size_t(b)];
  }

 private:
  /// Builds the brackets for R = max_resource (m_mutex held, or in the constructor).
  void build(std::int64_t max_resource) {
    const std::int64_t eta = m_options.reduction_factor;
    int n = 1;  // 1 + the largest k with r * eta^k <= R
    for (std::int64_t rung = m_options.min_resource; rung <= max_resource / eta; rung *= eta) ++n;
    std::vector<double> budget;
    double total = 0;
    for (int b = 0; b < n; ++b) {
      const int s = n - 1 - b;
      budget.push_back(std::ceil(n * std::pow(double(eta), s) / (s + 1)));
      total += budget.back();
    }
    double sum = 0;
    for (int b = 0; b < n; ++b) {
      sum += budget[std::size_t(b)];
      m_upper.push_back(b + 1 == n ? 1.0 : sum / total);
      m_brackets.emplace_back(
          SuccessiveHalvingPruner::Options{.min_resource = m_options.min_resource,
                                           .reduction_factor = eta,
                                           .min_early_stopping_rate = b,
                                           .bootstrap_count = m_options.bootstrap_count});
    }
    m_max_resource = max_resource;
  }

  /// The bracket whose share of [0, 1) holds u(number) (the brackets are built).
  int find_bracket(std::int64_t number) const {
    const double u =
        double(descent::detail::splitmix64(std::uint64_t(number)) >> 11) * 0x1p-53;  // [0, 1)
    const auto it = std::upper_bound(m_upper.begin(), m_upper.end(), u);
    return int(std::min<std::ptrdiff_t>(it - m_upper.begin(), std::ptrdiff_t(m_upper.size()) - 1));
  }

  Options m_options;
  mutable std::mutex m_mutex;  ///< guards the building of the brackets
  std::optional<std::int64_t> m_max_resource;
  std::vector<SuccessiveHalvingPruner> m_brackets;  ///< bracket b: min_early_stopping_rate b
  std::vector<double> m_upper;                      ///< bracket b's share ends at m_upper[b]
};

}  // namespace descent::tune
