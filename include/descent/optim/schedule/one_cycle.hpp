#pragma once
// The 1cycle policy (Smith & Topin, "Super-Convergence", 2018), PyTorch's OneCycleLR. Over
// total_steps steps the rate goes in phases between three levels,
//   initial_lr = max_lr / div_factor,  min_lr = initial_lr / final_div_factor,
// with p = pct_start * total_steps, each phase ending at step e:
//
//   two phases (default):  initial_lr -> max_lr (e = p - 1),  max_lr -> min_lr (e = total - 1)
//   three_phase:           initial_lr -> max_lr (e = p - 1),  max_lr -> initial_lr
//                          (e = 2p - 2),  initial_lr -> min_lr (e = total - 1)
//
// and the momentum opposite: max_momentum -> base_momentum -> max_momentum (-> max_momentum).
// Within a phase from step s to e, with f = (t - s) / (e - s) (s is the previous phase's e,
// 0 for the first), a level moves from a to b as
//   cos:     b + (a - b) / 2 * (cos(pi * f) + 1)
//   linear:  (b - a) * f + a
// t is the 0-based step, 0 <= t < total_steps.

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>

namespace descent::schedule {

/// The 1cycle policy: a warmup to max_lr and an annealing far below the start, with the
/// momentum cycled the other way (PyTorch's OneCycleLR; the formula is in
/// schedule/one_cycle.hpp).
///
/// momentum(t) is PyTorch's cycled momentum (cycle_momentum=True): SGD's momentum, or Adam's
/// beta1, at step t. A Trainer does not set it (its optimizer's momentum is fixed); a loop of
/// one's own builds the optimizer for each step from its options, which is cheap
/// (docs/schedules.md).
class OneCycle {
 public:
  /// How a level moves to the next within a phase (PyTorch's anneal_strategy).
  enum class Anneal {
    cos,     ///< half a cosine
    linear,  ///< a straight line
  };
  /// The shape of the cycle; the defaults are those of torch.optim.lr_scheduler.OneCycleLR.
  struct Options {
    double pct_start = 0.3;         ///< share of the steps spent warming up, in [0, 1]
    Anneal anneal = Anneal::cos;    ///< cos or linear
    double base_momentum = 0.85;    ///< momentum at max_lr, in [0, 1]
    double max_momentum = 0.95;     ///< momentum at the start and the end, in [0, 1]
    double div_factor = 25;         ///< initial_lr = max_lr / div_factor, > 0
    double final_div_factor = 1e4;  ///< min_lr = initial_lr / final_div_factor, > 0
    bool three_phase = false;       ///< back down to initial_lr before annealing to min_lr
  };

  /// A cycle of `total_steps` steps peaking at `max_lr`, with the default Options.
  OneCycle(double max_lr, std::int64_t total_steps) : OneCycle(max_lr, total_steps, Options{}) {}
  /// A cycle of `total_steps` steps peaking at `max_lr`; throws std::invalid_argument if max_lr
  /// is negative or not finite, total_steps < 1, an option is out of range, or pct_start leaves
  /// a phase without steps (PyTorch divides by zero there).
  OneCycle(double max_lr, std::int64_t total_steps, const Options& options)
      : m_total(total_steps), m_anneal(options.anneal) {
    const char* who = "schedule::OneCycle";
    detail::require_nonnegative(who, "max_lr", max_lr);
    if (total_steps < 1) detail::reject(who, "total_steps", total_steps, ">= 1");
    detail::require_at_most_one(who, "pct_start", options.pct_start);
    detail::require_at_most_one(who, "base_momentum", options.base_momentum);
    detail::require_at_most_one(who, "max_momentum", options.max_momentum);
    detail::require_positive(who, "div_factor", options.div_factor);
    detail::require_positive(who, "final_div_factor", options.final_div_factor);

    const double initial_lr = max_lr / options.div_factor;
    const double min_lr = initial_lr / options.final_div_factor;
    const double low = options.base_momentum, high = options.max_momentum;
    const double total = double(total_steps);
    const double warm_end = options.pct_start * total - 1;
    if (options.three_phase) {
      m_phases[0] = {warm_end, initial_lr, max_lr, high, low};
      m_phases[1] = {2 * options.pct_start * total - 2, max_lr, initial_lr, low, high};
      m_phases[2] = {total - 1, initial_lr, min_lr, high, high};
      m_count = 3;
    } else {
      m_phases[0] = {warm_end, initial_lr, max_lr, high, low};
      m_phases[1] = {total - 1, max_lr, min_lr, low, high};
      m_count = 2;
    }
    double start = 0;
    for (std::size_t i = 0; i < m_count; ++i) {
      if (!(m_phases[i].end > start)) {
        detail::reject(who, "pct_start", options.pct_start,
                       "such that phase " + std::to_string(i + 1) + " of total_steps = " +
                           std::to_string(total_steps) + " lasts more than 0 steps");
      }
      start = m_phases[i].end;
    }
  }

  /// The learning rate at step `t`; throws descent::OutOfRange unless 0 <= t < total_steps.
  double operator()(std::int64_t t) const { return at(t, &Phase::lr_from, &Phase::lr_to); }
  /// The momentum (or beta1) at step `t`; throws descent::OutOfRange unless
  /// 0 <= t < total_steps.
  double momentum(std::int64_t t) const {
    return at(t, &Phase::momentum_from, &Phase::momentum_to);
  }
  /// The number of steps the cycle lasts.
  std::int64_t total_steps() const { return m_total; }

 private:
  struct Phase {
    double end = 0;  // the step the phase ends at (not a whole number in general)
    double lr_from = 0, lr_to = 0, momentum_from = 0, momentum_to = 0;
  };

  double at(std::int64_t t, double Phase::*from, double Phase::*to) const {
    if (t < 0 || t >= m_total) {
      throw OutOfRange(
          "descent::schedule::OneCycle: step " + std::to_string(t) +
          " is outside the cycle, steps 0 to total_steps - 1 = " + std::to_string(m_total - 1));
    }
    const double step = double(t);
    double start = 0;
    for (std::size_t i = 0; i < m_count; ++i) {
      const Phase& phase = m_phases[i];
      if (step <= phase.end || i + 1 == m_count) {
        return anneal(phase.*from, phase.*to, (step - start) / (phase.end - start));
      }
      start = phase.end;
    }
    return 0;  // not reached: the last phase always returns
  }
  double anneal(double a, double b, double f) const {
    if (m_anneal == Anneal::linear) return (b - a) * f + a;
    return b + (a - b) / 2.0 * (std::cos(std::numbers::pi * f) + 1);
  }

  std::int64_t m_total;
  Anneal m_anneal;
  std::array<Phase, 3> m_phases{};
  std::size_t m_count = 0;
};

}  // namespace descent::schedule
