// hyperparameters: one sweep per hyperparameter on Fashion-MNIST, a picture per sweep.
//
// What it shows
//   A base network (784-128-10 relu, no dropout, cross-entropy, Adam at learning rate 1e-3,
//   batch 64, 3 epochs, seed 0) is trained again and again with one setting changed at a time:
//     learning_rate  log grid, for SGD, Momentum and Adam (all nine optimizers without --quick)
//     batch_size     1 .. the whole training set (full-batch gradient descent)
//     dropout        0 .. 0.5 after the hidden layer
//     layers         0 .. 3 hidden layers of 128 units (0: a linear model)
//     units          units of the one hidden layer
//     activation     relu, leaky_relu, elu, gelu, tanh, sigmoid, softplus
//     epochs         1 .. 10 (one run, measured after every epoch)
//     loss           cross_entropy on labels; mse, mae, huber and binary_cross_entropy on one-hot
//                    targets (accuracy = the largest output is the right class, for all five)
//   For every run it records the test accuracy (on the 10,000 test images) and the training time
//   (CPU seconds, so a busy machine does not bend the curves), and writes
//     hyperparameters.csv  sweep,optimizer,value,test_accuracy,train_loss,seconds
//     sweep_<name>.svg     two panels: test accuracy and training seconds against the value,
//                          one line per optimizer (paths id="accuracy-<optimizer>", "seconds-...")
//
// How to run
//   build/examples/hyperparameters --quick --out build/hyperparameters   # a minute or two
//   build/examples/hyperparameters --out build/hyperparameters           # the whole grid: long
//   build/examples/hyperparameters --smoke --out /tmp/h                   # seconds (the ctest)
//   --quick trains on a 10,000-image subset with shorter grids; --smoke on 500 images (500 test
//   images), 2 points a sweep: it checks that everything runs, its numbers mean little. --sweeps lr,loss
//   runs only some sweeps. Without Fashion-MNIST: sudo apt-get install dataset-fashion-mnist.
//
// What to look for (--quick; docs/hyperparameters.md shows and explains the pictures)
//   learning_rate  each optimizer has a window a decade or two wide; below it learning is slow,
//                  above it diverges or stalls. SGD's window sits 10-100x higher than Adam's.
//   batch_size     at a fixed number of epochs, small batches take many more steps: better
//                  accuracy, but batch 1 is by far the slowest (no matrix products to speed it
//                  up); full batch takes one step per epoch and barely learns in 3 epochs.
//   epochs         accuracy rises fast and then flattens; time grows linearly.
//   loss           cross-entropy is the standard; on one-hot targets mse and huber do as well
//                  in 3 epochs, mae learns far slower (its gradient is only the error's sign).
//
// Exit status: 0 on success, 2 for a bad flag, 1 when the data cannot be read or an output file
// cannot be written.

#include <descent/data.hpp>
#include <descent/nn.hpp>

#include "common.hpp"
#include "svg.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ex = descent::examples;
namespace nn = descent::nn;
using descent::data::Dataset;

enum class Mode { full, quick, smoke };

/// Everything one training run needs; the sweeps change one field of the base.
struct Config {
  std::string optimizer = "adam";
  double learning_rate = 1e-3;
  Eigen::Index batch_size = 64;
  double dropout = 0;
  std::vector<Eigen::Index> hidden = {128};
  nn::Activation activation = nn::Activation::relu;
  int epochs = 3;
  nn::Loss loss = nn::Loss::cross_entropy;
};

struct Result {
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
  double train_loss = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;
  std::string failure;  ///< why training stopped, if the loss turned non-finite
};

/// One point of a sweep: where it goes on the x axis, its label, the run's settings.
struct Point {
  double x = 0;
  std::string label;
  Config config;
  Result result;
};

/// One line of a sweep (one optimizer).
struct Line {
  std::string optimizer;
  std::vector<Point> points;
};

