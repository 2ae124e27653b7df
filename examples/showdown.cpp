// showdown: the same network trained once per optimizer, side by side on Fashion-MNIST.
//
// What it shows
//   All nine optimizers train the same 784-256-128-10 relu network (dropout 0.2, batch 64, the
//   same initial weights and the same shuffles: seed 0) for a few epochs, each at a learning rate
//   that suits it. It prints a table (learning rate, final training loss, test accuracy on the
//   10,000 test images, seconds) and writes
//     showdown.csv  one row per optimizer per epoch:
//                   optimizer,learning_rate,epoch,loss,accuracy,test_loss,test_accuracy,seconds
//                   (loss and accuracy on the training batches, dropout on; test_* on the test set)
//     showdown.svg  two panels, training loss and test accuracy per epoch, a colour per optimizer
//
// How to run
//   ./scripts/demo.sh                                   # builds, runs 3 epochs into build/showdown/
//   build/examples/showdown --epochs 5 --out build/showdown
//   build/examples/showdown --optimizers sgd,momentum,adam --train-subset 10000
//   Without Fashion-MNIST (sudo apt-get install dataset-fashion-mnist) it runs on a built-in
//   synthetic dataset instead, and says so: two interleaved spirals, 4000 training and 2000 test
//   points, a 2-64-64-2 relu network without dropout. --synthetic forces that.
//
// Learning rates, tuned on Fashion-MNIST over 5 epochs with seed 0 (test accuracy after 5 epochs
// in brackets; the bar is 0.84 for every optimizer). These are single runs: another seed or
// shuffle moves them by about +-0.005, so the training loss settles close calls. The other
// options are PyTorch's defaults: momentum 0.9, AdamW's weight_decay 0.01.
//
//   optimizer  learning_rate  why
//   sgd        0.1            plain SGD needs a large step: 0.05 is slower (0.862, loss 0.380
//                             against 0.360); 0.2 is as good (0.870 vs 0.868)
//   momentum   0.01           momentum 0.9 makes the long-run step 10x, sgd's 0.1; 0.05 (an
//                             effective 0.5) is worse (0.856 vs 0.864)
//   nesterov   0.01           as momentum (0.05: 0.863 vs 0.869)
//   adagrad    0.02           PyTorch's default 0.01 is a little slower (0.871, loss 0.345
//                             against 0.337); 0.05 is worse (0.865): its first step moves every
//                             weight by the whole learning rate
//   rmsprop    1e-3           Keras's default, and 3e-4 does as well (0.875 vs 0.873). PyTorch's
//                             default 1e-2 is far too large here (0.831, first-epoch loss 1.42):
//                             without bias correction its first steps are ~10x the rate
//   adadelta   0.25           the rate scales a self-tuned step; PyTorch's default 1.0 is slower
//                             (0.866, loss 0.372 against 0.348), 2.0 worse (0.861), 0.5 as good
//   adam       1e-3           the usual default (0.879)
//   adamw      1e-3           as adam (0.875); decoupled weight decay 0.01 matters little here
//   nadam      1e-3           PyTorch's default 2e-3 is a little worse (0.872 vs 0.880)
//
// What to look for (5 epochs on Fashion-MNIST)
//   The training-loss panel sorts the optimizers into groups that keep their order every epoch:
//   nadam lowest; adam, adamw, rmsprop and adagrad; adadelta; then nesterov, momentum and sgd
//   highest. The test-accuracy panel is noisier (one test set): a curve can dip by 0.01 for an
//   epoch (adam at epoch 4, in our runs) while its training loss still falls. After 5 epochs all
//   nine sit between 0.86 and 0.88; which one is on top changes with the seed.
//
// Exit status: 0 on success, 2 for a bad flag, 1 when the data cannot be read or an output file
// cannot be written.

#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include "common.hpp"
#include "svg.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ex = descent::examples;
namespace nn = descent::nn;
using descent::data::Dataset;

struct Contender {
  std::string_view name;
  double learning_rate;
  std::string_view dash;  ///< to tell apart curves that lie on top of each other
};

