#pragma once
// The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio, Kegl: "Algorithms for
// Hyper-Parameter Optimization", NeurIPS 2011), one parameter at a time.
//
//   1. The first n_startup_trials trials are random.
//   2. The finished trials are ranked (complete ones by value, then pruned ones by how far they
//      got and their last report) and split: the best n_good = min(ceil(gamma * n), max_good)
//      are "good", the rest "bad".
//   3. For each group a density over the parameter: a mixture of normals truncated to the range,
//      one centred on each observation plus a wide prior (centre of the range, sigma = range),
//      each observation's sigma the larger distance to its neighbours (the outermost: to its one
//      neighbour), clipped to [range / min(100, 1 + n), range]. Log spaces are modelled in log space; integer and
//      stepped spaces as the mass of each grid point's bin. Categoricals: smoothed weighted counts.
//   4. n_ei_candidates draws from the good density l(x); the one maximizing l(x) / g(x), which
//      maximizes expected improvement, is the value.
// Older observations get less weight once there are more than 25 (a ramp from 1/n to 1).

#include <descent/tune/samplers.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace descent::tune {

/// The tree-structured Parzen estimator, like Optuna's TPESampler; tpe.hpp lists its steps.
class TpeSampler : public Sampler {
 public:
  /// The settings; the defaults follow Optuna's TPESampler.
  struct Options {
    std::uint64_t seed = 0;     ///< with the trial number and the parameter name, keys every draw
    int n_startup_trials = 10;  ///< trials drawn at random before TPE starts
    int n_ei_candidates = 24;   ///< candidates drawn from l(x) per parameter, >= 1
    double gamma = 0.1;         ///< share of the finished trials that are "good"
    int max_good = 25;          ///< at most this many
    double prior_weight = 1.0;  ///< weight of the wide prior in each mixture, > 0
  };

  TpeSampler() : TpeSampler(Options{}) {}
  /// Throws std::invalid_argument if an option is out of range.
  explicit TpeSampler(Options options) : m_options(options) {
    const auto fail = [](const std::string& what) {
      throw std::invalid_argument("descent::tune::TpeSampler: " + what);
    };
    if (m_options.n_startup_trials < 0) fail("n_startup_trials must be >= 0, got " + std::to_string(m_options.n_startup_trials));
    if (m_options.n_ei_candidates < 1) fail("n_ei_candidates must be >= 1, got " + std::to_string(m_options.n_ei_candidates));
    if (!(m_options.gamma > 0 && m_options.gamma <= 1)) fail("gamma must be in (0, 1], got " + detail::format_number(m_options.gamma));
    if (m_options.max_good < 1) fail("max_good must be >= 1, got " + std::to_string(m_options.max_good));
    if (!(m_options.prior_weight > 0)) fail("prior_weight must be > 0, got " + detail::format_number(m_options.prior_weight));
  }

  /// The options it was made with.
  const Options& options() const { return m_options; }

  double sample(const std::vector<FrozenTrial>& history, Direction direction, const FrozenTrial& trial,
                const std::string& name, const Distribution& distribution) override {
    auto rng = detail::param_rng(m_options.seed, trial.number, name);
    const auto ranked = rank(history, direction);
    if (ranked.size() < std::size_t(m_options.n_startup_trials) || ranked.empty()) {
      return detail::sample_uniform(distribution, rng);
    }
    const auto n_good = std::min<std::size_t>(
        std::size_t(std::ceil(m_options.gamma * double(ranked.size()))), std::size_t(m_options.max_good));
    Observations good, bad;
    for (std::size_t r = 0; r < ranked.size(); ++r) {
      const FrozenTrial& t = *ranked[r];
      const auto it = t.params.find(name);
      if (it == t.params.end() || it->second.distribution.index() != distribution.index() ||
          !contains(distribution, it->second.internal)) {
        continue;  // the parameter was not asked for, or over another space
      }
      (r < n_good ? good : bad).push_back({it->second.internal, t.number});
    }
    if (const auto* c = std::get_if<CategoricalDistribution>(&distribution)) {
      return sample_categorical(c->choices.size(), good, bad, rng);
    }
    return sample_numeric(distribution, good, bad, rng);
  }

 private:
  struct Observation {
    double internal;
    std::int64_t number;
  };
  using Observations = std::vector<Observation>;