struct Sweep {
  std::string name;     ///< sweep_<name>.svg, and for --sweeps
  std::string title;    ///< the picture's heading
  std::string x_title;  ///< the value's axis
  bool categorical = false;  ///< labels on the x axis instead of numbers
  bool log_x = false;        ///< x holds log10 of the value
  std::string trades;        ///< what the setting trades, printed and in the docs
  std::vector<Line> lines;
};

struct Settings {
  Mode mode = Mode::full;
  std::filesystem::path data{std::string(ex::fashion_mnist_dir)};
  std::filesystem::path out = ".";
  std::vector<std::string> only;  ///< sweeps to run; empty: all
  int threads = 1;
};

const std::vector<std::string> sweep_names = {"learning_rate", "batch_size", "dropout", "layers",
                                              "units", "activation", "epochs", "loss"};

std::string format_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Test accuracy by hand (the largest output is the predicted class), so every loss is scored
/// the same way.
double accuracy(const nn::Trainer<float>& trainer, nn::Sequential<float>& net, const Dataset<float>& test) {
  const Eigen::MatrixXf out = trainer.predict(net, test.x);
  Eigen::Index correct = 0;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    Eigen::Index predicted = 0;
    out.col(j).maxCoeff(&predicted);
    correct += predicted == static_cast<Eigen::Index>(test.y(0, j)) ? 1 : 0;
  }
  return double(correct) / double(out.cols());
}

/// The process's CPU time in seconds. The time panels show CPU time, not wall-clock time, so
/// other programs on a busy machine do not bend the curves (with --threads 1 they are equal on
/// an idle one).
double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

/// After every epoch: the training loss and the CPU time spent training so far; with `score`
/// set, also the test accuracy, measured with the clock stopped.
struct Collect : nn::Callback {
  std::vector<Result> epochs;
  std::function<double()> score;
  double spent = 0, mark = 0;
  void on_epoch_end(nn::TrainingState& state) override {
    spent += cpu_seconds() - mark;
    Result r;
    r.train_loss = state.last->loss;
    r.seconds = spent;
    if (score) r.test_accuracy = score();
    epochs.push_back(r);
    mark = cpu_seconds();
  }
};

/// Trains the network `c` describes; with `per_epoch`, also measures the test accuracy after
/// each epoch and returns those results there.
Result train(const Config& c, const Settings& s, const Dataset<float>& train_set, const Dataset<float>& one_hot,
             const Dataset<float>& test, std::vector<Result>* per_epoch = nullptr) {
  auto net = nn::make_network<float>({.inputs = train_set.features(), .outputs = 10, .hidden = c.hidden,
                                      .activation = c.activation, .dropout = c.dropout},
                                     /*seed=*/0);
  nn::Trainer<float> trainer({.optimizer = c.optimizer, .learning_rate = c.learning_rate, .loss = c.loss,
                              .batch_size = c.batch_size, .epochs = c.epochs, .seed = 0,
                              .progress = nn::Trainer<float>::Progress::none, .threads = s.threads});
  auto collect = std::make_shared<Collect>();
  if (per_epoch) collect->score = [&] { return accuracy(trainer, net, test); };
  trainer.add_callback(collect);
  const bool labels = c.loss == nn::Loss::cross_entropy;
  Result r;
  collect->mark = cpu_seconds();
  try {
    trainer.fit(net, labels ? train_set : one_hot);
  } catch (const std::runtime_error& e) {  // non-finite loss: a point of the sweep, not an error
    r.failure = e.what();
  }
  if (!collect->epochs.empty()) {
    r.train_loss = collect->epochs.back().train_loss;
    r.seconds = collect->epochs.back().seconds;
  }
  if (r.failure.empty()) r.test_accuracy = accuracy(trainer, net, test);
  if (per_epoch) *per_epoch = collect->epochs;
  return r;
}

