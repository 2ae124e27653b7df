#include <descent/nn.hpp>
#include <iostream>

int main() {
  // y = 1 when a point lies inside the unit circle: not linearly separable.
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(2, 2000) * 1.5f;
  Eigen::MatrixXf y = (x.colwise().norm().array() < 1).cast<float>();
  struct { Eigen::MatrixXf x, y; } data{x, y};

  auto net = descent::nn::make_network<float>({.inputs = 2, .outputs = 2, .hidden = {32, 32},
                                               .dropout = 0}, /*seed=*/0);
  descent::nn::Trainer<float> trainer({.optimizer = "adam", .learning_rate = 0.01,
                                       .batch_size = 32, .epochs = 20,
                                       .progress = descent::nn::Trainer<float>::Progress::none});
  trainer.fit(net, data);
  std::cout << "accuracy " << trainer.evaluate(net, data).accuracy << "\n";  // about 0.98
}
