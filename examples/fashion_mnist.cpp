// fashion_mnist: trains one dense network on Fashion-MNIST and reports its test accuracy.
//
// What it shows
//   The whole library at work on a real dataset: the IDX loader, a network built from the
//   hyperparameters people tune (descent::nn::make_network), and the Trainer with any of the
//   optimizers. Every epoch prints the training loss and accuracy and, as val_*, the loss and
//   accuracy on the 10,000 test images; the last line gives the final test accuracy.
//
// How to run
//   sudo apt-get install dataset-fashion-mnist      # the data, into /usr/share/datasets/fashion-mnist
//   build/examples/fashion_mnist                    # 784-256-128-10 relu, dropout 0.2, Adam 1e-3,
//                                                   # batch 64, 10 epochs: about 0.88 on the test
//                                                   # set, in 20-40 s on one core
//   build/examples/fashion_mnist --optimizer sgd --learning-rate 0.1 --epochs 5 --json run.json
//   build/examples/fashion_mnist --checkpoint run.ckpt          # saved after every epoch; if
//   build/examples/fashion_mnist --checkpoint run.ckpt --resume run.ckpt   # it was killed, go on
//   build/examples/fashion_mnist --export-npy weights           # weights/0.weight.npy, ...
//   build/examples/fashion_mnist --help             # every flag
//
// What to look for
//   Test accuracy reaches 0.85 in the first epoch or two and levels off near 0.88 by epoch 6-10.
//   The training accuracy is measured on the batches with dropout on, so it trails the test
//   accuracy for the first five epochs or so. Try --dropout 0: the training loss falls well below
//   the test loss (0.22 against 0.33 after 10 epochs) while the test loss stalls from epoch 6,
//   the start of overfitting. --hidden none trains a linear model (about 0.84). For other
//   optimizers, showdown.cpp lists a learning rate that suits each.
//
// A resumed run ends with exactly the weights the uninterrupted run would have had, as long as it
// is given the same flags (--epochs may grow). A checkpoint from other flags is refused: another
// network (--hidden, --activation, --dropout), optimizer (--optimizer, --options), --loss,
// --batch-size, --seed or training set (--train-subset). Not checked: --init (the weights come
// from the checkpoint) and --threads (another count changes only the float summation order).
//
// Exit status: 0 on success, 2 for a bad flag or value (the message names the flag), 1 when the
// data cannot be read, a checkpoint cannot be read, written or used, the JSON cannot be written
// or training fails (e.g. the loss diverges).

#include <descent/data.hpp>
#include <descent/io.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include "fashion_mnist_data.hpp"

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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace ex = descent::examples;
namespace nn = descent::nn;
using descent::data::Dataset;

constexpr std::string_view usage_text =
    "usage: fashion_mnist [flags]\n"
    "  --data DIR            Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)\n"
    "  --optimizer NAME      sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw,\n"
    "                        nadam (default adam)\n"
    "  --learning-rate X     (default 1e-3)\n"
    "  --options K=V,...     other optimizer options, e.g. beta2=0.99,weight_decay=1e-4\n"
    "  --epochs N            (default 10)\n"
    "  --batch-size N        (default 64)\n"
    "  --hidden 256,128      units per hidden layer; none for a linear model (default 256,128)\n"
    "  --activation NAME     relu, leaky_relu, elu, gelu, sigmoid, tanh, ... (default relu)\n"
    "  --dropout P           after every hidden layer, in [0, 1) (default 0.2)\n"
    "  --init NAME           automatic (= pytorch: W and b from U(+-1/sqrt(fan_in))),\n"
    "                        pytorch, glorot_uniform, glorot_normal, he_uniform, he_normal\n"
    "                        (default automatic)\n"
    "  --loss NAME           cross_entropy, mse, mae, huber, binary_cross_entropy\n"
    "                        (default cross_entropy; the others train on one-hot targets)\n"
    "  --seed N              weights, dropout and shuffling (default 0)\n"
    "  --threads N           threads for the layers' matrix products (default 1)\n"
    "  --train-subset N      train on the first N training images only\n"
    "  --json FILE           write the settings, results and per-epoch history as JSON\n"
    "  --checkpoint FILE     save the network, optimizer and training position after every epoch\n"
    "  --resume FILE         go on from a checkpoint until --epochs in total; give the flags it\n"
    "                        was saved with (its learning rate wins, a schedule may have set it)\n"
    "  --export-npy DIR      write every layer's weight and bias as NumPy .npy files to DIR\n";

