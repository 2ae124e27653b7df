#pragma once
// The Parzen estimator TPE builds for its "good" and its "bad" trials (tpe.hpp): a weighted
// mixture of product kernels, one per observed trial plus a wide prior, over one parameter or
// several at once. Numeric parameters get normals truncated to the range (in log space for log
// spaces; integer and stepped spaces as the mass of each grid point's bin), categoricals a
// smoothed one-hot distribution per kernel. Every draw goes through descent/detail/random.hpp, so
// a seed gives the same values with libstdc++ and libc++.

#include <descent/detail/random.hpp>
#include <descent/tune/distributions.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <numeric>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace descent::tune::detail {

/// The space a numeric parameter is modelled in: [lo, hi], in log space for log spaces, with bins
/// of `step` around each grid point (0: continuous).
struct NumericSpace {
  double lo, hi;  ///< model-space bounds (bins' outer edges on grids)
  bool log;
  double step;                               ///< grid step of the external value; 0: continuous
  double low, high;                          ///< external bounds
  const IntDistribution* integer = nullptr;  ///< set for int spaces

  double to_model(double v) const { return log ? std::log(v) : v; }
  double from_model(double x) const {
    double v = log ? std::exp(x) : x;
    if (integer) return double(integer->nearest(v));  // exact: doubles lose int64 grids past 2^53
    if (step > 0) v = low + std::round((v - low) / step) * step;
    return std::clamp(v, low, high);
  }
  /// The bin of grid point v in model space, within [lo, hi].
  std::pair<double, double> bin(double v) const {
    return {std::max(lo, to_model(v - step / 2)), std::min(hi, to_model(v + step / 2))};
  }
};

/// The model space of a float or int distribution.
inline NumericSpace numeric_space(const Distribution& distribution) {
  if (const auto* f = std::get_if<FloatDistribution>(&distribution)) {
    if (f->step > 0) {
      return {f->low - f->step / 2, f->high + f->step / 2, false, f->step, f->low, f->high};
    }
    if (f->log) return {std::log(f->low), std::log(f->high), true, 0, f->low, f->high};
    return {f->low, f->high, false, 0, f->low, f->high};
  }
  const auto& i = std::get<IntDistribution>(distribution);
  const double lo = double(i.low), hi = double(i.high), s = double(i.step);
  if (i.log) return {std::log(lo - 0.5), std::log(hi + 0.5), true, 1, lo, hi, &i};
  return {lo - s / 2, hi + s / 2, false, s, lo, hi, &i};
}

/// log(sqrt(2 pi)), the standard normal density's normalizer.
inline const double log_sqrt_2pi = 0.5 * std::log(2 * std::numbers::pi);

/// The standard normal's distribution function.
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

/// Observed trials: a row of internal values per trial (row-major, n x dims) and its number.
struct Observations {
  std::size_t dims = 0;                    ///< values per row
  std::vector<double> values = {};         ///< n x dims
  std::vector<std::int64_t> numbers = {};  ///< trial number of each row, for the age weights

  std::size_t size() const { return numbers.size(); }
  double at(std::size_t row, std::size_t d) const { return values[row * dims + d]; }
  void add(std::span<const double> row, std::int64_t number) {
    values.insert(values.end(), row.begin(), row.end());
    numbers.push_back(number);
  }
};

/// How a ParzenEstimator is built.
struct ParzenOptions {
  double prior_weight = 1.0;  ///< weight of the prior kernel against 1 per observation
  bool scott = false;         ///< kernel widths by Scott's rule, not by the neighbours' distances
  bool consider_endpoints = false;  ///< neighbours: the range's ends count as neighbours
  bool equal_height = false;        ///< TpeSampler::Options::equal_height_kernels
};

