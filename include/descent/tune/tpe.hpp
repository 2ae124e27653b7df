#pragma once
// The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio, Kegl: "Algorithms for
// Hyper-Parameter Optimization", NeurIPS 2011), over all parameters at once (multivariate, as in
// Falkner, Klein, Hutter: BOHB, ICML 2018) or one at a time.
//
//   1. The first n_startup_trials trials are random.
//   2. The finished trials are ranked (complete ones by value, then pruned ones by how far they
//      got and their last report) and split: the best n_good = min(ceil(gamma * n), max_good)
//      are "good", the rest "bad".
//   3. Each group gets a density (detail/parzen.hpp): a mixture of one kernel per trial plus a
//      wide prior. Multivariate, a kernel is a product over the parameters every ranked trial has
//      (Optuna's intersection search space), so the density sees how parameters go together;
//      parameters outside that space are modelled one at a time.
//   4. n_ei_candidates draws from the good density l(x); the one maximizing l(x) / g(x), which
//      maximizes expected improvement, is the value.
// Older observations get less weight once there are more than 25 (a ramp from 1/n to 1). With
// constant_liar, the trials other workers are running join the bad group with the values they
// have so far (a joint kernel only when they have every parameter of the joint space).
//
// A joint draw is made once per trial, when its first parameter is asked for, and kept for the
// trial's other parameters; it depends only on the seed, the trial's number and the history, so
// the order in which threads ask does not change it.

#include <descent/error.hpp>
#include <descent/tune/detail/parzen.hpp>
#include <descent/tune/samplers.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace descent::tune {

/// How wide each observation's kernel is on a numeric parameter.
enum class Bandwidth {
  /// The larger distance to its neighbours among the observations and the prior's centre
  /// (Optuna's univariate rule): narrow where trials crowd, wide where they are sparse.
  neighbours,
  /// One width for all, 0.2 * range * n^(-1/(d+4)) for n observations in d dimensions (Scott's
  /// rule, as BOHB and Optuna's multivariate TPE use it).
  scott,
};

/// The tree-structured Parzen estimator, like Optuna's TPESampler; tpe.hpp lists its steps.
class TpeSampler : public Sampler {
 public:
  /// The settings; Optuna's TPESampler defaults except multivariate. A Study's default sampler
  /// (default_sampler() in portfolio.hpp) is two tuned variants of this one taking turns.
  struct Options {
    std::uint64_t seed = 0;     ///< with the trial number and the parameter name, keys every draw
    int n_startup_trials = 10;  ///< trials drawn at random before TPE starts
    int n_ei_candidates = 24;   ///< candidates drawn from l(x) per trial (or parameter), >= 1
    double gamma = 0.1;         ///< share of the finished trials that are "good"
    int max_good = 25;          ///< at most this many
    double prior_weight = 1.0;  ///< weight of the wide prior in each mixture, > 0
    bool multivariate = true;   ///< one joint density over the parameters all trials share
    Bandwidth bandwidth = Bandwidth::neighbours;  ///< kernel widths (Optuna: scott if multivariate)
    bool consider_endpoints = false;  ///< neighbours: the range's ends count as neighbours
    /// Kernels of equal height instead of equal mass on continuous parameters, as Optuna 3.1's
    /// density (it leaves out 1 / sigma): an observation far from others weighs as much as one
    /// in a crowd, which keeps a univariate TPE exploring.
    bool equal_height_kernels = false;
    /// Counts the trials other workers are running as if they had the worst value (Optuna's
    /// constant_liar): they join the "bad" group, so parallel workers spread out instead of
    /// drawing near one another. They do not count towards n_startup_trials or gamma's share.
    /// Without other workers there are no running trials and nothing changes.
    bool constant_liar = false;
    /// With constant_liar: lie over categorical parameters too, as Optuna does. Off, running
    /// trials are left out of a categorical's bad group: with a few choices, lying pushes the
    /// workers off the best one (the default sampler measured better so, docs/tuning.md).
    bool lie_on_categorical = true;
  };

  TpeSampler() : TpeSampler(Options{}) {}
  /// Throws std::invalid_argument if an option is out of range.
  explicit TpeSampler(Options options) : m_options(options) {
    const auto fail = [](const std::string& what) {
      throw InvalidArgument("descent::tune::TpeSampler: " + what);
    };
    const Options& o = m_options;
    if (o.n_startup_trials < 0) {
      fail("n_startup_trials must be >= 0, got " + std::to_string(o.n_startup_trials));
    }
    if (o.n_ei_candidates < 1) {
      fail("n_ei_candidates must be >= 1, got " + std::to_string(o.n_ei_candidates));
    }
    if (!(o.gamma > 0 && o.gamma <= 1)) {
      fail("gamma must be in (0, 1], got " + detail::format_number(o.gamma));
    }
    if (o.max_good < 1) fail("max_good must be >= 1, got " + std::to_string(o.max_good));
    if (!(o.prior_weight > 0) || !std::isfinite(o.prior_weight)) {
      fail("prior_weight must be finite and > 0, got " + detail::format_number(o.prior_weight));
    }
    if (o.bandwidth != Bandwidth::neighbours && o.bandwidth != Bandwidth::scott) {
      fail("bandwidth must be neighbours or scott, got " + std::to_string(int(o.bandwidth)));
    }
  }