struct Settings {
  std::filesystem::path data{std::string(ex::fashion_mnist_dir)};
  std::string optimizer = "adam";
  double learning_rate = 1e-3;
  std::string options;
  int epochs = 10;
  Eigen::Index batch_size = 64;
  std::vector<Eigen::Index> hidden = {256, 128};
  nn::Activation activation = nn::Activation::relu;
  double dropout = 0.2;
  nn::Init init = nn::Init::automatic;
  nn::Loss loss = nn::Loss::cross_entropy;
  std::uint64_t seed = 0;
  int threads = 1;
  Eigen::Index train_subset = 0;  // 0: all
  std::filesystem::path json;
  std::filesystem::path checkpoint, resume, export_npy;
};

/// Reads and checks every flag before any data is loaded. Throws ex::UsageError.
Settings parse(int argc, char** argv) {
  Settings s;
  ex::Args args(argc, argv);
  while (!args.done()) {
    const std::string_view flag = args.flag();
    if (flag == "-h" || flag == "--help") {
      std::fputs(usage_text.data(), stdout);
      std::exit(0);
    } else if (flag == "--data") {
      s.data = std::string(args.value());
    } else if (flag == "--optimizer") {
      s.optimizer = args.value();
    } else if (flag == "--learning-rate") {
      s.learning_rate = args.real();
    } else if (flag == "--options") {
      s.options = args.value();
    } else if (flag == "--epochs") {
      s.epochs = static_cast<int>(args.integer(0, 1000000));
    } else if (flag == "--batch-size") {
      s.batch_size = args.integer(1);
    } else if (flag == "--hidden") {
      const std::string_view v = args.value();
      s.hidden = ex::checked_flag(flag, [&] { return nn::parse_hidden(v); });
    } else if (flag == "--activation") {
      const std::string_view v = args.value();
      s.activation = ex::checked_flag(flag, [&] { return nn::activation_from_string(v); });
    } else if (flag == "--dropout") {
      s.dropout = args.real();
      if (!(s.dropout >= 0 && s.dropout < 1)) {
        ex::flag_error(flag, "must be in [0, 1), got " + ex::format_exact(s.dropout));
      }
    } else if (flag == "--init") {
      s.init = ex::checked_flag(flag, [&] { return nn::init_from_string(args.value()); });
    } else if (flag == "--loss") {
      const std::string_view v = args.value();
      s.loss = ex::checked_flag(flag, [&] { return nn::loss_from_string(v); });
    } else if (flag == "--seed") {
      s.seed = static_cast<std::uint64_t>(args.integer(0));
    } else if (flag == "--threads") {
      s.threads = static_cast<int>(args.integer(1, 1024));
    } else if (flag == "--train-subset") {
      s.train_subset = args.integer(1);
    } else if (flag == "--json") {
      s.json = std::string(args.value());
      ex::require_writable_file(flag, s.json);
    } else if (flag == "--checkpoint") {
      s.checkpoint = std::string(args.value());
      ex::require_writable_file(flag, s.checkpoint);
    } else if (flag == "--resume") {
      s.resume = std::string(args.value());
      if (s.resume.empty()) ex::flag_error(flag, "needs a file name");
    } else if (flag == "--export-npy") {
      s.export_npy = std::string(args.value());
      ex::require_creatable_directory(flag, s.export_npy);  // now, not after training
    } else {
      throw ex::UsageError("unknown flag '" + std::string(flag) + "' (see --help)");
    }
  }

  // The network's size, counted before any memory is taken (a size that fits in memory is
  // checked when the network is built, before the data is loaded).
  ex::checked_flag("--hidden", [&] { return nn::parameter_count({784, 10, s.hidden}); });

  // The optimizer, its options and the learning rate, each checked by the library itself.
  ex::checked_flag("--optimizer", [&] { return descent::make_optimizer<float>(s.optimizer); });
  ex::checked_flag("--options", [&] { return descent::make_optimizer<float>(s.optimizer, s.options); });
  for (const std::string& item : ex::split_list(s.options)) {
    if (item.substr(0, item.find('=')).find("learning_rate") != std::string::npos) {
      ex::flag_error("--options", "give the learning rate with --learning-rate, not here");
    }
  }
  ex::checked_flag("--learning-rate", [&] {  // what is left for the Trainer to refuse
    return nn::Trainer<float>(
        {.optimizer = s.optimizer, .learning_rate = s.learning_rate, .optimizer_options = s.options});
  });
  return s;
}

