#pragma once
// Callbacks: hooks into Trainer::fit() (Keras's Callback), and the built-in ones: EarlyStopping,
// LearningRateSchedule, ReduceLearningRateOnPlateau. A callback's save_state()/load_state() carry
// what it remembers through a checkpoint.

#include <descent/detail/format.hpp>
#include <descent/error.hpp>
#include <descent/nn/history.hpp>
#include <descent/optim/schedule.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace descent::nn {

/// What callbacks see and may change while fit() runs.
struct TrainingState {
  int epoch = 0;                   ///< 1-based, the epoch running or just finished
  std::int64_t step = 0;           ///< optimizer steps taken so far
  double learning_rate = 0;        ///< set it to change the rate from the next step on
  const EpochLog* last = nullptr;  ///< the epoch just finished (on_epoch_end)
  bool stop = false;               ///< set to end training after this epoch
  /// fit() has validation data: callbacks that watch a loss watch val_loss (see monitored_loss).
  bool validating = false;
  /// Snapshots the network's weights (EarlyStopping calls it at the best epoch).
  std::function<void()> save_weights, restore_weights;  ///< puts the last snapshot back, if any
};

/// What callbacks that watch a loss watch at the end of an epoch: val_loss when fit() has
/// validation data, else the training loss. A NaN stays NaN (it never counts as an improvement):
/// the callback does not quietly switch to the other loss.
inline double monitored_loss(const TrainingState& state) {
  return state.validating ? state.last->val_loss : state.last->loss;
}

/// Hooks into fit(); override the ones you need.
class Callback {
 public:
  virtual ~Callback() = default;
  /// Called once when fit() starts, before the first epoch (and before load_state on resume).
  virtual void on_train_begin(TrainingState&) {}
  /// Called at the start of every epoch, before its batches are shuffled.
  virtual void on_epoch_begin(TrainingState&) {}
  /// Called before every batch; a learning rate set here is used for that batch's step.
  virtual void on_batch_begin(TrainingState&) {}
  /// Called after every epoch, with TrainingState::last filled in.
  virtual void on_epoch_end(TrainingState&) {}
  /// Called once when fit() ends, however it ended (except by an exception).
  virtual void on_train_end(TrainingState&) {}

  /// What the callback remembers from epoch to epoch, as numbers, for checkpoints. When fit()
  /// resumes, load_state gets it back right after on_train_begin. Callbacks that remember
  /// nothing keep these defaults.
  virtual std::vector<double> save_state() const { return {}; }
  /// Restores what save_state() returned; throws std::invalid_argument if it does not fit.
  virtual void load_state(const std::vector<double>& state) {
    if (!state.empty()) {
      throw InvalidArgument("descent::nn::Callback: this callback keeps no state, but " +
                            std::to_string(state.size()) + " values were given to load");
    }
  }
  /// Throws std::invalid_argument unless load_state would take `state`, and leaves the callback
  /// as it was: Trainer::resume_from checks a checkpoint's states with it before anything
  /// changes. The default loads `state`, then puts back what save_state() returned before.
  virtual void check_state(const std::vector<double>& state) {
    const std::vector<double> kept = save_state();
    load_state(state);
    load_state(kept);
  }
};

/// Stops when the monitored value (val_loss when there is validation data, else loss) has not
/// improved by more than min_delta for more than `patience` epochs in a row (as PyTorch's
/// ReduceLROnPlateau counts; Keras's EarlyStopping stops one epoch sooner); optionally restores
/// the best weights. Each fit() starts afresh.
class EarlyStopping : public Callback {
 public:
  /// When to stop; the defaults stop after 3 epochs without improvement.
  struct Options {
    int patience = 3;          ///< epochs without improvement tolerated, >= 0
    double min_delta = 0;      ///< smallest decrease that counts as an improvement, >= 0
    bool restore_best = true;  ///< at the end, put back the weights of the best epoch
  };
  /// Throws std::invalid_argument if patience or min_delta is negative.
  explicit EarlyStopping(Options options) : m_options(options) {
    if (options.patience < 0)
      throw InvalidArgument("descent::nn::EarlyStopping: patience must be >= 0");
    if (!(options.min_delta >= 0))
      throw InvalidArgument("descent::nn::EarlyStopping: min_delta must be >= 0");
  }
  EarlyStopping() : EarlyStopping(Options{}) {}

  /// Forgets the best value of any earlier fit().
  void on_train_begin(TrainingState&) override {
    m_best = std::numeric_limits<double>::infinity();
    m_best_epoch = 0;
    m_wait = 0;
  }