  /// The options it was made with.
  const Options& options() const { return m_options; }

  double sample(const std::vector<FrozenTrial>& history, Direction direction,
                const FrozenTrial& trial, const std::string& name,
                const Distribution& distribution) override {
    auto rng = detail::param_rng(m_options.seed, trial.number, name);
    const auto usable = std::size_t(std::count_if(history.begin(), history.end(), rankable));
    if (usable < std::size_t(m_options.n_startup_trials) || usable == 0) {
      return detail::sample_uniform(distribution, rng);
    }
    if (!modelled(distribution)) return detail::sample_uniform(distribution, rng);
    if (m_options.multivariate) {
      if (const auto v = joint_value(history, direction, trial.number, name, distribution)) {
        return *v;
      }
    }
    const auto ranked = rank(history, direction);
    detail::Observations good{.dims = 1}, bad{.dims = 1};
    const std::size_t n_good = good_count(ranked.size());
    for (std::size_t r = 0; r < ranked.size(); ++r) {
      const FrozenTrial& t = *ranked[r];
      const auto it = t.params.find(name);
      if (it == t.params.end() || it->second.distribution.index() != distribution.index() ||
          !contains(distribution, it->second.internal)) {
        continue;  // the parameter was not asked for, or over another space
      }
      (r < n_good ? good : bad).add(std::span(&it->second.internal, 1), t.number);
    }
    const bool categorical = std::holds_alternative<CategoricalDistribution>(distribution);
    for (const FrozenTrial* t : liars(history, categorical)) {
      const auto it = t->params.find(name);
      if (it != t->params.end() && it->second.distribution.index() == distribution.index() &&
          contains(distribution, it->second.internal)) {
        bad.add(std::span(&it->second.internal, 1), t->number);
      }
    }
    const Distribution* space[] = {&distribution};
    return best_candidate(space, good, bad, rng)[0];
  }

 private:
  /// Whether TPE models the space: more than one value, a range whose width is a finite double.
  static bool modelled(const Distribution& distribution) {
    if (std::holds_alternative<CategoricalDistribution>(distribution)) return true;
    const detail::NumericSpace s = detail::numeric_space(distribution);
    return s.high > s.low && std::isfinite(s.hi - s.lo);
  }

  std::size_t good_count(std::size_t ranked) const {
    return std::min<std::size_t>(std::size_t(std::ceil(m_options.gamma * double(ranked))),
                                 std::size_t(m_options.max_good));
  }

