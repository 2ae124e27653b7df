#pragma once
// Trainer: fits a Sequential network to a dataset with any optimizer, Keras-style.
//
//   descent::nn::Trainer<float> trainer({.optimizer = "adam", .learning_rate = 1e-3,
//                                        .batch_size = 64, .epochs = 10});
//   trainer.add_callback(std::make_shared<descent::nn::EarlyStopping>(...));
//   auto history = trainer.fit(net, train, &validation);
//   auto [loss, accuracy] = trainer.evaluate(net, test);
//
// batch_size = the dataset's size is full-batch gradient descent; 1 is pure SGD. Mini-batches are
// drawn from a shuffle seeded by `seed`, so a run is reproducible. After the first step the loop
// allocates nothing: batches are gathered into buffers sized once.

#include <descent/nn/callbacks.hpp>
#include <descent/nn/history.hpp>
#include <descent/nn/loss.hpp>
#include <descent/nn/sequential.hpp>
#include <descent/optim/optimizer.hpp>
#include <descent/optim/schedule.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <locale>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace descent::nn {

/// Where fit() stands at the end of an epoch: besides the network's weights and dropout stream,
/// everything it needs to go on exactly as if it had never stopped. Plain data; descent/io
/// writes it to checkpoint files (Trainer::set_epoch_hook, Trainer::resume_from).
template <class Scalar>
struct FitPosition {
  int epoch = 0;                    ///< epochs finished
  std::int64_t step = 0;            ///< optimizer steps taken
  double learning_rate = 0;         ///< TrainingState::learning_rate
  bool stopped = false;             ///< a callback asked to stop
  std::string shuffle_rng;          ///< the shuffle's std::mt19937_64 in its standard text form
  std::vector<std::int64_t> order;  ///< the training samples in the last epoch's order
  std::string optimizer_options;    ///< Optimizer::options(), to check the resuming trainer's
  /// Trainer::run_options() of the run, to check the resuming trainer's; empty in checkpoints
  /// of format version 1, which did not store them (then they go unchecked).
  std::string trainer_options;
  StateDict<Scalar> optimizer;      ///< moments and step counts (Optimizer::state_dict)
  std::vector<std::vector<double>> callbacks;  ///< each callback's save_state(), in order
  std::vector<EpochLog> history;    ///< one entry per epoch finished
  Buffer<Scalar> best_weights;      ///< TrainingState::save_weights's snapshot; may be empty
};

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
    std::string optimizer = "adam";  ///< a make_optimizer() name
    double learning_rate = 1e-3;  ///< the starting rate (callbacks may change it), >= 0
    std::string optimizer_options = {};  ///< "beta2=0.99,...": every option but learning_rate
    Loss loss = Loss::cross_entropy;  ///< what fit() minimizes
    Eigen::Index batch_size = 64;  ///< samples per step (capped at the training set size), >= 1
    int epochs = 10;  ///< epochs in total, >= 0
    std::uint64_t seed = 0;  ///< seeds the shuffles and the validation split
    double validation_split = 0;  ///< used when fit() gets no validation set
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
    return "loss=" + std::string(to_string(o.loss)) + ",batch_size=" +
           std::to_string(o.batch_size) + ",seed=" + std::to_string(o.seed) +
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
    const FitPosition<Scalar>& p = position;
    if (p.epoch < 0 || p.step < 0 || p.history.size() != std::size_t(p.epoch)) {
      fail("cannot resume: the position has " + std::to_string(p.epoch) + " epochs, " +
           std::to_string(p.step) + " steps and " + std::to_string(p.history.size()) +
           " history entries");
    }
    if (const std::string why = learning_rate_fault(p.learning_rate); !why.empty()) {
      fail("cannot resume: the position's learning rate " + why);
    }
    const auto optimizer = make_optimizer();
    const std::string ours = without_learning_rate(optimizer.options());
    if (p.optimizer.optimizer != optimizer.name() ||
        without_learning_rate(p.optimizer_options) != ours) {
      fail("cannot resume: the position was saved with optimizer " + p.optimizer.optimizer + " (" +
           without_learning_rate(p.optimizer_options) + "), this trainer has " +
           std::string(optimizer.name()) + " (" + ours + ")");
    }
    if (p.callbacks.size() != m_callbacks.size()) {
      fail("cannot resume: the position was saved with " + std::to_string(p.callbacks.size()) +
           " callbacks, this trainer has " + std::to_string(m_callbacks.size()));
    }
    if (!p.trainer_options.empty() && p.trainer_options != run_options()) {
      fail("cannot resume: the position was saved by a trainer with " + p.trainer_options +
           ", this trainer has " + run_options());
    }
    for (std::size_t i = 0; i < m_callbacks.size(); ++i) {
      try {
        m_callbacks[i]->check_state(p.callbacks[i]);
      } catch (const std::invalid_argument& e) {
        fail("cannot resume: the saved state of callback " + std::to_string(i + 1) + " of " +
             std::to_string(m_callbacks.size()) + " does not fit it: " + e.what());
      }
    }
    read_rng(p.shuffle_rng);  // throws if it is not one
    m_resume = std::move(position);
    return *this;
  }

  /// Trains `net` on `train`; validates on `validation` (or on a validation_split of train) after
  /// every epoch.
  template <class Data>
  History fit(Sequential<Scalar>& net, const Data& train, const Data* validation = nullptr) {
    check_data(net, train.x, train.y, "training data");
    if (validation) check_data(net, validation->x, validation->y, "validation data");

    // Which columns train and which validate.
    std::vector<Eigen::Index> order(train.x.cols());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(m_options.seed);
    Eigen::Index validation_count = 0;
    if (!validation && m_options.validation_split > 0) {
      shuffle(order, rng);
      // Rounded, and at least one sample: a split asked for is never silently empty.
      validation_count = std::max<Eigen::Index>(
          1, std::llround(double(order.size()) * m_options.validation_split));
    }
    std::vector<Eigen::Index> train_idx(order.begin() + validation_count, order.end());
    std::vector<Eigen::Index> val_idx(order.begin(), order.begin() + validation_count);
    if (train_idx.empty()) fail("no training samples left after the validation split");
    // A NaN in validation data would make every val_loss NaN and callbacks blind: refused now.
    if (validation) check_finite(validation->x, validation->y, {}, "validation data");
    if (!val_idx.empty()) check_finite(train.x, train.y, val_idx, "the validation split");

    const Eigen::Index n = static_cast<Eigen::Index>(train_idx.size());
    const Eigen::Index batch = std::min(m_options.batch_size, n);
    auto optimizer = make_optimizer();
    optimizer.add_param_group({descent::Parameter<Scalar>{net.parameters().data(),
                                                         net.gradients().data(),
                                                         net.parameter_count(), "network"}});
    net.set_threads(m_options.threads);
    net.reserve(batch);
    Matrix xb(net.inputs(), batch), yb(train.y.rows(), batch), grad(net.outputs(), batch);

    History history;
    Buffer<Scalar> best_weights;
    TrainingState state;
    state.learning_rate = m_options.learning_rate;
    state.validating = validation || !val_idx.empty();
    state.save_weights = [&] { best_weights = net.parameters(); };
    state.restore_weights = [&] {
      if (best_weights.size() == net.parameter_count()) net.parameters() = best_weights;
    };
    // A position is used up only once everything in it has been taken: a fit() that refuses
    // it (other data) leaves it for the next fit().
    const FitPosition<Scalar>* resume = m_resume ? &*m_resume : nullptr;
    if (resume) restore(*resume, net, train_idx, rng, optimizer, state, history, best_weights);
    // What the optimizer has now; a rate a callback sets from on_train_begin on is applied before
    // the next step.
    double applied_lr = state.learning_rate;
    run_callbacks(&Callback::on_train_begin, state);
    for (std::size_t i = 0; resume && i < m_callbacks.size(); ++i) {
      m_callbacks[i]->load_state(resume->callbacks[i]);
    }
    m_resume.reset();

    const bool bar = m_options.progress == Progress::bar ||
                     (m_options.progress == Progress::automatic && isatty(STDOUT_FILENO));
    const Eigen::Index batches = (n + batch - 1) / batch;
    for (int epoch = state.epoch + 1; epoch <= m_options.epochs && !state.stop; ++epoch) {
      state.epoch = epoch;
      run_callbacks(&Callback::on_epoch_begin, state);
      shuffle(train_idx, rng);
      net.set_training(true);
      const auto start = Clock::now();
      auto last_print = start;
      double loss_sum = 0, correct = 0, counted = 0, samples = 0;
      std::int64_t skipped = 0;
      for (Eigen::Index b = 0; b < batches; ++b) {
        run_callbacks(&Callback::on_batch_begin, state);
        if (state.learning_rate != applied_lr) {  // a callback changed it
          optimizer.set_learning_rate(static_cast<Scalar>(state.learning_rate));
          applied_lr = state.learning_rate;
        }
        const Eigen::Index first = b * batch, size = std::min(batch, n - first);
        gather(train, train_idx, first, size, xb, yb);
        const auto out = net.forward(xb.leftCols(size));
        const double loss =
            loss_and_gradient(m_options.loss, out, yb.leftCols(size), grad.leftCols(size));
        // One NaN step would poison the weights and every moment for good, so the loss and the
        // whole gradient arena are checked before the step (one pass, cheap next to the step).
        // A finite loss does not imply a finite gradient: relu(NaN) = 0 hides a NaN input.
        bool finite = std::isfinite(loss);
        if (finite) {
          net.backward(grad.leftCols(size));
          finite = net.gradients().allFinite();
        }
        if (!finite && m_options.on_non_finite == NonFinite::stop) {
          non_finite(net, loss, epoch, b, state.step);
        }
        if (finite) {
          accumulate_accuracy(out, yb.leftCols(size), correct, counted);
          net.step(optimizer);  // on the network's threads
          ++state.step;
          loss_sum += loss * double(size);
          samples += double(size);
        } else {
          ++skipped;
        }
        if (bar && (Clock::now() - last_print > std::chrono::milliseconds(100) || b + 1 == batches)) {
          last_print = Clock::now();
          print_bar(epoch, b + 1, batches, first + size, seconds_since(start), loss_sum / samples);
        }
      }
      EpochLog log;
      log.epoch = epoch;
      log.loss = loss_sum / samples;  // NaN if every batch was skipped
      log.skipped = skipped;
      log.accuracy = counted > 0 ? correct / counted : std::numeric_limits<double>::quiet_NaN();
      log.learning_rate = state.learning_rate;
      log.seconds = seconds_since(start);
      if (validation) {
        const auto e = evaluate(net, *validation);
        log.val_loss = e.loss;
        log.val_accuracy = e.accuracy;
      } else if (!val_idx.empty()) {
        const auto e = evaluate_columns(net, train, val_idx);
        log.val_loss = e.loss;
        log.val_accuracy = e.accuracy;
      }
      history.epochs.push_back(log);
      state.last = &history.epochs.back();
      if (m_options.progress != Progress::none) print_epoch(log, bar);
      run_callbacks(&Callback::on_epoch_end, state);
      if (m_epoch_hook) {
        m_epoch_hook(net, position(state, rng, train_idx, optimizer, history, best_weights));
      }
    }
    history.stopped_early = state.stop;
    for (auto& c : m_callbacks) c->on_train_end(state);  // a rate set now is never used
    net.set_training(false);
    return history;
  }

  /// Mean loss (and accuracy for classification) of `net` on `data`, in evaluation mode.
  template <class Data>
  Evaluation evaluate(Sequential<Scalar>& net, const Data& data) const {
    check_data(net, data.x, data.y, "evaluation data");
    std::vector<Eigen::Index> all(data.x.cols());
    std::iota(all.begin(), all.end(), 0);
    return evaluate_columns(net, data, all);
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

  /// Fisher-Yates with our own draw, so a seed gives the same order with every standard library
  /// (std::shuffle's algorithm is unspecified).
  static void shuffle(std::vector<Eigen::Index>& v, std::mt19937_64& rng) {
    for (std::size_t i = v.size(); i > 1; --i) {
      const std::uint64_t bound = i, limit = ~std::uint64_t{0} - ~std::uint64_t{0} % bound;
      std::uint64_t r = rng();
      while (r >= limit) r = rng();  // reject the uneven tail
      std::swap(v[i - 1], v[static_cast<std::size_t>(r % bound)]);
    }
  }

  [[noreturn]] static void fail(const std::string& what) {
    throw std::invalid_argument("descent::nn::Trainer: " + what);
  }
  static std::string number(double v) { return descent::detail::format_number(v); }

  /// Why `rate` cannot be a learning rate for this Scalar ("is nan", "1e+300 does not fit in
  /// float"), or "" when it can.
  static std::string learning_rate_fault(double rate) {
    if (!(std::isfinite(rate) && rate >= 0)) return "must be finite and >= 0, got " + number(rate);
    if (rate > double(std::numeric_limits<Scalar>::max())) {
      return number(rate) + " is larger than the largest " +
             (sizeof(Scalar) == 4 ? std::string("float") : std::string("double")) + ", " +
             descent::detail::format_number(std::numeric_limits<Scalar>::max());
    }
    return "";
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

  /// Throws unless every value of the columns `idx` of x and y (all of them when idx is empty)
  /// is finite; the error names the first bad value's place.
  static void check_finite(const Matrix& x, const Matrix& y, const std::vector<Eigen::Index>& idx,
                           const std::string& what) {
    const Eigen::Index n = idx.empty() ? x.cols() : static_cast<Eigen::Index>(idx.size());
    for (Eigen::Index k = 0; k < n; ++k) {
      const Eigen::Index j = idx.empty() ? k : idx[static_cast<std::size_t>(k)];
      for (const auto* m : {&x, &y}) {
        if (m->col(j).allFinite()) continue;
        Eigen::Index i = 0;
        while (std::isfinite(double((*m)(i, j)))) ++i;
        fail(what + " has " + (std::isnan((*m)(i, j)) ? "nan" : number(double((*m)(i, j)))) +
             " in " + (m == &x ? "feature " : "target row ") + std::to_string(i) + " of sample " +
             std::to_string(j) + " (drop or fill such samples first)");
      }
    }
  }

  // ---- checkpoints: taking a FitPosition and going on from one -------------------------------

  /// "beta1=0.9,..." without its learning_rate item, which a schedule may have changed.
  static std::string without_learning_rate(std::string_view options) {
    std::string rest;
    descent::detail::for_each_key_value(options, [&](std::string_view key, std::string_view value) {
      if (key == "learning_rate") return;
      if (!rest.empty()) rest += ',';
      rest.append(key).append("=").append(value);
    });
    return rest;
  }

  /// A std::mt19937_64 in the standard's text form, and back (only text it writes itself).
  static std::string write_rng(const std::mt19937_64& rng) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << rng;
    return out.str();
  }
  static std::mt19937_64 read_rng(const std::string& text) {
    std::istringstream in(text);
    in.imbue(std::locale::classic());
    std::mt19937_64 rng;
    if (!(in >> rng) || write_rng(rng) != text) {
      fail("cannot resume: the position's shuffle_rng is not a std::mt19937_64 state");
    }
    return rng;
  }

  FitPosition<Scalar> position(const TrainingState& state, const std::mt19937_64& rng,
                               const std::vector<Eigen::Index>& train_idx,
                               const descent::Optimizer<Scalar>& optimizer, const History& history,
                               const Buffer<Scalar>& best_weights) const {
    FitPosition<Scalar> p;
    p.epoch = state.epoch;
    p.step = state.step;
    p.learning_rate = state.learning_rate;
    p.stopped = state.stop;
    p.shuffle_rng = write_rng(rng);
    p.order.assign(train_idx.begin(), train_idx.end());
    p.optimizer_options = optimizer.options();
    p.trainer_options = run_options();
    p.optimizer = optimizer.state_dict();
    for (const auto& c : m_callbacks) p.callbacks.push_back(c->save_state());
    p.history = history.epochs;
    p.best_weights = best_weights;
    return p;
  }

  /// Puts fit()'s locals where `p` says, after checking what resume_from could not (the data,
  /// the network's size); throws before changing anything but the optimizer, which is fit()'s own.
  void restore(const FitPosition<Scalar>& p, const Sequential<Scalar>& net,
               std::vector<Eigen::Index>& train_idx, std::mt19937_64& rng,
               descent::Optimizer<Scalar>& optimizer, TrainingState& state, History& history,
               Buffer<Scalar>& best_weights) const {
    std::vector<Eigen::Index> saved(p.order.begin(), p.order.end()), ours = train_idx;
    std::sort(saved.begin(), saved.end());
    std::sort(ours.begin(), ours.end());
    if (saved != ours) {
      fail("cannot resume: the position's " + std::to_string(p.order.size()) +
           " training samples are not this data's " + std::to_string(ours.size()) +
           " (other data, seed or validation split?)");
    }
    if (p.best_weights.size() != 0 && p.best_weights.size() != net.parameter_count()) {
      fail("cannot resume: the position's best weights are " +
           std::to_string(p.best_weights.size()) + " values, the network has " +
           std::to_string(net.parameter_count()));
    }
    optimizer.load_state_dict(p.optimizer);  // checks every key and size first
    optimizer.set_learning_rate(static_cast<Scalar>(p.learning_rate));
    rng = read_rng(p.shuffle_rng);
    train_idx.assign(p.order.begin(), p.order.end());
    state.epoch = p.epoch;
    state.step = p.step;
    state.learning_rate = p.learning_rate;
    state.stop = p.stopped;
    history.epochs = p.history;
    state.last = history.epochs.empty() ? nullptr : &history.epochs.back();
    best_weights = p.best_weights;
  }

  /// The error of NonFinite::stop: what became non-finite, where, and the first bad element.
  [[noreturn]] static void non_finite(const Sequential<Scalar>& net, double loss, int epoch,
                                      Eigen::Index batch, std::int64_t steps) {
    // "nan", never "-nan": the sign of a NaN depends on the instructions that made it.
    const auto text = [](double v) { return std::isnan(v) ? std::string("nan") : number(v); };
    std::string what = "the loss became " + text(loss);
    if (std::isfinite(loss)) {
      const auto g = net.gradients();
      Eigen::Index i = 0;
      while (i < g.size() && std::isfinite(g[i])) ++i;
      what = "the gradient became " + text(double(g[i])) + " (element " + std::to_string(i) +
             " of " + std::to_string(g.size()) + ")";
    }
    throw std::runtime_error("descent::nn::Trainer: " + what + " at epoch " +
                             std::to_string(epoch) + ", batch " + std::to_string(batch + 1) +
                             " (step " + std::to_string(steps + 1) +
                             "; try a lower learning rate, check the data, or set "
                             "on_non_finite = skip)");
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

  void check_data(const Sequential<Scalar>& net, const Matrix& x, const Matrix& y,
                  const char* what) const {
    if (x.rows() != net.inputs()) {
      fail(std::string(what) + " has " + std::to_string(x.rows()) + " features, the network takes " +
           std::to_string(net.inputs()));
    }
    if (y.cols() != x.cols()) {
      fail(std::string(what) + " has " + std::to_string(x.cols()) + " samples but " +
           std::to_string(y.cols()) + " targets");
    }
    if (x.cols() == 0) fail(std::string(what) + " is empty");
    const bool labels = m_options.loss == Loss::cross_entropy && y.rows() == 1;
    if (!labels && y.rows() != net.outputs()) {
      fail(std::string(what) + " has " + std::to_string(y.rows()) +
           " target rows, the network has " + std::to_string(net.outputs()) + " outputs");
    }
    if (labels && ((y.array() < 0).any() || (y.array() >= Scalar(net.outputs())).any() ||
                   (y.array() != y.array().round()).any())) {
      fail(std::string(what) + " has labels outside 0.." + std::to_string(net.outputs() - 1));
    }
  }

  /// Copies the columns idx[first, first + size) of data into xb and yb, without allocating.
  template <class Data>
  static void gather(const Data& data, const std::vector<Eigen::Index>& idx, Eigen::Index first,
                     Eigen::Index size, Matrix& xb, Matrix& yb) {
    for (Eigen::Index k = 0; k < size; ++k) {
      const Eigen::Index j = idx[static_cast<std::size_t>(first + k)];
      xb.col(k) = data.x.col(j);
      yb.col(k) = data.y.col(j);
    }
  }

  /// Adds the correct predictions of a batch: argmax for cross-entropy, z > 0 for binary.
  template <class Out, class Target>
  void accumulate_accuracy(const Out& out, const Target& y, double& correct, double& counted) const {
    if (m_options.loss == Loss::cross_entropy) {
      for (Eigen::Index j = 0; j < out.cols(); ++j) {
        Eigen::Index predicted = 0, truth = 0;
        out.col(j).maxCoeff(&predicted);
        if (y.rows() == 1) truth = static_cast<Eigen::Index>(y(0, j));
        else y.col(j).maxCoeff(&truth);
        correct += predicted == truth ? 1 : 0;
      }
      counted += double(out.cols());
    } else if (m_options.loss == Loss::binary_cross_entropy) {
      correct += double(((out.array() > 0) == (y.array() > Scalar(0.5))).count());
      counted += double(out.size());
    }
  }

  template <class Data>
  Evaluation evaluate_columns(Sequential<Scalar>& net, const Data& data,
                              const std::vector<Eigen::Index>& idx) const {
    const bool was_training = net.training();
    net.set_training(false);
    const Eigen::Index batch = std::max<Eigen::Index>(m_options.batch_size, 256);
    const Eigen::Index n = static_cast<Eigen::Index>(idx.size());
    Matrix xb(net.inputs(), std::min(batch, n)), yb(data.y.rows(), std::min(batch, n));
    Matrix grad(net.outputs(), std::min(batch, n));
    double loss_sum = 0, correct = 0, counted = 0;
    for (Eigen::Index first = 0; first < n; first += batch) {
      const Eigen::Index size = std::min(batch, n - first);
      gather(data, idx, first, size, xb, yb);
      const auto out = net.forward(xb.leftCols(size));
      loss_sum += double(size) *
                  loss_and_gradient(m_options.loss, out, yb.leftCols(size), grad.leftCols(size));
      accumulate_accuracy(out, yb.leftCols(size), correct, counted);
    }
    net.set_training(was_training);
    Evaluation e;
    e.loss = loss_sum / double(n);
    if (counted > 0) e.accuracy = correct / counted;
    return e;
  }

  void print_bar(int epoch, Eigen::Index done, Eigen::Index batches, Eigen::Index samples,
                 double seconds, double loss) const {
    constexpr int width = 24;
    const int filled = static_cast<int>(width * done / batches);
    const double rate = seconds > 0 ? double(samples) / seconds : 0;
    const double eta = rate > 0 ? seconds / double(done) * double(batches - done) : 0;
    std::printf("\repoch %d/%d [%.*s%*s] %lld/%lld  %.0f samples/s  ETA %.0fs  loss %.4f ", epoch,
                m_options.epochs, filled, "========================", width - filled, "",
                static_cast<long long>(done), static_cast<long long>(batches), rate, eta, loss);
    std::fflush(stdout);
  }

  void print_epoch(const EpochLog& e, bool bar) const {
    if (bar) std::printf("\r\033[K");
    std::printf("epoch %d/%d  loss %.4f", e.epoch, m_options.epochs, e.loss);
    if (!std::isnan(e.accuracy)) std::printf("  accuracy %.4f", e.accuracy);
    if (!std::isnan(e.val_loss)) std::printf("  val_loss %.4f", e.val_loss);
    if (!std::isnan(e.val_accuracy)) std::printf("  val_accuracy %.4f", e.val_accuracy);
    std::printf("  lr %.3g  %.1fs\n", e.learning_rate, e.seconds);
    std::fflush(stdout);
  }

  Options m_options;
  std::vector<std::shared_ptr<Callback>> m_callbacks;
  EpochHook m_epoch_hook;
  std::optional<FitPosition<Scalar>> m_resume;
};

}  // namespace descent::nn