std::vector<Sweep> make_sweeps(Mode mode, Eigen::Index train_size) {
  const bool full = mode == Mode::full, smoke = mode == Mode::smoke;
  const Config base;
  std::vector<Sweep> sweeps;
  const auto line = [](std::string optimizer) { return Line{std::move(optimizer), {}}; };
  const auto with = [&](auto&& change) {
    Config c = base;
    change(c);
    return c;
  };

  {  // learning rate, per optimizer, on a log grid
    Sweep w{"learning_rate", "Learning rate", "learning rate (log scale)", false, true,
            "too small learns slowly, too large diverges; each optimizer has its own window", {}};
    std::vector<double> rates = {1e-4, 1e-3, 1e-2, 1e-1, 1};
    if (full) rates = {1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1};
    if (smoke) rates = {1e-3, 1e-1};
    std::vector<std::string> optimizers = {"sgd", "momentum", "adam"};
    if (full) optimizers = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam"};
    if (smoke) optimizers = {"sgd", "adam"};
    for (const std::string& name : optimizers) {
      Line l = line(name);
      for (const double lr : rates) {
        l.points.push_back({std::log10(lr), format_value(lr), with([&](Config& c) {
                              c.optimizer = name;
                              c.learning_rate = lr;
                            }), {}});
      }
      w.lines.push_back(std::move(l));
    }
    sweeps.push_back(std::move(w));
  }
  {  // batch size, 1 .. full batch
    Sweep w{"batch_size", "Batch size (same epochs)", "batch size (log scale)", false, true,
            "small batches take more, noisier steps per epoch: better accuracy per epoch, more time "
            "per epoch; full batch is one step per epoch",
            {line("adam")}};
    std::vector<Eigen::Index> sizes = {1, 16, 64, 256, 1024, train_size};
    if (full) sizes = {1, 4, 16, 64, 256, 1024, 4096, train_size};
    if (smoke) sizes = {1, train_size};
    for (const Eigen::Index b : sizes) {
      w.lines[0].points.push_back({std::log10(double(b)), b == train_size ? "all " + std::to_string(b) : std::to_string(b),
                                   with([&](Config& c) { c.batch_size = b; }), {}});
    }
    sweeps.push_back(std::move(w));
  }
  {  // dropout
    Sweep w{"dropout", "Dropout rate", "dropout after the hidden layer", false, false,
            "regularizes (less overfitting) at the price of slower fitting", {line("adam")}};
    std::vector<double> rates = {0, 0.1, 0.2, 0.3, 0.5};
    if (smoke) rates = {0, 0.5};
    for (const double p : rates) {
      w.lines[0].points.push_back({p, format_value(p), with([&](Config& c) { c.dropout = p; }), {}});
    }
    sweeps.push_back(std::move(w));
  }
  {  // hidden layers
    Sweep w{"layers", "Hidden layers of 128 units", "hidden layers", false, false,
            "depth adds capacity and time; 0 is a linear model (multinomial logistic regression)",
            {line("adam")}};
    std::vector<int> depths = {0, 1, 2, 3};
    if (smoke) depths = {0, 2};
    for (const int d : depths) {
      w.lines[0].points.push_back({double(d), std::to_string(d), with([&](Config& c) {
                                     c.hidden.assign(std::size_t(d), 128);
                                   }), {}});
    }
    sweeps.push_back(std::move(w));
  }
  {  // units of one hidden layer
    Sweep w{"units", "Units in the hidden layer", "units (log scale)", false, true,
            "width adds capacity; time grows about linearly with it", {line("adam")}};
    std::vector<Eigen::Index> units = {16, 64, 256, 1024};
    if (full) units = {8, 16, 32, 64, 128, 256, 512, 1024};
    if (smoke) units = {8, 32};
    for (const Eigen::Index u : units) {
      w.lines[0].points.push_back({std::log10(double(u)), std::to_string(u),
                                   with([&](Config& c) { c.hidden = {u}; }), {}});
    }
    sweeps.push_back(std::move(w));
  }
  {  // activation
    Sweep w{"activation", "Activation of the hidden layer", "activation", true, false,
            "with one hidden layer they end close; sigmoid saturates and lags, gelu and softplus "
            "cost more time (exp, erf) than relu",
            {line("adam")}};
    std::vector<nn::Activation> acts = {nn::Activation::relu, nn::Activation::leaky_relu, nn::Activation::elu,
                                        nn::Activation::gelu, nn::Activation::tanh, nn::Activation::sigmoid,
                                        nn::Activation::softplus};
    if (smoke) acts = {nn::Activation::relu, nn::Activation::sigmoid};
    for (std::size_t i = 0; i < acts.size(); ++i) {
      w.lines[0].points.push_back({double(i + 1), std::string(nn::to_string(acts[i])),
                                   with([&](Config& c) { c.activation = acts[i]; }), {}});
    }
    sweeps.push_back(std::move(w));
  }
  {  // epochs: one run, measured after each epoch (filled in by run_sweep)
    Sweep w{"epochs", "Epochs", "epochs", false, false,
            "more passes fit better until the test accuracy flattens (and, in long runs, falls "
            "as the network overfits); time grows linearly",
            {line("adam")}};
    const int epochs = full ? 10 : smoke ? 2 : 8;
    w.lines[0].points.push_back({double(epochs), std::to_string(epochs), with([&](Config& c) { c.epochs = epochs; }), {}});
    sweeps.push_back(std::move(w));
  }
  {  // loss
    Sweep w{"loss", "Loss function", "loss", true, false,
            "cross-entropy on logits is the standard for classes; mse and huber on one-hot targets "
            "also work, mae's sign-only gradient learns slowly",
            {line("adam")}};
    std::vector<nn::Loss> losses = {nn::Loss::cross_entropy, nn::Loss::mse, nn::Loss::huber, nn::Loss::mae,
                                    nn::Loss::binary_cross_entropy};
    if (smoke) losses = {nn::Loss::cross_entropy, nn::Loss::mse};
    for (std::size_t i = 0; i < losses.size(); ++i) {
      const std::string name(nn::to_string(losses[i]));
      w.lines[0].points.push_back({double(i + 1), name == "binary_cross_entropy" ? "bce" : name,
                                   with([&](Config& c) { c.loss = losses[i]; }), {}});
    }
    sweeps.push_back(std::move(w));
  }
  return sweeps;
}