// The table in the comment at the top, with its reasons.
constexpr std::array<Contender, 9> contenders = {{
    {"sgd", 0.1, ""},
    {"momentum", 0.01, ""},
    {"nesterov", 0.01, "7 4"},
    {"adagrad", 0.02, ""},
    {"rmsprop", 1e-3, ""},
    {"adadelta", 0.25, ""},
    {"adam", 1e-3, ""},
    {"adamw", 1e-3, "7 4"},
    {"nadam", 1e-3, "2 3"},
}};

constexpr std::string_view usage_text =
    "usage: showdown [flags]\n"
    "  --epochs N          epochs per optimizer (default 3)\n"
    "  --data DIR          Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist;\n"
    "                      when that is missing, the synthetic spirals are used instead)\n"
    "  --out DIR           where to write showdown.csv and showdown.svg (default .)\n"
    "  --train-subset N    train on the first N training samples only\n"
    "  --optimizers a,b    which optimizers (default all nine)\n"
    "  --seed N            initial weights, dropout and shuffles (default 0)\n"
    "  --synthetic         use the synthetic spirals even when Fashion-MNIST is there\n";

struct Settings {
  int epochs = 3;
  std::filesystem::path data{std::string(ex::fashion_mnist_dir)};
  bool data_given = false;
  std::filesystem::path out = ".";
  Eigen::Index train_subset = 0;  // 0: all
  std::vector<const Contender*> chosen;
  std::uint64_t seed = 0;
  bool synthetic = false;
};

Settings parse(int argc, char** argv) {
  Settings s;
  ex::Args args(argc, argv);
  std::string names;
  while (!args.done()) {
    const std::string_view flag = args.flag();
    if (flag == "-h" || flag == "--help") {
      std::fputs(usage_text.data(), stdout);
      std::exit(0);
    } else if (flag == "--epochs") {
      s.epochs = static_cast<int>(args.integer(1, 10000));
    } else if (flag == "--data") {
      s.data = std::string(args.value());
      s.data_given = true;
    } else if (flag == "--out") {
      s.out = std::string(args.value());
      if (s.out.empty()) ex::flag_error(flag, "needs a directory name");
    } else if (flag == "--train-subset") {
      s.train_subset = args.integer(1);
    } else if (flag == "--optimizers") {
      names = args.value();
      if (ex::split_list(names).empty()) ex::flag_error(flag, "needs at least one optimizer");
    } else if (flag == "--seed") {
      s.seed = static_cast<std::uint64_t>(args.integer(0));
    } else if (flag == "--synthetic") {
      s.synthetic = true;
    } else {
      throw ex::UsageError("unknown flag '" + std::string(flag) + "' (see --help)");
    }
  }
  if (names.empty()) {
    for (const Contender& c : contenders) s.chosen.push_back(&c);
  }
  for (const std::string& name : ex::split_list(names)) {
    const auto it = std::find_if(contenders.begin(), contenders.end(),
                                 [&](const Contender& c) { return c.name == name; });
    if (it == contenders.end()) {
      std::string valid;
      for (const Contender& c : contenders) valid += (valid.empty() ? "" : ", ") + std::string(c.name);
      ex::flag_error("--optimizers", "unknown optimizer '" + name + "'; valid: " + valid);
    }
    if (std::find(s.chosen.begin(), s.chosen.end(), &*it) != s.chosen.end()) {
      ex::flag_error("--optimizers", "'" + name + "' is listed twice");
    }
    s.chosen.push_back(&*it);
  }
  return s;
}

// ---- the synthetic fallback: two interleaved spirals -------------------------------------

