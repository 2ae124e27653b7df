#pragma once
// Cyclic learning rates (Smith, "Cyclical Learning Rates for Training Neural Networks", WACV
// 2017), PyTorch's CyclicLR. The rate climbs from base_lr to max_lr over step_size_up steps,
// falls back over step_size_down steps, and so on; with L = step_size_up + step_size_down,
// r = step_size_up / L:
//
//   cycle = floor(1 + t / L)                           (1, 2, ...)
//   x     = 1 + t / L - cycle                          (position in the cycle, in [0, 1))
//   h     = x / r  if x <= r,  else (x - 1) / (r - 1)  (0 at the ends of a cycle, 1 at its top)
//   lr(t)       = base_lr + (max_lr - base_lr) * h * scale
//   momentum(t) = max_momentum - (max_momentum - base_momentum) * h * scale
//
// scale is 1 (triangular), 1 / 2^(cycle - 1) (triangular2, the height halves every cycle),
// gamma^t (exp_range), or scale_fn(cycle or t) (a function of one's own). t is the 0-based step.

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace descent::schedule {

/// A rate that cycles between base_lr and max_lr, and a momentum that cycles the other way
/// (PyTorch's CyclicLR; the formula is in schedule/cyclic.hpp).
///
/// momentum(t) is PyTorch's cycled momentum (cycle_momentum=True): use it as SGD's momentum at
/// step t. A Trainer does not set it (its optimizer's momentum is fixed); a loop of one's own
/// builds the optimizer for each step from its options, which is cheap (docs/schedules.md).
class Cyclic {
 public:
  /// How the height of a cycle changes (PyTorch's mode).
  enum class Mode {
    triangular,   ///< every cycle the same height
    triangular2,  ///< the height halves every cycle
    exp_range,    ///< the height is multiplied by gamma every step
  };
  /// What a custom scale_fn is called with (PyTorch's scale_mode).
  enum class ScaleMode {
    cycle,       ///< the cycle number, 1, 2, ...
    iterations,  ///< the step t
  };
  /// The shape of the cycles; the defaults are those of torch.optim.lr_scheduler.CyclicLR.
  struct Options {
    std::int64_t step_size_up = 2000;  ///< steps from base_lr up to max_lr, >= 1
    /// Steps from max_lr back down, >= 0; unset: step_size_up.
    std::optional<std::int64_t> step_size_down = {};
    Mode mode = Mode::triangular;  ///< how the height changes from cycle to cycle
    double gamma = 1.0;            ///< exp_range's factor per step, >= 0
    /// If set, replaces mode: the height is multiplied by scale_fn(cycle or t).
    std::function<double(double)> scale_fn = {};
    ScaleMode scale_mode = ScaleMode::cycle;  ///< what scale_fn is called with
    double base_momentum = 0.8;               ///< momentum at the top of a cycle, in [0, 1]
    double max_momentum = 0.9;                ///< momentum at the ends of a cycle, in [0, 1]
  };

  /// Cycles between `base_lr` and `max_lr` with the default Options.
  Cyclic(double base_lr, double max_lr) : Cyclic(base_lr, max_lr, Options{}) {}
  /// Cycles between `base_lr` and `max_lr`; throws std::invalid_argument if a rate is negative
  /// or not finite, or an option is out of range.
  Cyclic(double base_lr, double max_lr, Options options)
      : m_base_lr(base_lr), m_max_lr(max_lr), m_options(std::move(options)) {
    const char* who = "schedule::Cyclic";
    detail::require_nonnegative(who, "base_lr", base_lr);
    detail::require_nonnegative(who, "max_lr", max_lr);
    if (m_options.step_size_up < 1) {
      detail::reject(who, "step_size_up", m_options.step_size_up, ">= 1");
    }
    const std::int64_t down = m_options.step_size_down.value_or(m_options.step_size_up);
    if (down < 0) detail::reject(who, "step_size_down", down, ">= 0");
    detail::require_nonnegative(who, "gamma", m_options.gamma);
    detail::require_at_most_one(who, "base_momentum", m_options.base_momentum);
    detail::require_at_most_one(who, "max_momentum", m_options.max_momentum);
    m_total = double(m_options.step_size_up) + double(down);
    m_ratio = double(m_options.step_size_up) / m_total;
  }

  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    const auto [h, scale] = height(t);
    return m_base_lr + (m_max_lr - m_base_lr) * h * scale;
  }
  /// The momentum at step `t` (0-based): max_momentum where the rate is base_lr, base_momentum
  /// where it is max_lr.
  double momentum(std::int64_t t) const {
    const auto [h, scale] = height(t);
    const double top = m_options.max_momentum, bottom = m_options.base_momentum;
    return top - (top - bottom) * h * scale;
  }

 private:
  struct Height {
    double h;      // 0 at the ends of a cycle, 1 at its top
    double scale;  // the cycle's height, 1 for triangular
  };
  Height height(std::int64_t t) const {
    const double cycle = std::floor(1 + double(t) / m_total);
    const double x = 1. + double(t) / m_total - cycle;
    const double h = x <= m_ratio ? x / m_ratio : (x - 1) / (m_ratio - 1);
    return {h, scale(cycle, t)};
  }
  double scale(double cycle, std::int64_t t) const {
    if (m_options.scale_fn) {
      return m_options.scale_fn(m_options.scale_mode == ScaleMode::cycle ? cycle : double(t));
    }
    switch (m_options.mode) {
      case Mode::triangular2: return 1 / std::pow(2.0, cycle - 1);
      case Mode::exp_range: return std::pow(m_options.gamma, double(t));
      case Mode::triangular: break;
    }
    return 1.0;
  }

  double m_base_lr, m_max_lr;
  Options m_options;
  double m_total = 0;  // steps in a cycle
  double m_ratio = 0;  // step_size_up / m_total
};

}  // namespace descent::schedule
