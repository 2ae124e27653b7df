#pragma once
// Schedules that hold the rate or multiply it by a fixed factor at given steps:
//
//   Constant        lr(t) = learning_rate
//   StepDecay       (PyTorch's StepLR):        lr(t) = learning_rate * gamma^floor(t / step_size)
//   MultiStepDecay  (PyTorch's MultiStepLR):   lr(t) = learning_rate * gamma^(milestones <= t)
//   Exponential     (PyTorch's ExponentialLR): lr(t) = learning_rate * gamma^t
//
// t is the 0-based step. PyTorch multiplies the rate once more at each such step; the powers
// here agree with its products to a few units in the last place.

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

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

/// lr(t) = learning_rate * gamma^k, k = the number of milestones <= t   (PyTorch's MultiStepLR).
/// A milestone given twice counts twice, as in PyTorch.
class MultiStepDecay {
 public:
  /// Multiplies the rate by `gamma` at each of `milestones` (steps, in any order); throws
  /// std::invalid_argument if learning_rate or gamma is negative or not finite, or a milestone
  /// is negative.
  MultiStepDecay(double learning_rate, std::vector<std::int64_t> milestones, double gamma = 0.1)
      : m_lr(learning_rate), m_milestones(std::move(milestones)), m_gamma(gamma) {
    const char* who = "schedule::MultiStepDecay";
    detail::require_nonnegative(who, "learning_rate", learning_rate);
    for (const std::int64_t m : m_milestones) {
      if (m < 0) detail::reject(who, "milestones", m, "steps >= 0");
    }
    detail::require_nonnegative(who, "gamma", gamma);
    std::sort(m_milestones.begin(), m_milestones.end());
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const {
    const auto passed = std::upper_bound(m_milestones.begin(), m_milestones.end(), t);
    return m_lr * std::pow(m_gamma, double(passed - m_milestones.begin()));
  }

 private:
  double m_lr;
  std::vector<std::int64_t> m_milestones;  // sorted
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

}  // namespace descent::schedule