/// n points, classes alternating, on two spirals of 1.25 turns each (class 1 is class 0 turned by
/// half a circle), in [-1, 1]^2 with a little Gaussian noise. The radius is sqrt(uniform), so the
/// points lie about evenly along each arm instead of crowding the tightly wound centre.
Dataset<float> spirals(Eigen::Index n, std::mt19937_64& rng) {
  constexpr double turns = 1.25, noise = 0.04;
  std::uniform_real_distribution<double> uniform(0, 1);
  std::normal_distribution<double> gauss(0, noise);
  Dataset<float> d;
  d.x.resize(2, n);
  d.y.resize(1, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const int label = static_cast<int>(j % 2);
    const double r = std::sqrt(uniform(rng));  // radius in [0, 1]
    const double angle = 2 * std::numbers::pi * turns * r + label * std::numbers::pi;
    d.x(0, j) = static_cast<float>(r * std::cos(angle) + gauss(rng));
    d.x(1, j) = static_cast<float>(r * std::sin(angle) + gauss(rng));
    d.y(0, j) = static_cast<float>(label);
  }
  return d;
}

// ---- one run per optimizer ---------------------------------------------------------------

struct Run {
  const Contender* contender = nullptr;
  std::vector<nn::EpochLog> epochs;
  std::string failure;  ///< why training stopped early, if it did
  double seconds = 0;   ///< training time, all epochs (evaluation not included)
};

/// Keeps every epoch's log, so a run that fails half-way still has its first epochs.
struct Collect : nn::Callback {
  std::vector<nn::EpochLog>* epochs = nullptr;
  void on_epoch_end(nn::TrainingState& state) override { epochs->push_back(*state.last); }
};

Run train_one(const Contender& c, const nn::NetworkSpec& spec, const Settings& s,
              const Dataset<float>& train, const Dataset<float>& test) {
  Run run;
  run.contender = &c;
  nn::Sequential<float> net = nn::make_network<float>(spec, s.seed);  // same weights for all
  nn::Trainer<float> trainer({.optimizer = std::string(c.name),
                              .learning_rate = c.learning_rate,
                              .batch_size = 64,
                              .epochs = s.epochs,
                              .seed = s.seed});
  auto collect = std::make_shared<Collect>();
  collect->epochs = &run.epochs;
  trainer.add_callback(collect);
  try {
    trainer.fit(net, train, &test);
  } catch (const std::runtime_error& e) {  // the loss turned non-finite: report, go on with the rest
    run.failure = e.what();
    std::printf("  stopped: %s\n", e.what());
  }
  for (const auto& e : run.epochs) run.seconds += e.seconds;
  return run;
}

// ---- output ------------------------------------------------------------------------------

std::string format_lr(double lr) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", lr);
  return buf;
}

std::string csv(const std::vector<Run>& runs) {
  std::string text = "optimizer,learning_rate,epoch,loss,accuracy,test_loss,test_accuracy,seconds\n";
  for (const Run& r : runs) {
    for (const nn::EpochLog& e : r.epochs) {
      text += std::string(r.contender->name) + "," + ex::format_exact(r.contender->learning_rate) +
              "," + std::to_string(e.epoch) + "," + ex::format_exact(e.loss) + "," +
              ex::format_exact(e.accuracy) + "," + ex::format_exact(e.val_loss) + "," +
              ex::format_exact(e.val_accuracy) + "," + ex::format_exact(e.seconds) + "\n";
    }
  }
  return text;
}

