// Your own optimizer, used everywhere descent's are. AdaBelief (examples/adabelief.hpp, one short
// file) is registered by name and then trains a network on Fashion-MNIST through the Trainer,
// exactly as "adam" would: picked by name with its options as text, checkpointed every epoch, and
// resumed bit for bit. A callback of our own watches it: the size of each layer's update against
// the size of its weights, per epoch (a diagnostic people use to pick learning rates; around
// 1e-3 per step is the usual healthy range).
//
//   ./build/examples/custom_optimizer                          # 5 epochs on all 60,000 images
//   ./build/examples/custom_optimizer --epochs 2 --train-subset 5000
//
// The run: train the first epochs with a checkpoint after each, then a fresh network and Trainer
// load the checkpoint and finish; the same run straight through must end with the very same
// weights.

#include "adabelief.hpp"
#include "fashion_mnist_data.hpp"

#include <descent/io.hpp>
#include <descent/nn.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ex = descent::examples;
using descent::nn::Sequential;
using descent::nn::Trainer;
using descent::nn::TrainingState;

/// Logs ||W_end - W_begin|| / ||W_begin|| for every Dense layer's weights at the end of each
/// epoch, and that ratio per step. A Callback sees only the TrainingState; it reaches the network
/// through the reference it is given.
class UpdateRatioLog : public descent::nn::Callback {
 public:
  explicit UpdateRatioLog(const Sequential<float>& net) : m_net(net) {}

  void on_epoch_begin(TrainingState& state) override {
    m_before = m_net.parameters();
    m_first_step = state.step;
  }
  void on_epoch_end(TrainingState& state) override {
    const auto steps = double(std::max<std::int64_t>(1, state.step - m_first_step));
    std::printf("  epoch %d update/weight per layer:", state.epoch);
    Eigen::Index offset = 0, width = m_net.inputs();  // the arena: W1, b1, W2, b2, ...
    for (std::size_t i = 0; i < m_net.layer_count(); ++i) {
      const auto* dense = std::get_if<descent::nn::Dense>(&m_net.layer(i));
      if (dense == nullptr) continue;  // activations and dropout have no parameters
      const Eigen::Index n = dense->units * width;
      const auto before = m_before.segment(offset, n).matrix();
      const auto after = m_net.parameters().segment(offset, n).matrix();
      const double ratio = double((after - before).norm() / before.norm());
      std::printf("  %.2e (%.1e/step)", ratio, ratio / steps);
      offset += n + dense->units;
      width = dense->units;
    }
    std::printf("\n");
  }

 private:
  const Sequential<float>& m_net;
  descent::Buffer<float> m_before;
  std::int64_t m_first_step = 0;
};

struct Settings {
  int epochs = 5;
  Eigen::Index train_subset = 0;
  std::string data{ex::fashion_mnist_dir};
  std::string checkpoint = "custom_optimizer.ckpt";
};

Settings parse(int argc, char** argv) {
  Settings s;
  ex::Args args(argc, argv);
  while (!args.done()) {
    const auto flag = args.flag();
    if (flag == "--epochs") {
      s.epochs = int(args.integer(2, 1000));
    } else if (flag == "--train-subset") {
      s.train_subset = args.integer(1);
    } else if (flag == "--data") {
      s.data = std::string(args.value());
    } else if (flag == "--checkpoint") {
      s.checkpoint = std::string(args.value());
    } else {
      ex::flag_error(flag,
                     "unknown flag (known: --epochs N >= 2, --train-subset N, --data DIR, "
                     "--checkpoint FILE)");
    }
  }
  ex::require_writable_file("--checkpoint", s.checkpoint);
  return s;
}

Trainer<float>::Options trainer_options(int epochs) {
  return {.optimizer = "adabelief",  // by name, like any built-in one
          .learning_rate = 1e-3,
          .optimizer_options = "epsilon=1e-12,weight_decay=1e-4",
          .batch_size = 64,
          .epochs = epochs,
          .seed = 7,
          .progress = Trainer<float>::Progress::lines};
}

Sequential<float> network() {
  return descent::nn::make_network<float>({.inputs = 784, .outputs = 10, .hidden = {128}}, 1);
}

int run(const Settings& s) {
  descent::register_optimizer<mylab::AdaBelief>();

  const auto [train, test] = ex::load_fashion_mnist<float>(s.data, s.train_subset);

  std::printf("== straight: %d epochs of AdaBelief\n", s.epochs);
  auto straight_net = network();
  Trainer<float> straight(trainer_options(s.epochs));
  straight.add_callback(std::make_shared<UpdateRatioLog>(straight_net));
  straight.fit(straight_net, train);
  const auto [loss, accuracy] = straight.evaluate(straight_net, test);
  std::printf("test loss %.4f, accuracy %.4f\n", loss, accuracy);

  const int first = s.epochs / 2;
  std::printf("\n== interrupted: %d epoch%s, a checkpoint after each\n", first,
              first == 1 ? "" : "s");
  {
    auto net = network();
    Trainer<float> trainer(trainer_options(first));
    trainer.add_callback(std::make_shared<UpdateRatioLog>(net));
    descent::io::save_every_epoch(trainer, s.checkpoint);
    trainer.fit(net, train);
  }
  std::printf("\n== resumed from %s in a fresh network and Trainer\n", s.checkpoint.c_str());
  auto net = network();
  Trainer<float> trainer(trainer_options(s.epochs));
  trainer.add_callback(std::make_shared<UpdateRatioLog>(net));
  descent::io::load_checkpoint(s.checkpoint, net, trainer);
  trainer.fit(net, train);
  std::filesystem::remove(s.checkpoint);

  const bool same = (net.parameters() == straight_net.parameters()).all();
  std::printf("\nresumed run: %s the straight run's weights\n",
              same ? "bit-identical to" : "DIFFERENT from");
  return same ? 0 : 1;
}

int main(int argc, char** argv) {
  return ex::guarded_main("custom_optimizer", [&] { return run(parse(argc, argv)); });
}
