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
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace descent::nn {

/// Loss and accuracy (NaN where accuracy has no meaning, as for regression).
struct Evaluation {
  double loss = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();
};

struct EpochLog {
  int epoch = 0;  ///< 1-based
  double loss = 0, accuracy = 0;
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  double learning_rate = 0;
  double seconds = 0;
};

/// What fit() did, epoch by epoch.
struct History {
  std::vector<EpochLog> epochs;
  bool stopped_early = false;

  /// epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds (numbers read back exactly).
  void save_csv(const std::string& path) const {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("descent::nn::History::save_csv: cannot write " + path);
    out.precision(17);
    out << "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n";
    for (const auto& e : epochs) {
      out << e.epoch << ',' << e.loss << ',' << e.accuracy << ',' << e.val_loss << ','
          << e.val_accuracy << ',' << e.learning_rate << ',' << e.seconds << '\n';
    }
    if (!out) throw std::runtime_error("descent::nn::History::save_csv: write failed: " + path);
  }
};

/// What callbacks see and may change while fit() runs.
struct TrainingState {
  int epoch = 0;                 ///< 1-based, the epoch running or just finished
  std::int64_t step = 0;         ///< optimizer steps taken so far
  double learning_rate = 0;      ///< set it to change the rate from the next step on
  const EpochLog* last = nullptr;  ///< the epoch just finished (on_epoch_end)
  bool stop = false;             ///< set to end training after this epoch
  std::function<void()> save_weights, restore_weights;  ///< snapshot / restore of the arena
};

/// Hooks into fit(); override the ones you need.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainingState&) {}
  virtual void on_epoch_begin(TrainingState&) {}
  virtual void on_batch_begin(TrainingState&) {}
  virtual void on_epoch_end(TrainingState&) {}
  virtual void on_train_end(TrainingState&) {}
};

/// Stops when the monitored value (val_loss when there is validation data, else loss) has not
/// improved by more than min_delta for more than `patience` epochs in a row (as PyTorch's
/// ReduceLROnPlateau counts; Keras's EarlyStopping stops one epoch sooner); optionally restores
/// the best weights. Each fit() starts afresh.
class EarlyStopping : public Callback {
 public:
  struct Options {
    int patience = 3;
    double min_delta = 0;
    bool restore_best = true;
  };
  explicit EarlyStopping(Options options) : m_options(options) {
    if (options.patience < 0) throw std::invalid_argument("EarlyStopping: patience must be >= 0");
    if (!(options.min_delta >= 0)) throw std::invalid_argument("EarlyStopping: min_delta must be >= 0");
  }
  EarlyStopping() : EarlyStopping(Options{}) {}

  void on_train_begin(TrainingState&) override {
    m_best = std::numeric_limits<double>::infinity();
    m_best_epoch = 0;
    m_wait = 0;
  }

  void on_epoch_end(TrainingState& state) override {
    const double value =
        std::isnan(state.last->val_loss) ? state.last->loss : state.last->val_loss;
    if (value < m_best - m_options.min_delta) {
      m_best = value;
      m_best_epoch = state.epoch;
      m_wait = 0;
      if (m_options.restore_best) state.save_weights();
    } else if (++m_wait > m_options.patience) {
      state.stop = true;
    }
  }
  void on_train_end(TrainingState& state) override {
    if (m_options.restore_best && m_best_epoch > 0) state.restore_weights();
  }
  int best_epoch() const { return m_best_epoch; }
  double best() const { return m_best; }

 private:
  Options m_options;
  double m_best = std::numeric_limits<double>::infinity();
  int m_best_epoch = 0;
  int m_wait = 0;
};

/// Sets the learning rate before every step from a function of the step count (any of
/// descent::schedule's, e.g. WarmupCosine) or, with per_epoch, of the 0-based epoch.
class LearningRateSchedule : public Callback {
 public:
  explicit LearningRateSchedule(std::function<double(std::int64_t)> schedule, bool per_epoch = false)
      : m_schedule(std::move(schedule)), m_per_epoch(per_epoch) {}
  void on_epoch_begin(TrainingState& state) override {
    if (m_per_epoch) state.learning_rate = m_schedule(state.epoch - 1);
  }
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
  explicit ReduceLearningRateOnPlateau(schedule::ReduceOnPlateau::Options options = {})
      : m_options(options) {}
  void on_train_begin(TrainingState& state) override {
    m_plateau.emplace(state.learning_rate, m_options);
  }
  void on_epoch_end(TrainingState& state) override {
    const double value =
        std::isnan(state.last->val_loss) ? state.last->loss : state.last->val_loss;
    state.learning_rate = m_plateau->update(value);
  }