  /// The candidate from l with the largest l(x) / g(x).
  std::vector<double> best_candidate(std::span<const Distribution* const> space,
                                     const detail::Observations& good,
                                     const detail::Observations& bad, std::mt19937_64& rng) const {
    const detail::ParzenOptions parzen{
        m_options.prior_weight, m_options.bandwidth == Bandwidth::scott,
        m_options.consider_endpoints, m_options.equal_height_kernels};
    const detail::ParzenEstimator l(space, good, age_weights(good.numbers), parzen);
    const detail::ParzenEstimator g(space, bad, age_weights(bad.numbers), parzen);
    std::vector<double> best, x;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < m_options.n_ei_candidates; ++c) {
      l.sample(rng, x);
      const double score = l.log_pdf(x) - g.log_pdf(x);
      if (best.empty() || score > best_score) best = x, best_score = score;
    }
    return best;
  }

  /// Parameter `name` of the joint draw for trial `number`, or nothing when the parameter is not
  /// in the space every ranked trial shares (or is asked for over another space).
  std::optional<double> joint_value(const std::vector<FrozenTrial>& history, Direction direction,
                                    std::int64_t number, const std::string& name,
                                    const Distribution& distribution) {
    std::unique_lock lock(m_joint_mutex);
    auto it = std::find_if(m_joint.begin(), m_joint.end(), [&](const Joint& j) {
      return j.number == number && j.history == history.size();
    });
    if (it == m_joint.end()) {
      lock.unlock();  // drawing takes the time: let other trials' threads in meanwhile
      Joint drawn = draw_joint(rank(history, direction), history, number);
      drawn.history = history.size();
      lock.lock();
      m_joint.push_back(std::move(drawn));
      if (m_joint.size() > 256) m_joint.pop_front();  // trials in flight at once, at most
      it = std::prev(m_joint.end());
    }
    const auto found = it->values.find(name);
    if (found == it->values.end() || found->second.first != distribution) return std::nullopt;
    return found->second.second;
  }

  struct Joint {
    std::int64_t number = -1;
    std::size_t history = 0;
    std::map<std::string, std::pair<Distribution, double>> values;  ///< space and value by name
  };

  /// One draw over the intersection search space: the parameters every ranked trial has, each
  /// over one space, that TPE models. The liars among `history` join the bad group when they
  /// have every one of those parameters.
  Joint draw_joint(const std::vector<const FrozenTrial*>& ranked,
                   const std::vector<FrozenTrial>& history, std::int64_t number) const {
    Joint out;
    out.number = number;
    std::vector<std::string> names;
    std::vector<const Distribution*> space;
    for (const auto& entry : ranked.front()->params) {
      const std::string& name = entry.first;
      const Param& param = entry.second;
      const bool shared = std::all_of(ranked.begin(), ranked.end(), [&](const FrozenTrial* t) {
        const auto it = t->params.find(name);
        return it != t->params.end() && it->second.distribution == param.distribution &&
               contains(param.distribution, it->second.internal);
      });
      if (shared && modelled(param.distribution)) {
        names.push_back(name);
        space.push_back(&param.distribution);
      }
    }
    if (names.empty()) return out;
    detail::Observations good{.dims = names.size()}, bad{.dims = names.size()};
    const std::size_t n_good = good_count(ranked.size());
    std::vector<double> row(names.size());
    for (std::size_t r = 0; r < ranked.size(); ++r) {
      for (std::size_t d = 0; d < names.size(); ++d) {
        row[d] = ranked[r]->params.at(names[d]).internal;
      }
      (r < n_good ? good : bad).add(row, ranked[r]->number);
    }
    const bool categorical = std::any_of(space.begin(), space.end(), [](const Distribution* d) {
      return std::holds_alternative<CategoricalDistribution>(*d);
    });
    for (const FrozenTrial* t : liars(history, categorical)) {
      std::size_t d = 0;
      for (; d < names.size(); ++d) {
        const auto it = t->params.find(names[d]);
        if (it == t->params.end() || it->second.distribution != *space[d] ||
            !contains(*space[d], it->second.internal)) {
          break;
        }
        row[d] = it->second.internal;
      }
      if (d == names.size()) bad.add(row, t->number);
    }
    // A stream of its own: no parameter's generator (keyed by name) draws the same numbers.
    auto rng = detail::param_rng(m_options.seed ^ 0x6a09e667f3bcc909ull, number, "\x01joint");
    const auto values = best_candidate(space, good, bad, rng);
    for (std::size_t d = 0; d < names.size(); ++d) {
      out.values.emplace(names[d], std::pair(*space[d], values[d]));
    }
    return out;
  }

  /// The running trials of `history` that constant_liar counts as bad: none without it, nor over
  /// a `categorical` space unless lie_on_categorical.
  std::vector<const FrozenTrial*> liars(const std::vector<FrozenTrial>& history,
                                        bool categorical) const {
    std::vector<const FrozenTrial*> out;
    if (!m_options.constant_liar || (categorical && !m_options.lie_on_categorical)) return out;
    for (const auto& t : history) {
      if (t.state == TrialState::running) out.push_back(&t);
    }
    return out;
  }

  /// Whether a finished trial takes part: complete with a value, or pruned after a report.
  static bool rankable(const FrozenTrial& t) {
    return (t.state == TrialState::complete && !std::isnan(t.value)) ||
           (t.state == TrialState::pruned && !t.intermediate.empty());
  }

  /// Complete trials best first, then pruned ones: further first, then by their last report.
  static std::vector<const FrozenTrial*> rank(const std::vector<FrozenTrial>& history,
                                              Direction d) {
    std::vector<const FrozenTrial*> complete, pruned;
    for (const auto& t : history) {
      if (!rankable(t)) continue;
      (t.state == TrialState::complete ? complete : pruned).push_back(&t);
    }
    std::stable_sort(
        complete.begin(), complete.end(),
        [d](const FrozenTrial* a, const FrozenTrial* b) { return better(d, a->value, b->value); });
    std::stable_sort(pruned.begin(), pruned.end(), [d](const FrozenTrial* a, const FrozenTrial* b) {
      if (a->last_step() != b->last_step()) return a->last_step() > b->last_step();
      return better(d, a->intermediate.rbegin()->second, b->intermediate.rbegin()->second);
    });
    complete.insert(complete.end(), pruned.begin(), pruned.end());
    return complete;
  }

  /// Weights by age (by trial number): 1 for the newest 25, a ramp from 1/n up to 1 for the
  /// older ones.
  static std::vector<double> age_weights(const std::vector<std::int64_t>& numbers) {
    std::vector<double> w(numbers.size(), 1.0);
    constexpr std::size_t flat = 25;
    if (numbers.size() <= flat) return w;
    std::vector<std::size_t> order(numbers.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return numbers[a] < numbers[b]; });
    const std::size_t ramp = numbers.size() - flat;
    const double n = double(numbers.size());
    for (std::size_t k = 0; k < ramp; ++k) {
      w[order[k]] = ramp == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * double(k) / double(ramp - 1);
    }
    return w;
  }

  Options m_options;
  std::mutex m_joint_mutex;
  std::deque<Joint> m_joint;  ///< the joint draws of the latest trials
};

}  // namespace descent::tune
