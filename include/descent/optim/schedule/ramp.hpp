#pragma once
// Schedules that scale the rate by a factor that moves over the first total_steps steps and then
// stays, with n = min(t, total_steps):
//
//   ConstantFactor  (PyTorch's ConstantLR):   lr(t) = learning_rate * (t < total_steps ? factor :
//   1) LinearFactor    (PyTorch's LinearLR):     lr(t) = learning_rate * (start_factor
//                                               + (end_factor - start_factor) * n / total_steps)
//   Polynomial      (PyTorch's PolynomialLR): lr(t) = learning_rate * (1 - n / total_steps)^power
//
// t is the 0-based step. PyTorch computes LinearLR and PolynomialLR by multiplying the rate by
// the ratio of successive factors at every step; these closed forms agree with its products to
// a few units in the last place (1e-13 after 10000 steps).

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace descent::schedule {

/// lr(t) = learning_rate * factor for t < total_steps, learning_rate after   (PyTorch's
/// ConstantLR; defaults factor = 1/3, total_steps = 5 as there).
class ConstantFactor {
 public:
  /// Scales the rate by `factor` for the first `total_steps` steps; throws
  /// std::invalid_argument unless learning_rate >= 0, 0 <= factor <= 1 and total_steps >= 1.
  explicit ConstantFactor(double learning_rate, double factor = 1.0 / 3,
                          std::int64_t total_steps = 5)
      : m_lr(learning_rate), m_factor(factor), m_total(total_steps) {
    const char* who = "schedule::ConstantFactor";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    detail::require_at_most_one(who, "factor", factor);
    if (total_steps < 1) detail::reject(who, "total_steps", total_steps, ">= 1");
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const { return t < m_total ? m_lr * m_factor : m_lr; }

 private:
  double m_lr, m_factor;
  std::int64_t m_total;
};

/// lr(t) = learning_rate * (start_factor + (end_factor - start_factor) * n / total_steps),
/// n = min(t, total_steps)   (PyTorch's LinearLR; defaults 1/3, 1 and 5 as there). A linear
/// warmup with end_factor 1, a linear decay with start_factor 1.
class LinearFactor {
 public:
  /// Moves the factor from `start_factor` to `end_factor` over `total_steps` steps; throws
  /// std::invalid_argument unless learning_rate >= 0, both factors are in [0, 1] and
  /// total_steps >= 1.
  explicit LinearFactor(double learning_rate, double start_factor = 1.0 / 3,
                        double end_factor = 1.0, std::int64_t total_steps = 5)
      : m_lr(learning_rate), m_start(start_factor), m_end(end_factor), m_total(total_steps) {
    const char* who = "schedule::LinearFactor";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    detail::require_at_most_one(who, "start_factor", start_factor);
    detail::require_at_most_one(who, "end_factor", end_factor);
    if (total_steps < 1) detail::reject(who, "total_steps", total_steps, ">= 1");
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    const double n = double(std::clamp<std::int64_t>(t, 0, m_total));
    return m_lr * (m_start + (m_end - m_start) * n / double(m_total));
  }

 private:
  double m_lr, m_start, m_end;
  std::int64_t m_total;
};

/// lr(t) = learning_rate * (1 - min(t, total_steps) / total_steps)^power: 0 from total_steps on
/// (PyTorch's PolynomialLR; defaults total_steps = 5, power = 1 as there).
class Polynomial {
 public:
  /// Decays the rate to 0 over `total_steps` steps; throws std::invalid_argument unless
  /// learning_rate >= 0, total_steps >= 1 and power >= 0.
  explicit Polynomial(double learning_rate, std::int64_t total_steps = 5, double power = 1.0)
      : m_lr(learning_rate), m_total(total_steps), m_power(power) {
    const char* who = "schedule::Polynomial";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    if (total_steps < 1) detail::reject(who, "total_steps", total_steps, ">= 1");
    detail::require_nonnegative(who, "power", power);
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    const double n = double(std::clamp<std::int64_t>(t, 0, m_total));
    return m_lr * std::pow(1.0 - n / double(m_total), m_power);
  }

 private:
  double m_lr;
  std::int64_t m_total;
  double m_power;
};

}  // namespace descent::schedule