 private:
  schedule::ReduceOnPlateau::Options m_options;
  std::optional<schedule::ReduceOnPlateau> m_plateau;
};

/// Fits networks. Datasets are any type with members x (features x n) and y (targets x n; class
/// indices as a 1 x n row for cross-entropy), such as descent::data::Dataset.
template <class Scalar>
class Trainer {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  enum class Progress { automatic, bar, lines, none };

  struct Options {
    std::string optimizer = "adam";
    double learning_rate = 1e-3;
    std::string optimizer_options = {};  ///< "beta2=0.99,...": every option but learning_rate
    Loss loss = Loss::cross_entropy;
    Eigen::Index batch_size = 64;
    int epochs = 10;
    std::uint64_t seed = 0;
    double validation_split = 0;  ///< used when fit() gets no validation set
    Progress progress = Progress::automatic;  ///< a bar on a terminal, else a line per epoch
    int threads = 1;  ///< threads for the layers' matrix products (results are reproducible
                      ///< for a given thread count: the split changes float summation order)
  };

  explicit Trainer(Options options) : m_options(std::move(options)) {
    const Options& o = m_options;
    if (o.batch_size < 1) fail("batch_size must be >= 1, got " + std::to_string(o.batch_size));
    if (o.epochs < 0) fail("epochs must be >= 0, got " + std::to_string(o.epochs));
    if (!(o.validation_split >= 0 && o.validation_split < 1)) {
      fail("validation_split must be in [0, 1), got " + std::to_string(o.validation_split));
    }
    if (!(std::isfinite(o.learning_rate) && o.learning_rate >= 0)) {
      fail("learning_rate must be finite and >= 0, got " + std::to_string(o.learning_rate));
    }
    if (o.threads < 1) fail("threads must be >= 1, got " + std::to_string(o.threads));
    make_optimizer();  // checks the name and options now, not after loading data
  }

  const Options& options() const { return m_options; }

  Trainer& add_callback(std::shared_ptr<Callback> callback) {
    m_callbacks.push_back(std::move(callback));
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
    state.save_weights = [&] { best_weights = net.parameters(); };
    state.restore_weights = [&] {
      if (best_weights.size() == net.parameter_count()) net.parameters() = best_weights;
    };
    for (auto& c : m_callbacks) c->on_train_begin(state);

    const bool bar = m_options.progress == Progress::bar ||
                     (m_options.progress == Progress::automatic && isatty(STDOUT_FILENO));
    const Eigen::Index batches = (n + batch - 1) / batch;
    double applied_lr = m_options.learning_rate;
    for (int epoch = 1; epoch <= m_options.epochs && !state.stop; ++epoch) {
      state.epoch = epoch;
      for (auto& c : m_callbacks) c->on_epoch_begin(state);
      shuffle(train_idx, rng);
      net.set_training(true);
      const auto start = Clock::now();
      auto last_print = start;
      double loss_sum = 0, correct = 0, counted = 0;
      for (Eigen::Index b = 0; b < batches; ++b) {
        for (auto& c : m_callbacks) c->on_batch_begin(state);
        if (state.learning_rate != applied_lr) {  // a callback changed it
          optimizer.set_learning_rate(static_cast<Scalar>(state.learning_rate));
          applied_lr = state.learning_rate;
        }
        const Eigen::Index first = b * batch, size = std::min(batch, n - first);
        gather(train, train_idx, first, size, xb, yb);
        const auto out = net.forward(xb.leftCols(size));
        const double loss =
            loss_and_gradient(m_options.loss, out, yb.leftCols(size), grad.leftCols(size));
        if (!std::isfinite(loss)) {
          throw std::runtime_error("descent::nn::Trainer: the loss became " +
                                   std::to_string(loss) + " at epoch " + std::to_string(epoch) +
                                   ", batch " + std::to_string(b + 1) +
                                   " (try a lower learning rate)");
        }
        accumulate_accuracy(out, yb.leftCols(size), correct, counted);
        net.backward(grad.leftCols(size));
        optimizer.step();
        ++state.step;
        loss_sum += loss * double(size);
        if (bar && (Clock::now() - last_print > std::chrono::milliseconds(100) || b + 1 == batches)) {
          last_print = Clock::now();
          print_bar(epoch, b + 1, batches, first + size, seconds_since(start), loss_sum / double(first + size));
        }
      }
      EpochLog log;
      log.epoch = epoch;
      log.loss = loss_sum / double(n);
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
      for (auto& c : m_callbacks) c->on_epoch_end(state);
    }
    history.stopped_early = state.stop;
    for (auto& c : m_callbacks) c->on_train_end(state);
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
};

}  // namespace descent::nn
