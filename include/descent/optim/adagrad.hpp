#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// AdaGrad: per-coordinate step sizes that shrink with the sum of squared gradients seen so far.
///
///   g_t    = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   lr_t   = learning_rate / (1 + (t - 1) * lr_decay)
///   s_t    = s_{t-1} + g_t^2,    s_0 = initial_accumulator
///   param <- param - lr_t * g_t / (sqrt(s_t) + epsilon)   (epsilon outside the sqrt)
///
/// Defaults: learning_rate 1e-2, lr_decay 0, initial_accumulator 0, epsilon 1e-10,
/// weight_decay 0, maximize false (torch.optim.Adagrad). Duchi, Hazan & Singer, "Adaptive
/// Subgradient Methods for Online Learning and Stochastic Optimization", JMLR 2011.
template <RealScalar T>
class AdaGrad {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "adagrad";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "AdaGrad";

  /// Hyperparameters; the defaults are those of torch.optim.Adagrad.
  struct Options {
    Scalar learning_rate = Scalar(1e-2);     ///< step size (PyTorch's lr), >= 0
    Scalar lr_decay = Scalar(0);             ///< decay of the step size (lr_t above), >= 0
    Scalar initial_accumulator = Scalar(0);  ///< initial sum (initial_accumulator_value), >= 0
    Scalar epsilon = Scalar(1e-10);          ///< added to sqrt(sum) (PyTorch's eps), > 0
    Scalar weight_decay = Scalar(0);         ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;                   ///< step up the gradient (maximize the objective)
  };

  /// Per tensor: the sum of squared gradients and the step count.
  struct State {
    Buffer<Scalar> sum;     ///< running sum of squared gradients
    std::int64_t step = 0;  ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step), detail::field("sum", &State::sum)};
    }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("lr_decay", &Options::lr_decay),
                      detail::field("initial_accumulator", &Options::initial_accumulator),
                      detail::field("epsilon", &Options::epsilon),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit AdaGrad(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_nonnegative(class_name, "lr_decay", options.lr_decay);
    detail::require_nonnegative(class_name, "initial_accumulator", options.initial_accumulator);
    detail::require_positive(class_name, "epsilon", options.epsilon);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: the sum filled with initial_accumulator, step 0.
  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {Buffer<Scalar>::Constant(param.size(), m_options.initial_accumulator), 0};
  }

  /// One update of `param` in place from `grad`, advancing `state`, split over `team`'s threads
  /// if one is given; throws std::invalid_argument if the shapes or the state's sizes do not match.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    detail::check_step<Scalar, Param>(class_name, param, grad);
    detail::check_buffer(class_name, "sum", state.sum, param.size());
    detail::for_each_chunk(team, param, grad, next_update(state), state.sum.data());
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    const std::int64_t t = ++state.step;
    const auto lr = static_cast<Scalar>(double(m_options.learning_rate) /
                                        (1.0 + double(t - 1) * double(m_options.lr_decay)));
    const Scalar eps = m_options.epsilon;
    const auto update = [=](auto&& p, const auto& g, auto&& sum) {
      sum += g * g;
      p -= lr * (g / (detail::sqrt(sum) + eps));
    };
    return detail::with_maximize(m_options.maximize,
                                 detail::with_l2_decay(m_options.weight_decay, update));
  }

  Options m_options;
};

}  // namespace descent