/// Runs every point of the sweep and prints a row for each.
void run_sweep(Sweep& w, const Settings& s, const Dataset<float>& train_set, const Dataset<float>& one_hot,
               const Dataset<float>& test) {
  std::printf("\n== %s: %s\n", w.name.c_str(), w.trades.c_str());
  std::printf("  %-10s %-12s %-14s %-11s %s\n", "optimizer", w.name.c_str(), "test accuracy", "train loss",
              "seconds");
  for (Line& l : w.lines) {
    if (w.name == "epochs") {  // one run; a point per epoch
      const Config c = l.points.front().config;
      std::vector<Result> epochs;
      const Result r = train(c, s, train_set, one_hot, test, &epochs);
      l.points.clear();
      for (std::size_t e = 0; e < epochs.size(); ++e) {
        l.points.push_back({double(e + 1), std::to_string(e + 1), c, epochs[e]});
      }
      if (!r.failure.empty() && !l.points.empty()) l.points.back().result.failure = r.failure;
    } else {
      for (Point& p : l.points) p.result = train(p.config, s, train_set, one_hot, test);
    }
    for (const Point& p : l.points) {
      std::printf("  %-10s %-12s %-14.4f %-11.4f %.2f%s\n", l.optimizer.c_str(), p.label.c_str(),
                  p.result.test_accuracy, p.result.train_loss, p.result.seconds,
                  p.result.failure.empty() ? "" : "  (diverged)");
      std::fflush(stdout);
    }
  }
  const Point* best = nullptr;
  const Line* best_line = nullptr;
  for (const Line& l : w.lines) {
    for (const Point& p : l.points) {
      if (std::isfinite(p.result.test_accuracy) && (!best || p.result.test_accuracy > best->result.test_accuracy)) {
        best = &p;
        best_line = &l;
      }
    }
  }
  if (best) {
    std::printf("  best test accuracy: %s = %s%s (%.4f)\n", w.name.c_str(), best->label.c_str(),
                w.lines.size() > 1 ? (" with " + best_line->optimizer).c_str() : "", best->result.test_accuracy);
  }
}

