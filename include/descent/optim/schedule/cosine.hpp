#pragma once
// Cosine schedules (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
// ICLR 2017), with c(x) = (1 + cos(pi * x)) / 2, which falls from 1 at x = 0 to 0 at x = 1:
//
//   CosineAnnealing     (PyTorch's CosineAnnealingLR):
//       lr(t) = min_lr + (learning_rate - min_lr) * c(t / t_max)
//   CosineWarmRestarts  (PyTorch's CosineAnnealingWarmRestarts):
//       lr(t) = min_lr + (learning_rate - min_lr) * c(t_cur / t_i), where the i-th period lasts
//       t_i = t_0 * t_mult^i steps and t_cur is the step within it
//   WarmupCosine:
//       lr(t) = learning_rate * t / W for t < W, then CosineAnnealing over T - W steps, min_lr
//       from T on (a linear warmup, Goyal et al., 2017)
//
// t is the 0-based step. PyTorch computes CosineAnnealingLR recursively (each rate from the one
// before); the closed form here agrees with it to 1e-14 over 100000 steps.

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace descent::schedule {

/// lr(t) = min_lr + (learning_rate - min_lr) * (1 + cos(pi * t / t_max)) / 2   (PyTorch's
/// CosineAnnealingLR, T_max = t_max, eta_min = min_lr). As in PyTorch it does not stop at
/// t_max: it is periodic, rising back to learning_rate at 2 t_max.
class CosineAnnealing {
 public:
  /// Anneals from `learning_rate` to `min_lr` over `t_max` steps; throws std::invalid_argument
  /// if a rate is negative or not finite, or t_max < 1.
  CosineAnnealing(double learning_rate, std::int64_t t_max, double min_lr = 0)
      : m_lr(learning_rate), m_min_lr(min_lr), m_t_max(t_max) {
    const char* who = "schedule::CosineAnnealing";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    if (t_max < 1) detail::reject(who, "t_max", t_max, ">= 1");
    detail::require_nonnegative(who, "min_lr", min_lr);
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    const double x = std::numbers::pi * double(t) / double(m_t_max);
    return m_min_lr + (m_lr - m_min_lr) * (1 + std::cos(x)) / 2;
  }

 private:
  double m_lr, m_min_lr;
  std::int64_t m_t_max;
};

/// Cosine annealing from learning_rate to min_lr, restarted at learning_rate after t_0 steps,
/// then after t_0 * t_mult more, t_0 * t_mult^2 more, ...   (PyTorch's
/// CosineAnnealingWarmRestarts, T_0 = t_0, T_mult = t_mult, eta_min = min_lr):
///   lr(t) = min_lr + (learning_rate - min_lr) * (1 + cos(pi * t_cur / t_i)) / 2.
class CosineWarmRestarts {
 public:
  /// Restarts after `t_0` steps, each period `t_mult` times the one before; throws
  /// std::invalid_argument if a rate is negative or not finite, t_0 < 1 or t_mult < 1.
  CosineWarmRestarts(double learning_rate, std::int64_t t_0, std::int64_t t_mult = 1,
                     double min_lr = 0)
      : m_lr(learning_rate), m_min_lr(min_lr), m_t_0(t_0), m_t_mult(t_mult) {
    const char* who = "schedule::CosineWarmRestarts";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    if (t_0 < 1) detail::reject(who, "t_0", t_0, ">= 1");
    if (t_mult < 1) detail::reject(who, "t_mult", t_mult, ">= 1");
    detail::require_nonnegative(who, "min_lr", min_lr);
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    std::int64_t t_cur = t < 0 ? 0 : t;  // the step within the current period
    double period = double(m_t_0);
    if (m_t_mult == 1) {
      t_cur %= m_t_0;
    } else {
      std::int64_t t_i = m_t_0;
      while (t_cur >= t_i) {
        t_cur -= t_i;
        if (t_i > std::numeric_limits<std::int64_t>::max() / m_t_mult) {
          period = double(t_i) * double(m_t_mult);  // longer than any int64 step: the last one
          break;
        }
        t_i *= m_t_mult;
        period = double(t_i);
      }
    }
    const double x = std::numbers::pi * double(t_cur) / period;
    return m_min_lr + (m_lr - m_min_lr) * (1 + std::cos(x)) / 2;
  }

 private:
  double m_lr, m_min_lr;
  std::int64_t m_t_0, m_t_mult;
};

/// Linear warmup from 0 to learning_rate over warmup_steps, then a half cosine down to min_lr at
/// total_steps, min_lr after that:
///   t < W:      lr(t) = learning_rate * t / W
///   W <= t < T: lr(t) = min_lr + (learning_rate - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2
/// Loshchilov & Hutter, "SGDR", ICLR 2017; warmup: Goyal et al., 2017. In PyTorch: a
/// SequentialLR of LinearLR and CosineAnnealingLR, except that LinearLR cannot start at 0 (it
/// divides by zero) and CosineAnnealingLR rises again after T_max.
class WarmupCosine {
 public:
  /// Warms up over `warmup_steps` and decays until `total_steps`; throws std::invalid_argument
  /// unless 0 <= min_lr <= learning_rate and 0 <= warmup_steps < total_steps.
  WarmupCosine(double learning_rate, std::int64_t warmup_steps, std::int64_t total_steps,
               double min_lr = 0)
      : m_lr(learning_rate), m_min_lr(min_lr), m_warmup(warmup_steps), m_total(total_steps) {
    const char* who = "schedule::WarmupCosine";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    detail::require_nonnegative(who, "min_lr", min_lr);
    if (min_lr > learning_rate) detail::reject(who, "min_lr", min_lr, "<= learning_rate");
    if (warmup_steps < 0) detail::reject(who, "warmup_steps", warmup_steps, ">= 0");
    if (total_steps <= warmup_steps) {
      detail::reject(who, "total_steps", total_steps, "> warmup_steps");
    }
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    if (t < m_warmup) return m_lr * double(t) / double(m_warmup);
    if (t >= m_total) return m_min_lr;
    const double progress = double(t - m_warmup) / double(m_total - m_warmup);
    return m_min_lr + (m_lr - m_min_lr) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
  }

 private:
  double m_lr, m_min_lr;
  std::int64_t m_warmup, m_total;
};

}  // namespace descent::schedule
