#pragma once
// ReduceOnPlateau (PyTorch's ReduceLROnPlateau): a rate that is cut when a metric stops
// improving, fed one evaluation at a time. After each evaluation m:
//
//   improved = m < best * (1 - threshold)   (mode min, threshold_mode rel)
//              m < best - threshold         (mode min, threshold_mode abs)
//              m > best * (1 + threshold)   (mode max, threshold_mode rel)
//              m > best + threshold         (mode max, threshold_mode abs)
//   if improved: best = m, bad = 0;  else bad += 1
//   if cooling down: cooldown_left -= 1, bad = 0
//   if bad > patience: new = max(lr * factor, min_lr); lr = new if lr - new > eps;
//                      cooldown_left = cooldown, bad = 0

#include <descent/error.hpp>
#include <descent/optim/detail/options.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace descent::schedule {

/// Cuts the learning rate by `factor` when a metric has stopped improving for more than
/// `patience` evaluations (PyTorch's ReduceLROnPlateau; the rule is in schedule/plateau.hpp).
/// After a cut it waits `cooldown` evaluations; it never goes below min_lr, and skips a cut
/// smaller than eps.
class ReduceOnPlateau {
 public:
  /// Whether the metric improves by going down (min, e.g. a loss) or up (max, e.g. an accuracy).
  enum class Mode { min, max };
  /// Whether threshold is relative to the best metric (rel) or a difference (abs).
  enum class ThresholdMode { rel, abs };
  /// The settings; the defaults are those of torch.optim.lr_scheduler.ReduceLROnPlateau.
  struct Options {
    Mode mode = Mode::min;    ///< min: lower is better; max: higher is better
    double factor = 0.1;      ///< the rate is multiplied by this at a cut, in [0, 1)
    int patience = 10;        ///< evaluations without improvement tolerated before a cut
    double threshold = 1e-4;  ///< change that counts as an improvement, >= 0
    int cooldown = 0;         ///< evaluations to wait after a cut before counting again
    double min_lr = 0;        ///< the rate is never cut below this
    /// rel: improving means beating best by threshold * |best|; abs: by threshold.
    ThresholdMode threshold_mode = ThresholdMode::rel;
    double eps = 1e-8;  ///< a cut that would change the rate by eps or less is skipped, >= 0
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
    detail::require_nonnegative(who, "eps", options.eps);
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
      if (m_lr - reduced > m_options.eps) m_lr = reduced;
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
    const double t = m_options.threshold;
    const bool rel = m_options.threshold_mode == ThresholdMode::rel;
    if (m_options.mode == Mode::min) return rel ? metric < m_best * (1 - t) : metric < m_best - t;
    return rel ? metric > m_best * (t + 1) : metric > m_best + t;
  }

  double m_lr;
  Options m_options;
  double m_best = m_options.mode == Mode::min ? std::numeric_limits<double>::infinity()
                                              : -std::numeric_limits<double>::infinity();
  int m_bad = 0;
  int m_cooldown_left = 0;
};

}  // namespace descent::schedule