std::string svg(const std::vector<Run>& runs, int epochs, bool dropout, const std::string& title) {
  std::vector<double> losses, accuracies;
  for (const Run& r : runs) {
    for (const auto& e : r.epochs) {
      losses.push_back(e.loss);
      accuracies.push_back(e.val_accuracy);
    }
  }
  const double pad = std::max(0.25, 0.04 * (epochs - 1));
  const ex::Range x{1 - pad, epochs + pad};
  std::vector<double> ticks;
  const int every = std::max(1, (epochs + 9) / 10);
  for (int e = 1; e <= epochs; e += every) ticks.push_back(e);

  const double plot_w = 440, plot_h = 340;
  ex::Figure loss(64 + plot_w + 40, 44 + plot_h + 56, x,
                  ex::padded_range(losses, 0.02, 0, std::numeric_limits<double>::infinity()),
                  {.left = 64, .right = 40, .top = 44, .bottom = 56});
  ex::Figure accuracy(64 + plot_w + 170, 44 + plot_h + 56, x, ex::padded_range(accuracies, 0.02, 0, 1),
                      {.left = 64, .right = 170, .top = 44, .bottom = 56});
  loss.set_title(dropout ? "Training loss (on the batches, dropout on)" : "Training loss (on the batches)");
  loss.set_axis_titles("epoch", "mean cross-entropy over the epoch");
  accuracy.set_title("Test accuracy after each epoch");
  accuracy.set_axis_titles("epoch", "accuracy on the test set");
  loss.set_x_ticks(ticks);
  accuracy.set_x_ticks(ticks);

  for (const Run& r : runs) {
    const auto k = static_cast<std::size_t>(r.contender - contenders.data());
    const ex::Stroke stroke{.color = ex::palette[k], .width = 2, .opacity = 0.9, .dash = r.contender->dash};
    const std::string name(r.contender->name);
    std::vector<ex::Point> loss_points, accuracy_points;
    for (const auto& e : r.epochs) {
      loss_points.push_back({double(e.epoch), e.loss});
      accuracy_points.push_back({double(e.epoch), e.val_accuracy});
    }
    loss.add_path(loss_points, stroke, "loss-" + name);
    accuracy.add_path(accuracy_points, stroke, "accuracy-" + name);
    for (const auto& p : loss_points) loss.add_marker(p, ex::Marker::circle, 2.6, ex::palette[k], {.width = 0});
    for (const auto& p : accuracy_points) {
      accuracy.add_marker(p, ex::Marker::circle, 2.6, ex::palette[k], {.width = 0});
    }
    accuracy.add_legend_entry(name + "  lr " + format_lr(r.contender->learning_rate) +
                                  (r.failure.empty() ? "" : "  (diverged)"),
                              stroke);
  }
  return ex::render_row({&loss, &accuracy}, title);
}