std::string svg(const Sweep& w, const std::string& setup) {
  std::vector<double> xs, accuracies, seconds;
  std::vector<double> ticks;
  std::vector<std::string> labels;
  for (const Line& l : w.lines) {
    for (const Point& p : l.points) {
      xs.push_back(p.x);
      accuracies.push_back(p.result.test_accuracy);
      seconds.push_back(p.result.seconds);
      if (std::find(ticks.begin(), ticks.end(), p.x) == ticks.end()) {
        ticks.push_back(p.x);
        labels.push_back(p.label);
      }
    }
  }
  ex::Range x = ex::padded_range(xs, 1, -1e300, 1e300);
  const double plot_w = 420, plot_h = 300;
  const ex::Margins left_m{.left = 76, .right = 30, .top = 44, .bottom = 56};
  const ex::Margins right_m{.left = 76, .right = 120, .top = 44, .bottom = 56};
  // Accuracy spans at least 0.06, so its ticks need two decimals only; time starts at 0, so the
  // panel shows ratios truthfully.
  double most = 0;
  for (const double t : seconds) most = std::max(most, t);
  ex::Figure acc(left_m.left + plot_w + left_m.right, 44 + plot_h + 56, x,
                 ex::padded_range(accuracies, 0.06, 0, 1), left_m);
  ex::Figure time(right_m.left + plot_w + right_m.right, 44 + plot_h + 56, x,
                  {0, most > 0 ? most * 1.08 : 1}, right_m);
  acc.set_title("Test accuracy");
  acc.set_axis_titles(w.x_title, "accuracy on the test set");
  time.set_title("Training time");
  time.set_axis_titles(w.x_title, "CPU seconds (all epochs)");
  // Label every tick on a log or category axis; for plain numbers only when there are few.
  if (w.categorical || w.log_x || ticks.size() <= 8) {
    acc.set_x_ticks(ticks, labels);
    time.set_x_ticks(ticks, labels);
  }
  for (std::size_t k = 0; k < w.lines.size(); ++k) {
    const Line& l = w.lines[k];
    const ex::Stroke stroke{.color = ex::palette[k % ex::palette.size()], .width = 2, .opacity = 0.9};
    std::vector<ex::Point> a, t;
    for (const Point& p : l.points) {
      a.push_back({p.x, p.result.test_accuracy});  // NaN (diverged) breaks the line
      t.push_back({p.x, p.result.seconds});
    }
    acc.add_path(a, stroke, "accuracy-" + l.optimizer);
    time.add_path(t, stroke, "seconds-" + l.optimizer);
    for (const auto& p : a) {
      if (std::isfinite(p.y)) acc.add_marker(p, ex::Marker::circle, 3, stroke.color, {.width = 0});
    }
    for (const auto& p : t) time.add_marker(p, ex::Marker::circle, 3, stroke.color, {.width = 0});
    time.add_legend_entry(l.optimizer, stroke);
  }
  return ex::render_row({&acc, &time}, w.title + " \u2014 " + setup);
}