  /// Complete trials best first, then pruned ones: further first, then by their last report.
  static std::vector<const FrozenTrial*> rank(const std::vector<FrozenTrial>& history, Direction d) {
    std::vector<const FrozenTrial*> complete, pruned;
    for (const auto& t : history) {
      if (t.state == TrialState::complete && !std::isnan(t.value)) complete.push_back(&t);
      if (t.state == TrialState::pruned && !t.intermediate.empty()) pruned.push_back(&t);
    }
    std::stable_sort(complete.begin(), complete.end(),
                     [d](const FrozenTrial* a, const FrozenTrial* b) { return better(d, a->value, b->value); });
    std::stable_sort(pruned.begin(), pruned.end(), [d](const FrozenTrial* a, const FrozenTrial* b) {
      if (a->last_step() != b->last_step()) return a->last_step() > b->last_step();
      return better(d, a->intermediate.rbegin()->second, b->intermediate.rbegin()->second);
    });
    complete.insert(complete.end(), pruned.begin(), pruned.end());
    return complete;
  }

  /// Weights by age: 1 for the newest 25, a ramp from 1/n up to 1 for the older ones.
  static std::vector<double> age_weights(const Observations& obs) {
    std::vector<double> w(obs.size(), 1.0);
    constexpr std::size_t flat = 25;
    if (obs.size() <= flat) return w;
    std::vector<std::size_t> order(obs.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return obs[a].number < obs[b].number; });
    const std::size_t ramp = obs.size() - flat;
    const double n = double(obs.size());
    for (std::size_t k = 0; k < ramp; ++k) {
      w[order[k]] = ramp == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * double(k) / double(ramp - 1);
    }
    return w;
  }

  // ---- categorical ------------------------------------------------------------------------------

  std::vector<double> categorical_density(std::size_t k, const Observations& obs) const {
    std::vector<double> p(k, m_options.prior_weight / double(k));
    const auto w = age_weights(obs);
    for (std::size_t i = 0; i < obs.size(); ++i) p[std::size_t(obs[i].internal)] += w[i];
    const double total = std::accumulate(p.begin(), p.end(), 0.0);
    for (auto& v : p) v /= total;
    return p;
  }

  double sample_categorical(std::size_t k, const Observations& good, const Observations& bad,
                            std::mt19937_64& rng) const {
    const auto l = categorical_density(k, good), g = categorical_density(k, bad);
    std::discrete_distribution<std::size_t> draw(l.begin(), l.end());
    std::size_t best = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < m_options.n_ei_candidates; ++c) {
      const std::size_t x = draw(rng);
      const double score = std::log(l[x]) - std::log(g[x]);
      if (score > best_score) best = x, best_score = score;
    }
    return double(best);
  }

  // ---- numeric ----------------------------------------------------------------------------------

  /// The space a numeric parameter is modelled in: [lo, hi], log or not, bins of `half` each side
  /// of a grid point (0: continuous).
  struct Space {
    double lo, hi;
    bool log;
    double step;  ///< grid step of the external value; 0: continuous
    double low, high;  ///< external bounds
    const IntDistribution* integer = nullptr;  ///< set for int spaces

    double to_model(double v) const { return log ? std::log(v) : v; }
    double from_model(double x) const {
      double v = log ? std::exp(x) : x;
      if (integer) return double(integer->nearest(v));  // exact: doubles lose int64 grids past 2^53
      if (step > 0) v = low + std::round((v - low) / step) * step;
      return std::clamp(v, low, high);
    }
    /// The bin of grid point v in model space.
    std::pair<double, double> bin(double v) const {
      return {to_model(v - step / 2), to_model(v + step / 2)};
    }
  };

  static Space space_of(const Distribution& distribution) {
    if (const auto* f = std::get_if<FloatDistribution>(&distribution)) {
      if (f->step > 0) return {f->low - f->step / 2, f->high + f->step / 2, false, f->step, f->low, f->high};
      if (f->log) return {std::log(f->low), std::log(f->high), true, 0, f->low, f->high};
      return {f->low, f->high, false, 0, f->low, f->high};
    }
    const auto& i = std::get<IntDistribution>(distribution);
    const double lo = double(i.low), hi = double(i.high), s = double(i.step);
    if (i.log) return {std::log(lo - 0.5), std::log(hi + 0.5), true, 1, lo, hi, &i};
    return {lo - s / 2, hi + s / 2, false, s, lo, hi, &i};
  }

  struct Mixture {
    std::vector<double> weight, mu, sigma, mass;  ///< mass: of each normal inside [lo, hi]
  };

  static double phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

  Mixture parzen(const Space& s, const Observations& obs) const {
    const double range = s.hi - s.lo;
    Mixture m;
    const auto w = age_weights(obs);
    std::vector<std::size_t> order(obs.size());
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> x(obs.size());
    for (std::size_t i = 0; i < obs.size(); ++i) x[i] = s.to_model(obs[i].internal);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return x[a] < x[b]; });
    const double min_sigma = range / std::min(100.0, 1.0 + double(obs.size()));
    for (std::size_t k = 0; k < order.size(); ++k) {
      // The outermost ones look inward only: the distance to the range's end would make an
      // observation near the middle of a wide range as vague as the prior.
      const double here = x[order[k]];
      const double left = k == 0 ? 0.0 : here - x[order[k - 1]];
      const double right = k + 1 == order.size() ? 0.0 : x[order[k + 1]] - here;
      m.mu.push_back(here);
      m.sigma.push_back(std::clamp(std::max(left, right), min_sigma, range));
      m.weight.push_back(w[order[k]]);
    }
    m.mu.push_back((s.lo + s.hi) / 2);  // the prior
    m.sigma.push_back(range);
    m.weight.push_back(m_options.prior_weight);
    const double total = std::accumulate(m.weight.begin(), m.weight.end(), 0.0);
    for (std::size_t i = 0; i < m.mu.size(); ++i) {
      m.weight[i] /= total;
      m.mass.push_back(std::max(phi((s.hi - m.mu[i]) / m.sigma[i]) - phi((s.lo - m.mu[i]) / m.sigma[i]), 1e-300));
    }
    return m;
  }

  /// log density of the mixture at external value v (log mass of v's bin on grids).
  static double log_density(const Mixture& m, const Space& s, double v) {
    double total = 0;
    if (s.step > 0) {
      auto [a, b] = s.bin(v);
      a = std::max(a, s.lo), b = std::min(b, s.hi);
      for (std::size_t i = 0; i < m.mu.size(); ++i) {
        total += m.weight[i] * (phi((b - m.mu[i]) / m.sigma[i]) - phi((a - m.mu[i]) / m.sigma[i])) / m.mass[i];
      }
    } else {
      const double x = s.to_model(v);
      constexpr double inv_sqrt_2pi = 0.3989422804014327;
      for (std::size_t i = 0; i < m.mu.size(); ++i) {
        const double z = (x - m.mu[i]) / m.sigma[i];
        total += m.weight[i] * inv_sqrt_2pi * std::exp(-0.5 * z * z) / (m.sigma[i] * m.mass[i]);
      }
    }
    return std::log(std::max(total, 1e-300));
  }

  /// A draw from the mixture truncated to [lo, hi], as an external value.
  static double draw(const Mixture& m, const Space& s, std::mt19937_64& rng) {
    std::discrete_distribution<std::size_t> pick(m.weight.begin(), m.weight.end());
    const std::size_t i = pick(rng);
    std::normal_distribution<double> normal(m.mu[i], m.sigma[i]);
    // Every centre lies in [lo, hi] and sigma <= hi - lo, so at least a third of the draws land
    // inside: 64 misses in a row is beyond 1e-11.
    for (int attempt = 0; attempt < 64; ++attempt) {
      const double x = normal(rng);
      if (x >= s.lo && x <= s.hi) return s.from_model(x);
    }
    return s.from_model(std::clamp(m.mu[i], s.lo, s.hi));
  }

  double sample_numeric(const Distribution& distribution, const Observations& good,
                        const Observations& bad, std::mt19937_64& rng) const {
    const Space s = space_of(distribution);
    if (!(s.hi > s.lo)) return s.low;  // a single value
    // Normals over a range wider than the largest double have infinite sigmas: draw uniformly.
    if (!std::isfinite(s.hi - s.lo)) return detail::sample_uniform(distribution, rng);
    const Mixture l = parzen(s, good), g = parzen(s, bad);
    double best = s.low, best_score = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < m_options.n_ei_candidates; ++c) {
      const double v = draw(l, s, rng);
      const double score = log_density(l, s, v) - log_density(g, s, v);
      if (score > best_score) best = v, best_score = score;
    }
    return best;
  }

  Options m_options;
};

}  // namespace descent::tune
