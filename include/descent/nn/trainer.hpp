#pragma once
// Trainer: fits a Sequential network to a dataset with any optimizer, Keras-style.
//
//   descent::nn::Trainer<float> trainer({.optimizer = "adam", .learning_rate = 1e-3,
//                                        .batch_size = 64, .epochs = 10});
//   trainer.add_callback(std::make_shared<descent::nn::EarlyStopping>(...));
//   auto history = trainer.fit(net, train, &validation);
//   auto [loss, accuracy] = trainer.evaluate(net, test);
//
// batch_size = the dataset's size is full-batch gradient descent; 1 is pure SGD. The validation
// split and the mini-batches are data/'s (validation_split_indices, Batches, gather), seeded by
// `seed`: a run is reproducible, and a loop over data::train_validation_split and data::Batches
// with the same seed sees the same samples in the same order. After the first step the loop
// allocates nothing: batches are gathered into buffers sized once.
//
// Around the fit loop: callbacks.hpp (hooks), history.hpp (metrics, CSV), progress.hpp (the bar
// and lines), fit_position.hpp (where fit() stands, for checkpoints and resuming).

#include <descent/data/batches.hpp>
#include <descent/data/validation_split.hpp>
#include <descent/error.hpp>
#include <descent/nn/callbacks.hpp>
#include <descent/nn/detail/terminal.hpp>
#include <descent/nn/detail/trainer_checks.hpp>
#include <descent/nn/fit_position.hpp>
#include <descent/nn/history.hpp>
#include <descent/nn/loss.hpp>
#include <descent/nn/progress.hpp>
#include <descent/nn/sequential.hpp>
#include <descent/optim/detail/options.hpp>
#include <descent/optim/optimizer.hpp>
#include <descent/optim/schedule.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace descent::nn {

/// Fits networks. Datasets are any type with members x (features x n) and y (targets x n; class
/// indices as a 1 x n row for cross-entropy), such as descent::data::Dataset.
template <class Scalar>
class Trainer {
 public:
  /// The matrices fit() and predict() take: features x samples, outputs x samples.
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  /// How fit() reports progress: automatic (a bar on a terminal, else lines), a bar, a line
  /// per epoch, or nothing.
  enum class Progress { automatic, bar, lines, none };
  /// What fit() does when a batch's loss or gradient is NaN or infinite: stop throws a
  /// std::runtime_error naming the epoch, batch and step; skip drops that batch's step, leaving the
  /// weights and the optimizer state exactly as they were, and counts it in EpochLog::skipped.
  enum class NonFinite { stop, skip };

  /// How to train; fit() uses them all, the constructor checks them.
  struct Options {
    std::string optimizer = "adam";      ///< a make_optimizer() name
    double learning_rate = 1e-3;         ///< the starting rate (callbacks may change it), >= 0
    std::string optimizer_options = {};  ///< "beta2=0.99,...": every option but learning_rate
    Loss loss = Loss::cross_entropy;     ///< what fit() minimizes
    Eigen::Index batch_size = 64;  ///< samples per step (capped at the training set size), >= 1
    int epochs = 10;               ///< epochs in total, >= 0
    std::uint64_t seed = 0;        ///< seeds the shuffles and the validation split
    double validation_split = 0;   ///< used when fit() gets no validation set
    Progress progress = Progress::automatic;  ///< a bar on a terminal, else a line per epoch
    int threads = 1;  ///< threads for the layers' matrix products (results are reproducible
                      ///< for a given thread count: the split changes float summation order)
    NonFinite on_non_finite = NonFinite::stop;  ///< NaN or infinite batches: stop or skip
  };

  /// Checks the options and the optimizer name; throws std::invalid_argument if one is bad.
  explicit Trainer(Options options) : m_options(std::move(options)) {
    const Options& o = m_options;
    if (o.batch_size < 1) fail("batch_size must be >= 1, got " + std::to_string(o.batch_size));
    if (o.epochs < 0) fail("epochs must be >= 0, got " + std::to_string(o.epochs));
    if (!(o.validation_split >= 0 && o.validation_split < 1)) {
      fail("validation_split must be in [0, 1), got " + number(o.validation_split));
    }
    if (const std::string why = learning_rate_fault(o.learning_rate); !why.empty()) {
      fail("learning_rate " + why);
    }
    if (o.threads < 1) fail("threads must be >= 1, got " + std::to_string(o.threads));
    make_optimizer();  // checks the name and options now, not after loading data
  }

