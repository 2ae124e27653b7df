#pragma once
// Learning-rate schedules: plain functions of the step (0-based) that return the learning rate,
// plus ReduceOnPlateau, which is fed a metric. Use them with any optimizer:
//
//   descent::schedule::WarmupCosine lr(1e-3, /*warmup_steps=*/500, /*total_steps=*/10000);
//   for (std::int64_t t = 0; t < 10000; ++t) { opt.set_learning_rate(float(lr(t))); ... }
//
// All of them check their arguments when constructed and throw std::invalid_argument naming the
// one that is wrong.

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

/// Learning-rate schedules: functions of the 0-based step, and ReduceOnPlateau.
namespace descent::schedule {

/// lr(t) = learning_rate.
class Constant {
 public:
  /// A fixed learning rate; throws std::invalid_argument if it is negative or not finite.
  explicit Constant(double learning_rate) : m_lr(learning_rate) {
    detail::require_nonnegative("schedule::Constant", "learning_rate", learning_rate);
  }
  /// The learning rate, whatever the step.
  double operator()(std::int64_t) const { return m_lr; }

 private:
  double m_lr;
};

/// lr(t) = learning_rate * gamma^floor(t / step_size)   (PyTorch's StepLR).
class StepDecay {
 public:
  /// Multiplies the rate by `gamma` every `step_size` steps; throws std::invalid_argument if
  /// learning_rate or gamma is negative or step_size < 1.
  StepDecay(double learning_rate, std::int64_t step_size, double gamma = 0.1)
      : m_lr(learning_rate), m_step_size(step_size), m_gamma(gamma) {
    detail::require_nonnegative("schedule::StepDecay", "learning_rate", learning_rate);
    if (step_size < 1) detail::reject("schedule::StepDecay", "step_size", step_size, ">= 1");
    detail::require_nonnegative("schedule::StepDecay", "gamma", gamma);
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    return m_lr * std::pow(m_gamma, double(t / m_step_size));
  }

 private:
  double m_lr;
  std::int64_t m_step_size;
  double m_gamma;
};

/// lr(t) = learning_rate * gamma^t   (PyTorch's ExponentialLR).
class Exponential {
 public:
  /// Multiplies the rate by `gamma` every step; throws std::invalid_argument if an argument is
  /// negative or not finite.
  Exponential(double learning_rate, double gamma) : m_lr(learning_rate), m_gamma(gamma) {
    detail::require_nonnegative("schedule::Exponential", "learning_rate", learning_rate);
    detail::require_nonnegative("schedule::Exponential", "gamma", gamma);
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const { return m_lr * std::pow(m_gamma, double(t)); }

 private:
  double m_lr;
  double m_gamma;
};

/// Linear warmup from 0 to learning_rate over warmup_steps, then a half cosine down to min_lr at
/// total_steps, min_lr after that:
///   t < W:      lr(t) = learning_rate * t / W
///   W <= t < T: lr(t) = min_lr + (learning_rate - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2
/// Loshchilov & Hutter, "SGDR", ICLR 2017; warmup: Goyal et al., 2017.
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

/// Cuts the learning rate by `factor` when a metric has stopped improving for `patience`
/// evaluations, PyTorch's ReduceLROnPlateau with threshold_mode 'rel':
/// an improvement is metric < best * (1 - threshold) (mode min) or metric > best * (1 + threshold)
/// (mode max). After a cut it waits `cooldown` evaluations; it never goes below min_lr.
class ReduceOnPlateau {
 public:
  /// Whether the metric improves by going down (min, e.g. a loss) or up (max, e.g. an accuracy).
  enum class Mode { min, max };
  /// The settings; the defaults are those of torch.optim.lr_scheduler.ReduceLROnPlateau.
  struct Options {
    Mode mode = Mode::min;    ///< min: lower is better; max: higher is better
    double factor = 0.1;      ///< the rate is multiplied by this at a cut, in [0, 1)
    int patience = 10;        ///< evaluations without improvement tolerated before a cut
    double threshold = 1e-4;  ///< relative change that counts as an improvement, >= 0
    int cooldown = 0;         ///< evaluations to wait after a cut before counting again
    double min_lr = 0;        ///< the rate is never cut below this
  };

  /// Starts at `learning_rate` with the default Options.
  explicit ReduceOnPlateau(double learning_rate) : ReduceOnPlateau(learning_rate, Options{}) {}
  /// Starts at `learning_rate`; throws std::invalid_argument if an option is out of range.
  ReduceOnPlateau(double learning_rate, const Options& options)
      : m_lr(learning_rate), m_options(options) {
    const char* who = "schedule::ReduceOnPlateau";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    if (!(options.factor >= 0 && options.factor < 1)) {
      detail::reject(who, "factor", options.factor, "in [0, 1)");
    }
    if (options.patience < 0) detail::reject(who, "patience", options.patience, ">= 0");
    detail::require_nonnegative(who, "threshold", options.threshold);
    if (options.cooldown < 0) detail::reject(who, "cooldown", options.cooldown, ">= 0");
    detail::require_nonnegative(who, "min_lr", options.min_lr);
  }

  /// Feeds one evaluation of the metric; returns the learning rate to use from now on.
  double update(double metric) {
    if (improves(metric)) {
      m_best = metric;
      m_bad = 0;
    } else {
      ++m_bad;
    }
    if (m_cooldown_left > 0) {
      --m_cooldown_left;
      m_bad = 0;
    }
    if (m_bad > m_options.patience) {
      const double reduced = std::max(m_lr * m_options.factor, m_options.min_lr);
      if (m_lr - reduced > 1e-8) m_lr = reduced;
      m_cooldown_left = m_options.cooldown;
      m_bad = 0;
    }
    return m_lr;
  }

  /// The current learning rate, as update() last returned it.
  double learning_rate() const { return m_lr; }
  /// The best metric so far; before any update, +inf (mode min) or -inf (mode max).
  double best() const { return m_best; }

  /// Everything it remembers between evaluations, for checkpoints: restore(position()) on a
  /// ReduceOnPlateau with the same options continues exactly where this one is.
  struct Position {
    double learning_rate = 0;  ///< the current learning rate
    double best = 0;           ///< the best metric so far
    int bad = 0;               ///< evaluations without improvement so far
    int cooldown_left = 0;     ///< evaluations left to wait after the last cut
  };
  /// Its state now, to save in a checkpoint.
  Position position() const { return {m_lr, m_best, m_bad, m_cooldown_left}; }
  /// Continues from a saved position(); throws std::invalid_argument if it is invalid.
  void restore(const Position& p) {
    const char* who = "schedule::ReduceOnPlateau::restore";
    detail::require_nonnegative(who, "learning_rate", p.learning_rate);
    if (std::isnan(p.best)) detail::reject(who, "best", p.best, "a number");
    if (p.bad < 0) detail::reject(who, "bad", p.bad, ">= 0");
    if (p.cooldown_left < 0) detail::reject(who, "cooldown_left", p.cooldown_left, ">= 0");
    m_lr = p.learning_rate;
    m_best = p.best;
    m_bad = p.bad;
    m_cooldown_left = p.cooldown_left;
  }

 private:
  bool improves(double metric) const {
    if (m_options.mode == Mode::min) return metric < m_best * (1 - m_options.threshold);
    return metric > m_best * (1 + m_options.threshold);
  }

  double m_lr;
  Options m_options;
  double m_best = m_options.mode == Mode::min ? std::numeric_limits<double>::infinity()
                                              : -std::numeric_limits<double>::infinity();
  int m_bad = 0;
  int m_cooldown_left = 0;
};

}  // namespace descent::schedule
