// Your own layers, in a network beside descent's. examples/custom_layers.hpp writes two that
// descent does not ship, each a class derived from descent::nn::Module with its derivative in the
// comments: a residual dense block, y = x + relu(W x + b), and Gaussian noise. This program
//   1. checks both backward passes against finite differences (descent::nn::check_gradients),
//   2. trains a Fashion-MNIST network with them through the Trainer, their parameters in the
//      network's arena with Dense's (one optimizer pass over all of them).
//
//   ./build/examples/custom_layer                          # 5 epochs on all 60,000 images
//   ./build/examples/custom_layer --epochs 1 --train-subset 5000

#include "custom_layers.hpp"
#include "fashion_mnist_data.hpp"

#include <descent/nn.hpp>

#include <cstdio>
#include <string>

namespace ex = descent::examples;
using descent::nn::Activation;
using descent::nn::Dense;
using descent::nn::Loss;

struct Settings {
  int epochs = 5;
  Eigen::Index train_subset = 0;
  std::string data{ex::fashion_mnist_dir};
};

Settings parse(int argc, char** argv) {
  Settings s;
  ex::Args args(argc, argv);
  while (!args.done()) {
    const auto flag = args.flag();
    if (flag == "--epochs") {
      s.epochs = int(args.integer(1, 1000));
    } else if (flag == "--train-subset") {
      s.train_subset = args.integer(1);
    } else if (flag == "--data") {
      s.data = std::string(args.value());
    } else {
      ex::flag_error(flag, "unknown flag (known: --epochs N, --train-subset N, --data DIR)");
    }
  }
  return s;
}

/// Both layers in a small double network, in training mode (so the noise is on), against
/// central differences. Returns whether both errors are below 1e-6.
bool gradients_check_out() {
  descent::nn::Sequential<double> net(6, /*seed=*/1);
  net.add(Dense{5}).add(mylab::ResidualDense<double>{}).add(Activation::tanh);
  net.add(mylab::GaussianNoise<double>(0.1)).add(Dense{3});
  net.set_training(true);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(6, 10);
  Eigen::MatrixXd labels(1, 10);
  for (int j = 0; j < 10; ++j) labels(0, j) = j % 3;
  const auto check = descent::nn::check_gradients(net, x, labels, Loss::cross_entropy);
  std::printf("gradient check: parameters %.1e, inputs %.1e (relative to the largest entry)\n",
              check.parameters, check.inputs);
  return check.parameters < 1e-6 && check.inputs < 1e-6;
}

int run(const Settings& s) {
  if (!gradients_check_out()) {
    std::printf("a backward pass does not match its finite differences\n");
    return 1;
  }

  const auto [train, test] = ex::load_fashion_mnist<float>(s.data, s.train_subset);

  descent::nn::Sequential<float> net(784, /*seed=*/3);
  net.add(Dense{128}).add(Activation::relu);
  net.add(mylab::ResidualDense<float>{}).add(mylab::GaussianNoise<float>(0.1));
  net.add(Dense{10});
  std::printf("\n%s\n", net.summary().c_str());

  using Trainer = descent::nn::Trainer<float>;
  Trainer trainer({.optimizer = "adam",
                   .learning_rate = 1e-3,
                   .batch_size = 64,
                   .epochs = s.epochs,
                   .progress = Trainer::Progress::lines});
  trainer.fit(net, train);
  const auto [loss, accuracy] = trainer.evaluate(net, test);
  std::printf("test loss %.4f, accuracy %.4f\n", loss, accuracy);
  return 0;
}

int main(int argc, char** argv) {
  return ex::guarded_main("custom_layer", [&] { return run(parse(argc, argv)); });
}