  /// The options given to the constructor.
  const Options& options() const { return m_options; }

  /// The options that shape a run besides the optimizer's, as "key=value,...": a checkpoint
  /// keeps them, and resuming with other ones is refused. epochs may grow; threads, progress and
  /// callbacks' options are not in it.
  std::string run_options() const {
    const Options& o = m_options;
    return "loss=" + std::string(to_string(o.loss)) +
           ",batch_size=" + std::to_string(o.batch_size) + ",seed=" + std::to_string(o.seed) +
           ",validation_split=" + number(o.validation_split) +
           ",on_non_finite=" + (o.on_non_finite == NonFinite::stop ? "stop" : "skip");
  }

  /// Adds a callback; they run in the order added. Returns *this.
  Trainer& add_callback(std::shared_ptr<Callback> callback) {
    m_callbacks.push_back(std::move(callback));
    return *this;
  }

  /// Called at the end of every epoch, after the callbacks, with the network and where fit()
  /// stands (descent::io::save_every_epoch writes it to a checkpoint). An exception from it ends
  /// fit().
  using EpochHook = std::function<void(const Sequential<Scalar>&, const FitPosition<Scalar>&)>;
  /// Sets the hook called at the end of every epoch (replacing any earlier one); returns *this.
  Trainer& set_epoch_hook(EpochHook hook) {
    m_epoch_hook = std::move(hook);
    return *this;
  }

  /// Makes the next fit() go on from `position` (from an epoch hook, perhaps in another process)
  /// until Options::epochs in total, as if it had never stopped. The network must hold the
  /// weights and dropout stream saved with the position; the trainer needs the same options and
  /// callbacks, the data and seed the same training samples. What can be checked now is (the
  /// optimizer and its options, run_options(), the callbacks and their saved states), the rest
  /// when fit() starts; both throw std::invalid_argument and change nothing. The next fit() that
  /// starts training uses the position up.
  Trainer& resume_from(FitPosition<Scalar> position) {
    detail::check_resumable(position, make_optimizer(), run_options(), m_callbacks);
    m_resume = std::move(position);
    return *this;
  }

  /// Trains `net` on `train`; validates on `validation` (or on a validation_split of train) after
  /// every epoch.
  template <class Data>
  History fit(Sequential<Scalar>& net, const Data& train, const Data* validation = nullptr) {
    if (!validation) return fit_data(net, DataRef{train.x, train.y}, nullptr);
    const DataRef v{validation->x, validation->y};
    return fit_data(net, DataRef{train.x, train.y}, &v);
  }

  /// Mean loss (and accuracy for classification) of `net` on `data`, in evaluation mode.
  template <class Data>
  Evaluation evaluate(Sequential<Scalar>& net, const Data& data) const {
    return evaluate_data(net, DataRef{data.x, data.y});
  }

  /// The network's outputs for x (inputs x n), in evaluation mode, batch by batch.
  Matrix predict(Sequential<Scalar>& net, const Matrix& x) const {
    Matrix out(net.outputs(), x.cols());
    const bool was_training = net.training();
    net.set_training(false);
    const Eigen::Index batch = std::max<Eigen::Index>(m_options.batch_size, 256);
    for (Eigen::Index first = 0; first < x.cols(); first += batch) {
      const Eigen::Index size = std::min(batch, x.cols() - first);
      out.middleCols(first, size) = net.forward(x.middleCols(first, size));
    }
    net.set_training(was_training);
    return out;
  }

 private:
  using Clock = std::chrono::steady_clock;

  /// A dataset's x and y as the training loop reads them: bound to the caller's matrices (or
  /// blocks and maps of them), not copied. fit() and evaluate() of any Data type come down to
  /// these, so the loop is one non-template function the compiled mode builds once.
  struct DataRef {
    Eigen::Ref<const Matrix> x, y;
  };

  // Defined in nn/detail/trainer_loop.hpp.
  History fit_data(Sequential<Scalar>& net, const DataRef& train, const DataRef* validation);
  Evaluation evaluate_data(Sequential<Scalar>& net, const DataRef& data) const;

  [[noreturn]] static void fail(const std::string& what) { detail::trainer_error(what); }
  static std::string number(double v) { return descent::detail::format_number(v); }
  static std::string learning_rate_fault(double rate) {
    return detail::learning_rate_fault<Scalar>(rate);
  }