/// A mixture of product kernels over parameters `spaces`: one kernel on each observation (a row
/// of internal values, one per parameter) with the given weight, and the prior - uniform over
/// categoricals, a normal as wide as the range at its centre on numbers - with prior_weight.
/// Kernel widths are clipped to [range / min(100, n + 2), range] (Optuna's "magic clip").
class ParzenEstimator {
 public:
  ParzenEstimator(std::span<const Distribution* const> spaces, const Observations& rows,
                  std::span<const double> weights, const ParzenOptions& options) {
    const std::size_t n = rows.size(), kernels = n + 1;
    m_weight.assign(weights.begin(), weights.end());
    m_weight.push_back(options.prior_weight);
    const double total = std::accumulate(m_weight.begin(), m_weight.end(), 0.0);
    for (auto& w : m_weight) w /= total;
    for (const double w : m_weight) {  // most weights are equal (the newest 25, by age): one log
      const bool same = !m_log_weight.empty() && w == m_weight[m_log_weight.size() - 1];
      m_log_weight.push_back(same ? m_log_weight.back() : std::log(std::max(w, 1e-300)));
    }
    for (std::size_t d = 0; d < spaces.size(); ++d) {
      Dim dim;
      if (const auto* c = std::get_if<CategoricalDistribution>(spaces[d])) {
        // Optuna's smoothing: prior_weight / (n + 1) on every choice, 1 more on the observed one.
        dim.choices = c->choices.size();
        const double floor = options.prior_weight / double(kernels);
        const double row_total = 1 + floor * double(dim.choices);
        dim.probability.assign(kernels * dim.choices, floor / row_total);
        for (std::size_t i = 0; i < n; ++i) {
          dim.probability[i * dim.choices + std::size_t(rows.at(i, d))] += 1 / row_total;
        }
        std::fill_n(dim.probability.begin() + std::ptrdiff_t(n * dim.choices), dim.choices,
                    1.0 / double(dim.choices));
        // Three distinct values (floor, floor + 1, the prior's 1 / choices): three logs.
        const double log_floor = std::log(floor / row_total);
        const double log_seen = std::log((floor + 1) / row_total);
        dim.log_probability.assign(kernels * dim.choices, log_floor);
        for (std::size_t i = 0; i < n; ++i) {
          dim.log_probability[i * dim.choices + std::size_t(rows.at(i, d))] = log_seen;
        }
        std::fill_n(dim.log_probability.begin() + std::ptrdiff_t(n * dim.choices), dim.choices,
                    -std::log(double(dim.choices)));
      } else {
        dim.space = numeric_space(*spaces[d]);
        for (std::size_t i = 0; i < n; ++i) dim.mu.push_back(dim.space.to_model(rows.at(i, d)));
        dim.mu.push_back((dim.space.lo + dim.space.hi) / 2);
        dim.sigma = widths(dim.mu, dim.space, spaces.size(), options);
        const bool by_width = dim.space.step == 0 && !options.equal_height;
        for (const double sigma : dim.sigma) {
          dim.log_sigma.push_back(dim.space.step > 0 || by_width ? std::log(sigma) : 0.0);
        }
        for (std::size_t k = 0; k < kernels; ++k) {
          const double z_hi = (dim.space.hi - dim.mu[k]) / dim.sigma[k];
          const double z_lo = (dim.space.lo - dim.mu[k]) / dim.sigma[k];
          // 12 sd inside both ends the mass is 1 to 1e-32: no erfc (a narrow kernel's case).
          const double log_mass =
              z_hi > 12 && z_lo < -12
                  ? 0.0
                  : std::log(std::max(normal_cdf(z_hi) - normal_cdf(z_lo), 1e-300));
          dim.log_norm.push_back(log_mass + (by_width ? dim.log_sigma[k] : 0.0));
        }
        // A short grid: every kernel's log mass at every point, once, instead of per candidate
        // (24 candidates under two mixtures ask for more bins than the grid has).
        const double points = (dim.space.high - dim.space.low) / dim.space.step + 1;
        if (dim.space.step > 0 && points <= 32) {
          dim.points = std::size_t(std::llround(points));
          for (std::size_t k = 0; k < kernels; ++k) {
            for (std::size_t i = 0; i < dim.points; ++i) {
              const double v = dim.space.low + double(i) * dim.space.step;
              dim.log_mass.push_back(log_bin_mass(dim, k, dim.space.bin(v)));
            }
          }
        }
      }
      m_dims.push_back(std::move(dim));
    }
  }

  /// One draw from the mixture into `out`: a kernel by weight, then each parameter from that
  /// kernel, as internal values (on the grid of stepped and int spaces).
  template <class Rng>
  void sample(Rng& rng, std::vector<double>& out) const {
    const std::size_t k = descent::detail::weighted_index(rng, std::span<const double>(m_weight));
    out.clear();
    for (const Dim& dim : m_dims) {
      if (dim.choices > 0) {
        const std::span<const double> row(dim.probability.data() + k * dim.choices, dim.choices);
        out.push_back(double(descent::detail::weighted_index(rng, row)));
        continue;
      }
      // Every centre lies in [lo, hi] and sigma <= hi - lo, so at least a third of the draws
      // land inside: 64 misses in a row is beyond 1e-11.
      double x = dim.mu[k];
      for (int attempt = 0; attempt < 64; ++attempt) {
        const double z = dim.mu[k] + dim.sigma[k] * descent::detail::standard_normal(rng);
        if (z >= dim.space.lo && z <= dim.space.hi) {
          x = z;
          break;
        }
      }
      out.push_back(dim.space.from_model(x));
    }
  }