  /// Compares the epoch's monitored value with the best: saves the weights when it improved
  /// (restore_best), sets TrainingState::stop when patience has run out.
  void on_epoch_end(TrainingState& state) override {
    const double value = monitored_loss(state);
    if (value < m_best - m_options.min_delta) {
      m_best = value;
      m_best_epoch = state.epoch;
      m_wait = 0;
      if (m_options.restore_best) state.save_weights();
    } else if (++m_wait > m_options.patience) {
      state.stop = true;
    }
  }
  /// Restores the best weights, if restore_best and an epoch improved.
  void on_train_end(TrainingState& state) override {
    if (m_options.restore_best && m_best_epoch > 0) state.restore_weights();
  }
  /// The 1-based epoch with the best monitored value; 0 before any.
  int best_epoch() const { return m_best_epoch; }
  /// The best monitored value so far (+inf before any epoch).
  double best() const { return m_best; }

  std::vector<double> save_state() const override {
    return {m_best, double(m_best_epoch), double(m_wait)};
  }
  /// Restores {best, best epoch, epochs waited}; throws std::invalid_argument otherwise.
  void load_state(const std::vector<double>& state) override {
    if (state.size() != 3 || std::isnan(state[0]) || !whole(state[1]) || !whole(state[2])) {
      throw InvalidArgument(
          "descent::nn::EarlyStopping: a saved state is 3 numbers "
          "(best, best epoch >= 0, epochs waited >= 0)");
    }
    m_best = state[0];
    m_best_epoch = int(state[1]);
    m_wait = int(state[2]);
  }

 private:
  static bool whole(double x) { return x >= 0 && x <= 1e9 && x == std::floor(x); }

  Options m_options;
  double m_best = std::numeric_limits<double>::infinity();
  int m_best_epoch = 0;
  int m_wait = 0;
};

/// Sets the learning rate before every step from a function of the step count (any of
/// descent::schedule's, e.g. WarmupCosine) or, with per_epoch, of the 0-based epoch.
class LearningRateSchedule : public Callback {
 public:
  /// Calls `schedule` with the step count (or, with per_epoch, the 0-based epoch).
  explicit LearningRateSchedule(std::function<double(std::int64_t)> schedule,
                                bool per_epoch = false)
      : m_schedule(std::move(schedule)), m_per_epoch(per_epoch) {}
  /// With per_epoch, sets the learning rate for the epoch.
  void on_epoch_begin(TrainingState& state) override {
    if (m_per_epoch) state.learning_rate = m_schedule(state.epoch - 1);
  }
  /// Without per_epoch, sets the learning rate for the step.
  void on_batch_begin(TrainingState& state) override {
    if (!m_per_epoch) state.learning_rate = m_schedule(state.step);
  }

 private:
  std::function<double(std::int64_t)> m_schedule;
  bool m_per_epoch;
};

/// Cuts the learning rate when the monitored loss (val_loss if any, else loss) plateaus.
class ReduceLearningRateOnPlateau : public Callback {
 public:
  /// Cuts the rate as schedule::ReduceOnPlateau with these options does.
  explicit ReduceLearningRateOnPlateau(schedule::ReduceOnPlateau::Options options = {})
      : m_options(options) {}
  /// Starts a plateau tracker from the current learning rate.
  void on_train_begin(TrainingState& state) override {
    m_plateau.emplace(state.learning_rate, m_options);
  }
  /// Feeds the epoch's monitored loss to the tracker and applies the rate it returns.
  void on_epoch_end(TrainingState& state) override {
    const double value = monitored_loss(state);
    state.learning_rate = m_plateau->update(value);
  }

  std::vector<double> save_state() const override {
    if (!m_plateau) return {};
    const auto p = m_plateau->position();
    return {p.learning_rate, p.best, double(p.bad), double(p.cooldown_left)};
  }
  /// Restores {learning rate, best, bad epochs, cooldown left}, or the state before any fit()
  /// from {}; throws std::invalid_argument if the counts are not whole numbers >= 0 or the
  /// learning rate is not a finite number >= 0.
  void load_state(const std::vector<double>& state) override {
    if (state.empty()) return m_plateau.reset();
    const auto count = [](double x) { return x >= 0 && x <= 1e9 && x == std::floor(x); };
    if (state.size() != 4 || !count(state[2]) || !count(state[3])) {
      throw InvalidArgument(
          "descent::nn::ReduceLearningRateOnPlateau: a saved state is 4 "
          "numbers (learning rate, best, bad epochs, cooldown left)");
    }
    if (!m_plateau) m_plateau.emplace(state[0], m_options);
    m_plateau->restore({state[0], state[1], int(state[2]), int(state[3])});
  }

 private:
  schedule::ReduceOnPlateau::Options m_options;
  std::optional<schedule::ReduceOnPlateau> m_plateau;
};

}  // namespace descent::nn