/// "784 -> 256 relu, dropout 0.2 -> 128 relu, dropout 0.2 -> 10"
std::string describe(const Settings& s) {
  std::string text = "784";
  for (const Eigen::Index units : s.hidden) {
    text += " -> " + std::to_string(units) + " " + std::string(nn::to_string(s.activation));
    if (s.dropout > 0) text += ", dropout " + ex::format_exact(s.dropout);
  }
  return text + " -> 10";
}

/// Fraction of columns whose largest output is the label (labels: 1 x n class indices).
double argmax_accuracy(const Eigen::MatrixXf& outputs, const Eigen::MatrixXf& labels) {
  Eigen::Index correct = 0;
  for (Eigen::Index j = 0; j < outputs.cols(); ++j) {
    Eigen::Index predicted = 0;
    outputs.col(j).maxCoeff(&predicted);
    correct += predicted == static_cast<Eigen::Index>(labels(0, j)) ? 1 : 0;
  }
  return double(correct) / double(outputs.cols());
}

std::string json_report(const Settings& s, const nn::History& history, double test_loss,
                        double test_accuracy, const std::vector<double>& test_accuracies,
                        double train_seconds, double samples_per_second, Eigen::Index train_size,
                        Eigen::Index test_size) {
  std::string hidden = "[";
  for (std::size_t i = 0; i < s.hidden.size(); ++i) {
    hidden += (i ? ", " : "") + std::to_string(s.hidden[i]);
  }
  hidden += "]";
  const double final_loss = history.epochs.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                   : history.epochs.back().loss;
  const bool ce = s.loss == nn::Loss::cross_entropy;
  std::string j = "{\n";
  const auto field = [&](std::string_view key, const std::string& value, bool last = false) {
    j += "  " + ex::json_string(key) + ": " + value + (last ? "\n" : ",\n");
  };
  field("optimizer", ex::json_string(s.optimizer));
  field("optimizer_options", ex::json_string(s.options));
  field("learning_rate", ex::json_number(s.learning_rate));
  field("epochs", std::to_string(s.epochs));
  field("batch_size", std::to_string(s.batch_size));
  field("hidden", hidden);
  field("activation", ex::json_string(nn::to_string(s.activation)));
  field("dropout", ex::json_number(s.dropout));
  field("init", ex::json_string(nn::to_string(s.init)));
  field("loss", ex::json_string(nn::to_string(s.loss)));
  field("seed", std::to_string(s.seed));
  field("threads", std::to_string(s.threads));
  field("train_samples", std::to_string(train_size));
  field("test_samples", std::to_string(test_size));
  field("test_accuracy", ex::json_number(test_accuracy));
  field("test_loss", ex::json_number(test_loss));
  field("final_train_loss", ex::json_number(final_loss));
  field("train_seconds", ex::json_number(train_seconds));
  field("samples_per_second", ex::json_number(samples_per_second));
  std::string epochs = "[";
  for (std::size_t i = 0; i < history.epochs.size(); ++i) {
    const nn::EpochLog& e = history.epochs[i];
    epochs += std::string(i ? "," : "") + "\n    {\"epoch\": " + std::to_string(e.epoch) +
              ", \"loss\": " + ex::json_number(e.loss) +
              ", \"accuracy\": " + ex::json_number(ce ? e.accuracy : std::nan("")) +
              ", \"test_loss\": " + ex::json_number(e.val_loss) +
              ", \"test_accuracy\": " + ex::json_number(test_accuracies.at(i)) +
              ", \"seconds\": " + ex::json_number(e.seconds) + "}";
  }
  field("history", epochs + "\n  ]", true);
  return j + "}\n";
}

