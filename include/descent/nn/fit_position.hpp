#pragma once
// Where Trainer::fit() stands at the end of an epoch (FitPosition, what descent/io's checkpoints
// store), and the parts of going on from one that need no trainer: taking a position, checking
// that a trainer and its data can go on from it, and the shuffle generator's text form.
//
// fit() derives each epoch's order from the seed and the epoch alone (data::Batches), so a
// position needs no random state to resume exactly. It still stores the generator of the next
// epoch's shuffle and the last epoch's order, the fields checkpoint files have always held:
// the order lets fit() check that it resumes on the same training samples.

#include <descent/data/batches.hpp>
#include <descent/detail/format.hpp>
#include <descent/nn/callbacks.hpp>
#include <descent/nn/detail/trainer_checks.hpp>
#include <descent/nn/history.hpp>
#include <descent/optim/detail/options.hpp>
#include <descent/optim/optimizer.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <locale>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace descent::nn {

/// Where fit() stands at the end of an epoch: besides the network's weights and dropout stream,
/// everything it needs to go on exactly as if it had never stopped. Plain data; descent/io
/// writes it to checkpoint files (Trainer::set_epoch_hook, Trainer::resume_from).
template <class Scalar>
struct FitPosition {
  int epoch = 0;             ///< epochs finished
  std::int64_t step = 0;     ///< optimizer steps taken
  double learning_rate = 0;  ///< TrainingState::learning_rate
  bool stopped = false;      ///< a callback asked to stop
  /// The std::mt19937_64 that shuffles the next epoch, in its standard text form. Each epoch's
  /// order follows from the seed and the epoch, so resuming only checks that this is one.
  std::string shuffle_rng;
  std::vector<std::int64_t> order;  ///< the training samples in the last epoch's order
  std::string optimizer_options;    ///< Optimizer::options(), to check the resuming trainer's
  /// Trainer::run_options() of the run, to check the resuming trainer's; empty in checkpoints
  /// of format version 1, which did not store them (then they go unchecked).
  std::string trainer_options;
  StateDict<Scalar> optimizer;                 ///< moments and step counts (Optimizer::state_dict)
  std::vector<std::vector<double>> callbacks;  ///< each callback's save_state(), in order
  std::vector<EpochLog> history;               ///< one entry per epoch finished
  Buffer<Scalar> best_weights;  ///< TrainingState::save_weights's snapshot; may be empty
};

namespace detail {

/// A std::mt19937_64 in the standard's text form (classic locale, so the same everywhere).
inline std::string write_rng(const std::mt19937_64& rng) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << rng;
  return out.str();
}

/// The std::mt19937_64 of write_rng's text; any other text throws std::invalid_argument.
inline std::mt19937_64 read_rng(const std::string& text) {
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  std::mt19937_64 rng;
  if (!(in >> rng) || write_rng(rng) != text) {
    trainer_error("cannot resume: the position's shuffle_rng is not a std::mt19937_64 state");
  }
  return rng;
}

/// "beta1=0.9,..." without its learning_rate item, which a schedule may have changed.
inline std::string without_learning_rate(std::string_view options) {
  std::string rest;
  descent::detail::for_each_key_value(options, [&](std::string_view key, std::string_view value) {
    if (key == "learning_rate") return;
    if (!rest.empty()) rest += ',';
    rest.append(key).append("=").append(value);
  });
  return rest;
}