int run(const Settings& s) {
  // ---- data: Fashion-MNIST, or the spirals when it is not installed -------------------------
  std::error_code ec;
  const bool fallback = !s.synthetic && !s.data_given && !std::filesystem::exists(s.data, ec);
  const bool synthetic = s.synthetic || fallback;
  Dataset<float> train, test;
  nn::NetworkSpec spec;
  std::string what;
  if (synthetic) {
    const std::string reason =
        fallback ? "NO FASHION-MNIST: " + s.data.string() + " does not exist." : "--synthetic given.";
    const std::string rule(78, '*');
    std::printf("%s\n*** %s\n*** Running on a SYNTHETIC dataset instead: two interleaved spirals, 2 features,\n"
                "*** 2 classes, a 2-64-64-2 relu network. The numbers below are NOT Fashion-MNIST's.\n",
                rule.c_str(), reason.c_str());
    if (fallback) std::printf("*** For the real thing:  sudo apt-get install dataset-fashion-mnist\n");
    std::printf("%s\n\n", rule.c_str());
    std::mt19937_64 rng(s.seed ^ 0x5151ull);
    train = spirals(4000, rng);
    test = spirals(2000, rng);
    spec = {.inputs = 2, .outputs = 2, .hidden = {64, 64}, .activation = nn::Activation::relu, .dropout = 0};
    what = "synthetic spirals";
  } else {
    try {
      train = descent::data::load_mnist<float>(s.data, descent::data::Split::train);
      test = descent::data::load_mnist<float>(s.data, descent::data::Split::test);
    } catch (const descent::data::DataError& e) {
      std::fprintf(stderr, "showdown: %s\n%s\n", e.what(), ex::fashion_mnist_hint.data());
      return 1;
    }
    spec = {.inputs = 784, .outputs = 10, .hidden = {256, 128}, .activation = nn::Activation::relu, .dropout = 0.2};
    what = "Fashion-MNIST";
  }
  if (s.train_subset > 0) {
    if (s.train_subset > train.size()) {
      ex::flag_error("--train-subset", "must be at most " + std::to_string(train.size()) +
                                           " (the training samples), got " + std::to_string(s.train_subset));
    }
    train = descent::data::subset(train, s.train_subset);
  }
  try {
    std::filesystem::create_directories(s.out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "showdown: --out: cannot create '%s': %s\n", s.out.string().c_str(), e.what());
    return 1;
  }
  ex::require_writable_directory("--out", s.out);  // now, not after training

  std::string network = std::to_string(spec.inputs);
  for (const auto units : spec.hidden) network += "-" + std::to_string(units);
  network += "-" + std::to_string(spec.outputs) + " relu" +
             (spec.dropout > 0 ? ", dropout " + ex::format_exact(spec.dropout) : ", no dropout");
  std::printf("Showdown on %s: %zu optimizers, each trains the same %s network\n"
              "(same initial weights and shuffles, seed %llu), batch 64, %d epochs, on %lld samples;\n"
              "val_* and the test accuracy are measured on the %lld test samples.\n",
              what.c_str(), s.chosen.size(), network.c_str(), static_cast<unsigned long long>(s.seed),
              s.epochs, static_cast<long long>(train.size()), static_cast<long long>(test.size()));

  std::vector<Run> runs;
  for (const Contender* c : s.chosen) {
    std::printf("\n== %s, learning rate %s\n", std::string(c->name).c_str(), format_lr(c->learning_rate).c_str());
    std::fflush(stdout);
    runs.push_back(train_one(*c, spec, s, train, test));
  }

  // ---- the table ---------------------------------------------------------------------------
  std::printf("\n%s, %d epochs (test accuracy on the %lld test samples)\n", what.c_str(), s.epochs,
              static_cast<long long>(test.size()));
  std::printf("  %-10s %-14s %-12s %-14s %s\n", "optimizer", "learning_rate", "train loss",
              "test accuracy", "seconds");
  const Run* best = nullptr;
  for (const Run& r : runs) {
    const bool ok = r.failure.empty() && !r.epochs.empty();
    const std::string name(r.contender->name);
    if (!ok) {
      std::printf("  %-10s %-14s %-12s %-14s %.1f  diverged\n", name.c_str(),
                  format_lr(r.contender->learning_rate).c_str(), "-", "-", r.seconds);
      continue;
    }
    const nn::EpochLog& last = r.epochs.back();
    std::printf("  %-10s %-14s %-12.4f %-14.4f %.1f\n", name.c_str(),
                format_lr(r.contender->learning_rate).c_str(), last.loss, last.val_accuracy, r.seconds);
    if (!best || last.val_accuracy > best->epochs.back().val_accuracy) best = &r;
  }
  if (best) {
    std::printf("  best test accuracy: %s (%.4f)\n", std::string(best->contender->name).c_str(),
                best->epochs.back().val_accuracy);
  }
  const Run* lowest = nullptr;
  for (const Run& r : runs) {
    if (r.failure.empty() && !r.epochs.empty() &&
        (!lowest || r.epochs.back().loss < lowest->epochs.back().loss)) {
      lowest = &r;
    }
  }
  if (lowest) {
    std::printf("  lowest training loss: %s (%.4f)\n", std::string(lowest->contender->name).c_str(),
                lowest->epochs.back().loss);
  }

  // ---- files -------------------------------------------------------------------------------
  const std::filesystem::path csv_path = s.out / "showdown.csv", svg_path = s.out / "showdown.svg";
  const std::string title = (synthetic ? "SYNTHETIC spirals (no Fashion-MNIST): " : "Fashion-MNIST: ") +
                            std::to_string(runs.size()) + " optimizers, " + network + ", batch 64, seed " +
                            std::to_string(s.seed);
  try {
    ex::write_file_atomically(csv_path, csv(runs));
    ex::write_file_atomically(svg_path, svg(runs, s.epochs, spec.dropout > 0, title));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "showdown: %s\n", e.what());
    return 1;
  }
  std::printf("\nwrote %s and %s\n", csv_path.string().c_str(), svg_path.string().c_str());
  std::printf("look for: the training-loss panel orders the optimizers by how fast they fit; the\n"
              "test-accuracy panel says which of those gains carry over to unseen images (it is\n"
              "noisier: a dip of 0.01 for one epoch is common).\n");
  if (synthetic) std::printf("(reminder: SYNTHETIC data, not Fashion-MNIST)\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ex::guarded_main("showdown", [&] { return run(parse(argc, argv)); });
}
