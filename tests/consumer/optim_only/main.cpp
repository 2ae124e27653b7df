// An optimizer-only program built against the installed descent::descent, with zlib and SQLite
// out of CMake's reach (tests/consumer/run.cmake): one Adam step, checked by hand, and a runtime
// optimizer's state saved to a file and loaded back, without any of descent::nn.
#include <descent/io/optimizer_state.hpp>
#include <descent/optim.hpp>

#if defined(ZLIB_VERSION) || defined(SQLITE_VERSION)
#error "<descent/optim.hpp> or <descent/io/optimizer_state.hpp> includes zlib or SQLite"
#endif

// Were any descent::nn header included, these would clash with its class templates.
namespace descent::nn {
struct Sequential;
struct Trainer;
}  // namespace descent::nn

#include <cmath>
#include <cstdio>
#include <filesystem>

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

  Eigen::VectorXd w = Eigen::VectorXd::Ones(3), g = Eigen::VectorXd::Ones(3);
  auto opt = descent::make_optimizer<double>("adam");
  opt.add_param_group({descent::parameter(w, g, "w")});
  opt.step();
  const auto path = std::filesystem::temp_directory_path() / "descent_optim_only.state";
  descent::io::save_optimizer(path, opt);
  auto again = descent::make_optimizer<double>("adam");
  again.add_param_group({descent::parameter(w, g, "w")});
  descent::io::load_optimizer(path, again);
  std::filesystem::remove(path);
  if (again.state_dict().scalars.at("0.w.step") != 1) {
    std::printf("the loaded optimizer state is not the saved one\n");
    return 1;
  }
  std::printf("optim_only: one Adam step to %.6g; optimizer state saved and loaded\n", param(0));
}