  /// Calls `hook` on every callback in order. After each, a learning rate it set must be one the
  /// optimizer can take: the error names the callback, the hook, the epoch and the step.
  void run_callbacks(void (Callback::*hook)(TrainingState&), TrainingState& state) const {
    for (std::size_t i = 0; i < m_callbacks.size(); ++i) {
      ((*m_callbacks[i]).*hook)(state);
      if (const std::string why = learning_rate_fault(state.learning_rate); !why.empty()) {
        fail("callback " + std::to_string(i + 1) + " of " + std::to_string(m_callbacks.size()) +
             " (" + hook_name(hook) + ", epoch " + std::to_string(state.epoch) + ", step " +
             std::to_string(state.step) + ") set a learning rate that " + why);
      }
    }
  }
  static std::string hook_name(void (Callback::*hook)(TrainingState&)) {
    return hook == &Callback::on_train_begin   ? "on_train_begin"
           : hook == &Callback::on_epoch_begin ? "on_epoch_begin"
           : hook == &Callback::on_batch_begin ? "on_batch_begin"
                                               : "on_epoch_end";
  }

  /// Puts fit()'s locals where `p` says, after checking what resume_from could not (the data,
  /// the network's size); throws before changing anything but the optimizer, which is fit()'s own.
  void restore(const FitPosition<Scalar>& p, const Sequential<Scalar>& net,
               std::span<const Eigen::Index> train_idx, descent::Optimizer<Scalar>& optimizer,
               TrainingState& state, History& history, Buffer<Scalar>& best_weights) const {
    detail::check_fits_data(p, train_idx, net.parameter_count());
    optimizer.load_state_dict(p.optimizer);  // checks every key and size first
    optimizer.set_learning_rate(static_cast<Scalar>(p.learning_rate));
    state.epoch = p.epoch;
    state.step = p.step;
    state.learning_rate = p.learning_rate;
    state.stop = p.stopped;
    history.epochs = p.history;
    state.last = history.epochs.empty() ? nullptr : &history.epochs.back();
    best_weights = p.best_weights;
  }

  descent::Optimizer<Scalar> make_optimizer() const {
    const auto refuse_learning_rate = [](std::string_view key, std::string_view) {
      if (key == "learning_rate") {
        fail("set the learning rate with Options::learning_rate, not in optimizer_options");
      }
    };
    descent::detail::for_each_key_value(m_options.optimizer_options, refuse_learning_rate);
    auto opt = descent::make_optimizer<Scalar>(m_options.optimizer, m_options.optimizer_options);
    opt.set_learning_rate(static_cast<Scalar>(m_options.learning_rate));
    return opt;
  }

  static double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  template <class X, class Y>
  void check_data(const Sequential<Scalar>& net, const X& x, const Y& y, const char* what) const {
    detail::check_data(net, m_options.loss, x, y, what);
  }

  /// Adds the correct predictions of a batch: argmax for cross-entropy, z > 0 for binary.
  template <class Out, class Target>
  void accumulate_accuracy(const Out& out, const Target& y, double& correct,
                           double& counted) const {
    if (m_options.loss == Loss::cross_entropy) {
      for (Eigen::Index j = 0; j < out.cols(); ++j) {
        Eigen::Index predicted = 0, truth = 0;
        out.col(j).maxCoeff(&predicted);
        if (y.rows() == 1)
          truth = static_cast<Eigen::Index>(y(0, j));
        else
          y.col(j).maxCoeff(&truth);
        correct += predicted == truth ? 1 : 0;
      }
      counted += double(out.cols());
    } else if (m_options.loss == Loss::binary_cross_entropy) {
      correct += double(((out.array() > 0) == (y.array() > Scalar(0.5))).count());
      counted += double(out.size());
    }
  }

  Evaluation evaluate_columns(Sequential<Scalar>& net, const DataRef& data,
                              std::span<const Eigen::Index> idx) const;

  Options m_options;
  std::vector<std::shared_ptr<Callback>> m_callbacks;
  EpochHook m_epoch_hook;
  std::optional<FitPosition<Scalar>> m_resume;
};

}  // namespace descent::nn

#include <descent/nn/detail/trainer_loop.hpp>

#ifdef DESCENT_COMPILED_LIB  // descent::compiled holds these instantiations
extern template class descent::nn::Trainer<float>;
extern template class descent::nn::Trainer<double>;
#endif
