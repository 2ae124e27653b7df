#include <descent/optim.hpp>
#include <iostream>

int main() {
  // Fit y = X w to noiseless data: the gradient of the mean squared error is 2 X^T (X w - y) / n.
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(100, 3);
  const Eigen::VectorXd y = x * Eigen::Vector3d(1.5, -2.0, 0.5);
  Eigen::VectorXd w = Eigen::VectorXd::Zero(3);

  descent::Adam<double> adam({.learning_rate = 0.05});
  auto state = adam.init(w);
  for (int step = 0; step < 2000; ++step) adam.step(w, 2 * x.transpose() * (x * w - y) / 100, state);

  std::cout << "w = " << w.transpose() << "\n";  // close to 1.5 -2 0.5
}