  /// The log density at a point of internal values (log mass of its bin on grids).
  double log_pdf(std::span<const double> point) const {
    std::vector<double>& log_p = m_scratch;  // reused: log_pdf runs per candidate
    log_p.assign(m_log_weight.begin(), m_log_weight.end());
    for (std::size_t d = 0; d < m_dims.size(); ++d) {
      const Dim& dim = m_dims[d];
      if (dim.choices > 0) {
        const auto choice = std::size_t(point[d]);
        for (std::size_t k = 0; k < log_p.size(); ++k) {
          log_p[k] += dim.log_probability[k * dim.choices + choice];
        }
      } else if (dim.points > 0) {
        const auto i = std::size_t(std::llround((point[d] - dim.space.low) / dim.space.step));
        for (std::size_t k = 0; k < log_p.size(); ++k) log_p[k] += dim.log_mass[k * dim.points + i];
      } else if (dim.space.step > 0) {
        const auto bin = dim.space.bin(point[d]);
        for (std::size_t k = 0; k < log_p.size(); ++k) log_p[k] += log_bin_mass(dim, k, bin);
      } else {
        const double x = dim.space.to_model(point[d]);
        for (std::size_t k = 0; k < log_p.size(); ++k) {
          const double z = (x - dim.mu[k]) / dim.sigma[k];
          log_p[k] += -0.5 * z * z - dim.log_norm[k];  // the 1/sqrt(2 pi) cancels in l/g
        }
      }
    }
    const double top = *std::max_element(log_p.begin(), log_p.end());
    if (!std::isfinite(top)) return top;
    double sum = 0;
    for (const double v : log_p) {
      if (v - top > -40) sum += std::exp(v - top);  // below, a term adds < 5e-18 of the top one
    }
    return top + std::log(sum);
  }

 private:
  struct Dim {
    std::size_t choices = 0;              ///< > 0: categorical
    std::vector<double> probability;      ///< categorical: kernels x choices, row-major
    std::vector<double> log_probability;  ///< its logarithms
    NumericSpace space{};                 ///< numeric:
    std::vector<double> mu, sigma;        ///< per kernel, in model space; the prior last
    std::vector<double> log_norm;         ///< log of the kernel's mass inside [lo, hi] (and sigma)
    std::vector<double> log_sigma;        ///< log of each kernel's sigma
    std::size_t points = 0;               ///< > 0: a grid this short, its masses tabulated
    std::vector<double> log_mass;         ///< kernels x points: log_bin_mass of each grid point
  };

  /// log of kernel k's mass in the bin [a, b] (model space), over its mass in [lo, hi].
  static double log_bin_mass(const Dim& dim, std::size_t k, std::pair<double, double> bin) {
    const auto [a, b] = bin;
    if (b - a < 0.25 * dim.sigma[k]) {
      // A bin narrower than a quarter of the kernel: its mass is the density at its middle times
      // its width, to a relative 0.3% (the Taylor term (width / sigma)^2 / 24), far below what
      // moves the ratio l / g the candidates are ranked by.
      const double z = ((a + b) / 2 - dim.mu[k]) / dim.sigma[k];
      return -0.5 * z * z + std::log(b - a) - dim.log_sigma[k] - log_sqrt_2pi - dim.log_norm[k];
    }
    const double za = (a - dim.mu[k]) / dim.sigma[k], zb = (b - dim.mu[k]) / dim.sigma[k];
    // Beyond 12 sd the mass is below 1e-32: nothing beside the prior, whose width is the range
    // (its mass in a bin is above 1e-9 on any grid of < 1e8 points). Most kernels, once narrow,
    // are that far from a candidate: no erfc for them.
    static const double log_floor = std::log(1e-300);
    if (za > 12 || zb < -12) return log_floor - dim.log_norm[k];
    return std::log(std::max(normal_cdf(zb) - normal_cdf(za), 1e-300)) - dim.log_norm[k];
  }

  /// The kernels' widths on one numeric parameter; `mu` ends with the prior's centre.
  static std::vector<double> widths(const std::vector<double>& mu, const NumericSpace& s,
                                    std::size_t dims, const ParzenOptions& options) {
    const double range = s.hi - s.lo;
    std::vector<double> sigma(mu.size());
    if (options.scott) {
      const double n = double(std::max<std::size_t>(mu.size() - 1, 1));
      std::fill(sigma.begin(), sigma.end(), 0.2 * range * std::pow(n, -1.0 / double(dims + 4)));
    } else {
      std::vector<std::size_t> order(mu.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::sort(order.begin(), order.end(), [&](auto a, auto b) { return mu[a] < mu[b]; });
      const std::size_t m = order.size();
      for (std::size_t r = 0; r < m; ++r) {
        const double left = mu[order[r]] - (r == 0 ? s.lo : mu[order[r - 1]]);
        const double right = (r + 1 == m ? s.hi : mu[order[r + 1]]) - mu[order[r]];
        sigma[order[r]] = std::max(left, right);
      }
      // Without the ends as neighbours the outermost look inward only: the distance to the
      // range's end would make an observation near the middle of a wide range as vague as the
      // prior.
      if (!options.consider_endpoints && m >= 2) {
        sigma[order[0]] = mu[order[1]] - mu[order[0]];
        sigma[order[m - 1]] = mu[order[m - 1]] - mu[order[m - 2]];
      }
    }
    const double min_sigma = range / std::min(100.0, 1.0 + double(mu.size()));
    for (auto& v : sigma) v = std::clamp(v, min_sigma, range);
    sigma.back() = range;  // the prior
    return sigma;
  }

  std::vector<double> m_weight, m_log_weight;  ///< per kernel, normalized; the prior last
  std::vector<Dim> m_dims;
  mutable std::vector<double> m_scratch;  ///< log_pdf's per-kernel terms (one thread per object)
};

}  // namespace descent::tune::detail