Settings parse(int argc, char** argv) {
  Settings s;
  ex::Args args(argc, argv);
  while (!args.done()) {
    const std::string_view flag = args.flag();
    if (flag == "-h" || flag == "--help") {
      std::printf("usage: hyperparameters [flags]\n"
                  "  --quick          a 10,000-image training subset and shorter grids (minutes)\n"
                  "  --smoke          500 images, 2 points per sweep, 1 epoch (seconds; for tests)\n"
                  "  --sweeps a,b     only these sweeps (default all): learning_rate, batch_size,\n"
                  "                   dropout, layers, units, activation, epochs, loss\n"
                  "  --data DIR       Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)\n"
                  "  --out DIR        where to write hyperparameters.csv and sweep_<name>.svg (default .)\n"
                  "  --threads N      threads for the layers' matrix products (default 1)\n");
      std::exit(0);
    } else if (flag == "--quick") {
      s.mode = Mode::quick;
    } else if (flag == "--smoke") {
      s.mode = Mode::smoke;
    } else if (flag == "--sweeps") {
      s.only = ex::split_list(args.value());
      if (s.only.empty()) ex::flag_error(flag, "needs at least one sweep");
      for (const std::string& name : s.only) {
        if (std::find(sweep_names.begin(), sweep_names.end(), name) == sweep_names.end()) {
          std::string valid;
          for (const auto& n : sweep_names) valid += (valid.empty() ? "" : ", ") + n;
          ex::flag_error(flag, "unknown sweep '" + name + "'; valid: " + valid);
        }
      }
    } else if (flag == "--data") {
      s.data = std::string(args.value());
    } else if (flag == "--out") {
      s.out = std::string(args.value());
      ex::require_creatable_directory(flag, s.out);  // now, not after training
    } else if (flag == "--threads") {
      s.threads = static_cast<int>(args.integer(1, 1024));
    } else {
      throw ex::UsageError("unknown flag '" + std::string(flag) + "' (see --help)");
    }
  }
  return s;
}

int run(const Settings& s) {
  Dataset<float> train_set, test;
  try {
    train_set = descent::data::load_mnist<float>(s.data, descent::data::Split::train);
    test = descent::data::load_mnist<float>(s.data, descent::data::Split::test);
  } catch (const descent::data::DataError& e) {
    std::fprintf(stderr, "hyperparameters: %s\n%s\n", e.what(), ex::fashion_mnist_hint.data());
    return 1;
  }
  if (s.mode != Mode::full) train_set = descent::data::subset(train_set, s.mode == Mode::quick ? 10000 : 500);
  if (s.mode == Mode::smoke) test = descent::data::subset(test, 500);
  Dataset<float> one_hot{train_set.x, descent::data::one_hot(train_set.y, 10)};  // for the regression losses
  std::filesystem::create_directories(s.out);

  const std::string setup = "base 784-128-10 relu, Adam 0.001, batch 64, 3 epochs, " +
                            std::to_string(train_set.size()) + " Fashion-MNIST images";
  std::printf("Hyperparameter sweeps (%s mode) on %s.\n"
              "Each run changes one setting of the base; test accuracy on %lld test images.\n",
              s.mode == Mode::full ? "full" : s.mode == Mode::quick ? "quick" : "smoke", setup.c_str(),
              static_cast<long long>(test.size()));

  std::string csv = "sweep,optimizer,value,test_accuracy,train_loss,seconds\n";
  for (Sweep& w : make_sweeps(s.mode, train_set.size())) {
    if (!s.only.empty() && std::find(s.only.begin(), s.only.end(), w.name) == s.only.end()) continue;
    run_sweep(w, s, train_set, one_hot, test);
    for (const Line& l : w.lines) {
      for (const Point& p : l.points) {
        csv += w.name + "," + l.optimizer + "," + p.label + "," + ex::format_exact(p.result.test_accuracy) + "," +
               ex::format_exact(p.result.train_loss) + "," + ex::format_exact(p.result.seconds) + "\n";
      }
    }
    const std::filesystem::path file = s.out / ("sweep_" + w.name + ".svg");
    ex::write_file_atomically(file, svg(w, setup));
    std::printf("  wrote %s\n", file.string().c_str());
  }
  const std::filesystem::path csv_path = s.out / "hyperparameters.csv";
  ex::write_file_atomically(csv_path, csv);
  std::printf("\nwrote %s\nlook for: where each accuracy curve peaks, and what the time panel charges for it.\n",
              csv_path.string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ex::guarded_main("hyperparameters", [&] { return run(parse(argc, argv)); });
}
