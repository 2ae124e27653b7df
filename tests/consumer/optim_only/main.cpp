// An optimizer-only program built against the installed descent::descent, with zlib and SQLite
// out of CMake's reach (tests/consumer/run.cmake): one Adam step, checked by hand.
#include <descent/optim.hpp>

#if defined(ZLIB_VERSION) || defined(SQLITE_VERSION)
#error "<descent/optim.hpp> includes zlib or SQLite"
#endif

#include <cmath>
#include <cstdio>

int main() {
  const descent::Adam<double> adam({.learning_rate = 0.1});
  Eigen::VectorXd param = Eigen::VectorXd::Constant(3, 1.0);
  auto state = adam.init(param);
  adam.step(param, Eigen::VectorXd::Constant(3, 2.0), state);
  // Adam's first step moves each weight by the learning rate against the gradient's sign.
  if (std::abs(param(0) - 0.9) > 1e-6) {
    std::printf("after one Adam step the weight is %.17g, not 0.9\n", param(0));
    return 1;
  }
  std::printf("optim_only: one Adam step to %.6g\n", param(0));
}