/// Trainer::resume_from's checks: throws std::invalid_argument unless a trainer with this
/// optimizer, these run options and callbacks can go on from `p`.
template <class Scalar>
void check_resumable(const FitPosition<Scalar>& p, const descent::Optimizer<Scalar>& optimizer,
                     const std::string& run_options,
                     const std::vector<std::shared_ptr<Callback>>& callbacks) {
  if (p.epoch < 0 || p.step < 0 || p.history.size() != std::size_t(p.epoch)) {
    trainer_error("cannot resume: the position has " + std::to_string(p.epoch) + " epochs, " +
                  std::to_string(p.step) + " steps and " + std::to_string(p.history.size()) +
                  " history entries");
  }
  if (const std::string why = learning_rate_fault<Scalar>(p.learning_rate); !why.empty()) {
    trainer_error("cannot resume: the position's learning rate " + why);
  }
  const std::string ours = without_learning_rate(optimizer.options());
  if (p.optimizer.optimizer != optimizer.name() ||
      without_learning_rate(p.optimizer_options) != ours) {
    trainer_error("cannot resume: the position was saved with optimizer " + p.optimizer.optimizer +
                  " (" + without_learning_rate(p.optimizer_options) + "), this trainer has " +
                  std::string(optimizer.name()) + " (" + ours + ")");
  }
  if (p.callbacks.size() != callbacks.size()) {
    trainer_error("cannot resume: the position was saved with " +
                  std::to_string(p.callbacks.size()) + " callbacks, this trainer has " +
                  std::to_string(callbacks.size()));
  }
  if (!p.trainer_options.empty() && p.trainer_options != run_options) {
    trainer_error("cannot resume: the position was saved by a trainer with " + p.trainer_options +
                  ", this trainer has " + run_options);
  }
  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    try {
      callbacks[i]->check_state(p.callbacks[i]);
    } catch (const std::invalid_argument& e) {
      trainer_error("cannot resume: the saved state of callback " + std::to_string(i + 1) + " of " +
                    std::to_string(callbacks.size()) + " does not fit it: " + e.what());
    }
  }
  read_rng(p.shuffle_rng);  // throws if it is not one
}

/// fit()'s checks when it takes `p` up, which resume_from could not make: the position trained on
/// the samples `train_idx` (in any order) and has best weights for a network of this size, if any.
template <class Scalar>
void check_fits_data(const FitPosition<Scalar>& p, std::span<const Eigen::Index> train_idx,
                     Eigen::Index parameter_count) {
  std::vector<Eigen::Index> saved(p.order.begin(), p.order.end());
  std::vector<Eigen::Index> ours(train_idx.begin(), train_idx.end());
  std::sort(saved.begin(), saved.end());
  std::sort(ours.begin(), ours.end());
  if (saved != ours) {
    trainer_error("cannot resume: the position's " + std::to_string(p.order.size()) +
                  " training samples are not this data's " + std::to_string(ours.size()) +
                  " (other data, seed or validation split?)");
  }
  if (p.best_weights.size() != 0 && p.best_weights.size() != parameter_count) {
    trainer_error("cannot resume: the position's best weights are " +
                  std::to_string(p.best_weights.size()) + " values, the network has " +
                  std::to_string(parameter_count));
  }
}

/// Everything fit()'s state at the end of an epoch is made of, for take_position.
template <class Scalar>
struct FitState {
  const TrainingState& state;                               ///< epoch, step, rate, stop
  std::uint64_t seed;                                       ///< Trainer::Options::seed
  std::span<const Eigen::Index> order;                      ///< the epoch's training order
  const descent::Optimizer<Scalar>& optimizer;              ///< its options and state
  const std::vector<std::shared_ptr<Callback>>& callbacks;  ///< their save_state()
  const History& history;                                   ///< the epochs so far
  const Buffer<Scalar>& best_weights;                       ///< save_weights's snapshot
};

/// The position of `s`, as the epoch hook gets it; run_options is Trainer::run_options().
template <class Scalar>
FitPosition<Scalar> take_position(const FitState<Scalar>& s, std::string run_options) {
  FitPosition<Scalar> p;
  p.epoch = s.state.epoch;
  p.step = s.state.step;
  p.learning_rate = s.state.learning_rate;
  p.stopped = s.state.stop;
  // Epoch e + 1 (1-based) is data::Batches's epoch e.
  p.shuffle_rng = write_rng(data::detail::epoch_rng(s.seed, std::uint64_t(s.state.epoch)));
  p.order.assign(s.order.begin(), s.order.end());
  p.optimizer_options = s.optimizer.options();
  p.trainer_options = std::move(run_options);
  p.optimizer = s.optimizer.state_dict();
  for (const auto& c : s.callbacks) p.callbacks.push_back(c->save_state());
  p.history = s.history.epochs;
  p.best_weights = s.best_weights;
  return p;
}

}  // namespace detail
}  // namespace descent::nn