int run(const Settings& s) {
  Eigen::setNbThreads(s.threads);  // Eigen's own products, in builds with OpenMP

  // The network first: a --hidden whose weights do not fit in memory is refused before anything
  // is read.
  nn::Sequential<float> net = ex::checked_flag("--hidden", [&] {
    return nn::make_network<float>({784, 10, s.hidden, s.activation, s.dropout, s.init}, s.seed);
  });

  // A damaged or missing checkpoint is reported now; whether it fits these flags is checked as
  // soon as the trainer exists, also before the data is loaded.
  int resumed_epochs = 0;
  if (!s.resume.empty()) {
    try {
      const auto c = descent::io::read_checkpoint<float>(s.resume);
      if (!c.position) {
        std::fprintf(stderr, "fashion_mnist: --resume: '%s' was not saved by --checkpoint "
                     "(it holds no training position)\n", s.resume.string().c_str());
        return 1;
      }
      resumed_epochs = c.position->epoch;
    } catch (const descent::io::CheckpointError& e) {
      std::fprintf(stderr, "fashion_mnist: --resume: %s\n", e.what());
      return 1;
    }
  }

  // ---- trainer: a checkpoint that does not fit these flags is refused before the data is read --
  Dataset<float> train, test;  // loaded below; the test-accuracy callback points at them
  Eigen::MatrixXf test_labels;
  nn::Trainer<float> trainer({.optimizer = s.optimizer,
                              .learning_rate = s.learning_rate,
                              .optimizer_options = s.options,
                              .loss = s.loss,
                              .batch_size = s.batch_size,
                              .epochs = s.epochs,
                              .seed = s.seed,
                              .threads = s.threads});  // the layers' matrix products

  // Test accuracy after every epoch, always as argmax(outputs) == label, whatever the loss.
  struct TestAccuracy : nn::Callback {
    nn::Sequential<float>* net;
    const nn::Trainer<float>* trainer;
    const Dataset<float>* test;
    const Eigen::MatrixXf* labels;
    std::vector<double> values;
    void on_epoch_end(nn::TrainingState&) override {
      values.push_back(argmax_accuracy(trainer->predict(*net, test->x), *labels));
    }
    // The accuracies of the epochs before a checkpoint travel with it, for the JSON history.
    std::vector<double> save_state() const override { return values; }
    void load_state(const std::vector<double>& state) override { values = state; }
  };
  auto test_accuracy = std::make_shared<TestAccuracy>();
  test_accuracy->net = &net;
  test_accuracy->trainer = &trainer;
  test_accuracy->test = &test;
  test_accuracy->labels = &test_labels;
  trainer.add_callback(test_accuracy);
  if (!s.checkpoint.empty()) descent::io::save_every_epoch(trainer, s.checkpoint);
  if (!s.resume.empty()) {
    try {
      descent::io::load_checkpoint(s.resume, net, trainer);
    } catch (const descent::io::CheckpointError& e) {
      std::fprintf(stderr, "fashion_mnist: --resume: %s\n(resume with the flags the checkpoint "
                   "was saved with; only --epochs may change)\n", e.what());
      return 1;
    }
  }

  // ---- data -------------------------------------------------------------------------------
  auto data = ex::load_fashion_mnist<float>(s.data, s.train_subset);
  train = std::move(data.train);
  test = std::move(data.test);
  test_labels = test.y;
  if (s.loss != nn::Loss::cross_entropy) {  // the other losses compare 10 outputs to one-hot rows
    train.y = descent::data::one_hot(train.y, 10);
    test.y = descent::data::one_hot(test.y, 10);
  }

  ex::checked_flag("--batch-size", [&] {  // the layers' buffers for one batch
    net.reserve(std::min(s.batch_size, train.size()));
    return 0;
  });

  std::printf("Fashion-MNIST from %s: training on %lld images, testing on the %lld test images\n",
              s.data.string().c_str(), static_cast<long long>(train.size()),
              static_cast<long long>(test.size()));
  std::printf("network    %s  (%lld parameters, float, %s init)\n", describe(s).c_str(),
              static_cast<long long>(net.parameter_count()), nn::to_string(s.init).data());
  std::printf("training   %s, learning rate %g%s%s, batch %lld, %d epochs, loss %s, seed %llu, "
              "%d thread%s\n",
              s.optimizer.c_str(), s.learning_rate, s.options.empty() ? "" : ", ", s.options.c_str(),
              static_cast<long long>(s.batch_size), s.epochs, std::string(nn::to_string(s.loss)).c_str(),
              static_cast<unsigned long long>(s.seed), s.threads, s.threads == 1 ? "" : "s");
  std::printf("(val_loss and val_accuracy below are measured on the %lld test images)\n",
              static_cast<long long>(test.size()));
  if (!s.resume.empty()) {
    std::printf("resuming from %s: %d of %d epochs done\n", s.resume.string().c_str(),
                resumed_epochs, s.epochs);
  }
  if (!s.checkpoint.empty()) {
    std::printf("saving a checkpoint to %s after every epoch\n", s.checkpoint.string().c_str());
  }
  if (s.loss == nn::Loss::binary_cross_entropy) {
    std::printf("(with binary_cross_entropy the per-epoch accuracies score each of the 10 outputs on\n"
                "its own; the final test accuracy below is the usual one, argmax == label)\n");
  }
  std::printf("\n");
  std::fflush(stdout);

  const nn::History history = trainer.fit(net, train, &test);

  // ---- results ----------------------------------------------------------------------------
  const nn::Evaluation final_eval = trainer.evaluate(net, test);
  const double accuracy = argmax_accuracy(trainer.predict(net, test.x), test_labels);
  double train_seconds = 0;
  for (const auto& e : history.epochs) train_seconds += e.seconds;
  const double samples = double(train.size()) * double(history.epochs.size());
  const double per_second = train_seconds > 0 ? samples / train_seconds : 0;

  std::printf("\n==> test accuracy %.4f on the %lld Fashion-MNIST test images (test loss %.4f)\n",
              accuracy, static_cast<long long>(test.size()), final_eval.loss);
  std::printf("    %s lr %g, %zu epochs, %.1f s of training, %.0f samples/s\n", s.optimizer.c_str(),
              s.learning_rate, history.epochs.size(), train_seconds, per_second);

  if (!s.export_npy.empty()) {
    const auto files = descent::io::export_npy(net, s.export_npy);
    std::printf("    wrote %zu .npy files to %s (numpy.load(\"%s\"), ...)\n", files.size(),
                s.export_npy.string().c_str(), files.front().string().c_str());
  }
  if (!s.json.empty()) {
    try {
      ex::write_file_atomically(s.json, json_report(s, history, final_eval.loss, accuracy,
                                                    test_accuracy->values, train_seconds, per_second,
                                                    train.size(), test.size()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fashion_mnist: --json: %s\n", e.what());
      return 1;
    }
    std::printf("    wrote %s\n", s.json.string().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ex::guarded_main("fashion_mnist", [&] { return run(parse(argc, argv)); });
}
