#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// Stochastic gradient descent, the plain step down the gradient.
///
///   g_t = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   param <- param - learning_rate * g_t
///
/// Defaults: learning_rate 1e-3, weight_decay 0, maximize false (torch.optim.SGD with momentum=0).
/// Robbins & Monro, "A Stochastic Approximation Method", 1951.
template <RealScalar T>
class SGD {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "sgd";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "SGD";

  /// Hyperparameters; the defaults are PyTorch's.
  struct Options {
    Scalar learning_rate = Scalar(1e-3);  ///< step size (PyTorch's lr), >= 0
    Scalar weight_decay = Scalar(0);      ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;                ///< step up the gradient (maximize the objective)
  };

  /// SGD keeps no moments; the step count is there so every State looks alike.
  struct State {
    std::int64_t step = 0;  ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() { return std::tuple{detail::field("step", &State::step)}; }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is negative or not finite.
  explicit SGD(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for any tensor (SGD keeps no per-element state).
  template <class Param>
  State init(const Eigen::DenseBase<Param>&) const {
    return {};
  }

  /// One update of `param` in place from `grad`, split over `team`'s threads if one is given;
  /// throws std::invalid_argument if their shapes differ.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    detail::check_step<Scalar, Param>(class_name, param, grad);
    detail::for_each_chunk(team, param, grad, next_update(state));
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    ++state.step;
    const Scalar lr = m_options.learning_rate;
    return detail::with_maximize(
        m_options.maximize, detail::with_l2_decay(m_options.weight_decay,
                                                  [lr](auto&& p, const auto& g) { p -= lr * g; }));
  }

  Options m_options;
};

}  // namespace descent
