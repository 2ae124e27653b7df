// adam.cpp with the optimizer made by name (the runtime Optimizer of make_optimizer).
#include <descent/optim.hpp>
#include <iostream>

int main() {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(100, 3);
  const Eigen::VectorXd y = x * Eigen::Vector3d(1.5, -2.0, 0.5);
  Eigen::VectorXd w = Eigen::VectorXd::Zero(3);
  Eigen::VectorXd g = Eigen::VectorXd::Zero(3);

  auto opt = descent::make_optimizer<double>("adam", "learning_rate=0.05");
  opt.add_param_group({descent::parameter(w, g)});
  for (int step = 0; step < 2000; ++step) {
    g = 2 * x.transpose() * (x * w - y) / 100;
    opt.step();
  }

  std::cout << "w = " << w.transpose() << "\n";  // close to 1.5 -2 0.5
}
