#pragma once
// Schedules made of schedules:
//
//   Sequence  (PyTorch's SequentialLR):     lr(t) = schedules[i](t - milestones[i - 1]) where
//             i = the number of milestones <= t (milestones[-1] = 0): each schedule starts at
//             its own step 0 at its milestone
//   Chained   (PyTorch's ChainedScheduler): lr(t) = learning_rate * factors[0](t) * factors[1](t)
//             * ..., the factors being schedules made with learning rate 1
//
// t is the 0-based step.

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>
#include <descent/optim/schedule/function.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace descent::schedule {

/// One schedule after another, switching at the milestones; each restarts its step count at 0
/// where it takes over (PyTorch's SequentialLR):
///   lr(t) = schedules[i](t - milestones[i - 1]), i = the number of milestones <= t.
/// PyTorch's schedulers all start from the optimizer's learning rate: give each schedule here
/// the same learning_rate. (PyTorch differs in one case: a MultiplicativeLR that takes over
/// goes on from the previous scheduler's last rate.)
class Sequence {
 public:
  /// Runs `schedules[0]` until `milestones[0]`, then `schedules[1]`, ...; throws
  /// std::invalid_argument unless there is one milestone fewer than schedules, no schedule is
  /// empty and the milestones are >= 1 and increasing.
  Sequence(std::vector<Schedule> schedules, std::vector<std::int64_t> milestones)
      : m_schedules(std::move(schedules)), m_milestones(std::move(milestones)) {
    const char* who = "schedule::Sequence";
    if (m_schedules.empty()) {
      throw InvalidArgument(
          "descent::schedule::Sequence: schedules must hold one or more, got none");
    }
    for (const auto& s : m_schedules) {
      if (!s) detail::reject_empty(who, "schedules");
    }
    if (m_milestones.size() + 1 != m_schedules.size()) {
      throw InvalidArgument("descent::schedule::Sequence: milestones must be one fewer than the " +
                            std::to_string(m_schedules.size()) + " schedules, got " +
                            std::to_string(m_milestones.size()));
    }
    std::int64_t before = 0;
    for (const std::int64_t m : m_milestones) {
      if (m <= before) {
        detail::reject(who, "milestones", m,
                       "increasing steps >= 1 (this one follows " + std::to_string(before) + ")");
      }
      before = m;
    }
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    const auto next = std::upper_bound(m_milestones.begin(), m_milestones.end(), t);
    const auto i = std::size_t(next - m_milestones.begin());
    const std::int64_t start = i == 0 ? 0 : m_milestones[i - 1];
    return m_schedules[i](t - start);
  }

 private:
  std::vector<Schedule> m_schedules;
  std::vector<std::int64_t> m_milestones;
};

/// The product of schedules (PyTorch's ChainedScheduler):
///   lr(t) = learning_rate * factors[0](t) * factors[1](t) * ...
/// Make each factor with learning rate 1, e.g. Chained(0.1, {ConstantFactor(1, 0.5, 4),
/// Exponential(1, 0.9)}). PyTorch chains schedulers by letting each multiply the rate the
/// others left; that is this product for the multiplicative ones (Multiplicative, StepDecay,
/// MultiStepDecay, ConstantFactor, LinearFactor, Exponential, Polynomial, and CosineAnnealing
/// with min_lr 0 before t_max), which are the ones ChainedScheduler is meant for.
class Chained {
 public:
  /// Multiplies `learning_rate` by every factor; throws std::invalid_argument if learning_rate
  /// is negative or not finite, there is no factor or one is empty.
  Chained(double learning_rate, std::vector<Schedule> factors)
      : m_lr(learning_rate), m_factors(std::move(factors)) {
    const char* who = "schedule::Chained";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    if (m_factors.empty()) {
      throw InvalidArgument("descent::schedule::Chained: factors must hold one or more, got none");
    }
    for (const auto& f : m_factors) {
      if (!f) detail::reject_empty(who, "factors");
    }
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    double lr = m_lr;
    for (const auto& f : m_factors) lr *= f(t);
    return lr;
  }

 private:
  double m_lr;
  std::vector<Schedule> m_factors;
};

}  // namespace descent::schedule
