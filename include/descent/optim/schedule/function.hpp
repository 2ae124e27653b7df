#pragma once
// Schedules given by a function of the step, and Schedule, the type that holds any schedule:
//
//   Lambda          (PyTorch's LambdaLR):          lr(t) = learning_rate * factor(t)
//   Multiplicative  (PyTorch's MultiplicativeLR):  lr(0) = learning_rate,
//                                                  lr(t) = lr(t - 1) * factor(t)
//
// t is the 0-based step: lr(t) is the rate of step t + 1 (PyTorch's last_epoch after t calls of
// scheduler.step()).

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace descent::detail {

/// Throws InvalidArgument: `name` of `who` is an empty std::function.
[[noreturn]] inline void reject_empty(std::string_view who, std::string_view name) {
  throw InvalidArgument("descent::" + std::string(who) + ": " + std::string(name) +
                        " must be a function, got an empty one");
}

}  // namespace descent::detail

namespace descent::schedule {

/// Any schedule: the learning rate as a function of the 0-based step. Every schedule class but
/// ReduceOnPlateau converts to it, and so does a lambda; Sequence and Chained are made of them.
using Schedule = std::function<double(std::int64_t)>;

/// lr(t) = learning_rate * factor(t)   (PyTorch's LambdaLR, lr_lambda = factor).
class Lambda {
 public:
  /// Scales `learning_rate` by `factor` of the step; throws std::invalid_argument if
  /// learning_rate is negative or not finite, or factor is empty.
  Lambda(double learning_rate, Schedule factor) : m_lr(learning_rate), m_factor(std::move(factor)) {
    detail::require_nonnegative("schedule::Lambda", "learning_rate", learning_rate);
    if (!m_factor) detail::reject_empty("schedule::Lambda", "factor");
  }
  /// The learning rate at step `t` (0-based).
  double operator()(std::int64_t t) const { return m_lr * m_factor(t); }

 private:
  double m_lr;
  Schedule m_factor;
};

/// lr(0) = learning_rate, lr(t) = lr(t - 1) * factor(t)   (PyTorch's MultiplicativeLR,
/// lr_lambda = factor): the product of the factors of steps 1 ... t, multiplied in that order as
/// PyTorch does.
///
/// It remembers the last step it computed, so calls with t rising one by one cost one factor
/// each (a smaller t starts again from 0). That memory makes a call change the object: one
/// object must not be called from two threads at once (copies are independent).
class Multiplicative {
 public:
  /// Multiplies the rate by `factor(t)` at every step t >= 1; throws std::invalid_argument if
  /// learning_rate is negative or not finite, or factor is empty.
  Multiplicative(double learning_rate, Schedule factor)
      : m_lr(learning_rate), m_factor(std::move(factor)), m_last(learning_rate) {
    detail::require_nonnegative("schedule::Multiplicative", "learning_rate", learning_rate);
    if (!m_factor) detail::reject_empty("schedule::Multiplicative", "factor");
  }
  /// The learning rate at step `t` (0-based); learning_rate for t <= 0.
  double operator()(std::int64_t t) const {
    if (t < m_last_step) {
      m_last_step = 0;
      m_last = m_lr;
    }
    while (m_last_step < t) m_last *= m_factor(++m_last_step);
    return m_last;
  }

 private:
  double m_lr;
  Schedule m_factor;
  mutable std::int64_t m_last_step = 0;  // the step whose rate m_last is
  mutable double m_last;
};

}  // namespace descent::schedule
