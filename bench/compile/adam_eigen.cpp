// Eigen-only twin of adam.cpp (the README's Adam example): the same fit with PyTorch's Adam
// written by hand, the baseline its compile time is measured against.
#include <Eigen/Core>

#include <cmath>
#include <iostream>

int main() {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(100, 3);
  const Eigen::VectorXd y = x * Eigen::Vector3d(1.5, -2.0, 0.5);
  Eigen::VectorXd w = Eigen::VectorXd::Zero(3);

  const double lr = 0.05, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  Eigen::VectorXd m = Eigen::VectorXd::Zero(3), v = Eigen::VectorXd::Zero(3);
  for (int step = 1; step <= 2000; ++step) {
    const Eigen::VectorXd g = 2 * x.transpose() * (x * w - y) / 100;
    m = beta1 * m + (1 - beta1) * g;
    v = beta2 * v + (1 - beta2) * g.cwiseAbs2();
    const double c1 = 1 - std::pow(beta1, step), c2 = 1 - std::pow(beta2, step);
    w.array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + eps);
  }

  std::cout << "w = " << w.transpose() << "\n";  // close to 1.5 -2 0.5
}
