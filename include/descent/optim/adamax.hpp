#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm.
///
///   g_t   = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   m_t   = beta1 * m_{t-1} + (1 - beta1) * g_t
///   u_t   = max(beta2 * u_{t-1}, |g_t| + epsilon)
///   param <- param - learning_rate / (1 - beta1^t) * m_t / u_t
///
/// Defaults: learning_rate 2e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, weight_decay 0,
/// maximize false (torch.optim.Adamax). Kingma & Ba, "Adam: A Method for Stochastic
/// Optimization", ICLR 2015, section 7.1.
template <RealScalar T>
class Adamax {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "adamax";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "Adamax";

  /// Hyperparameters; the defaults are those of torch.optim.Adamax.
  struct Options {
    Scalar learning_rate = Scalar(2e-3);  ///< step size (PyTorch's lr), >= 0
    Scalar beta1 = Scalar(0.9);           ///< decay rate of the first moment, in [0, 1)
    Scalar beta2 = Scalar(0.999);         ///< decay rate of the infinity norm, in [0, 1)
    Scalar epsilon = Scalar(1e-8);        ///< added to |g| (PyTorch's eps), > 0
    Scalar weight_decay = Scalar(0);      ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;                ///< step up the gradient (maximize the objective)
  };

  /// Per tensor: the first moment, the infinity norm and the step count.
  struct State {
    Buffer<Scalar> exp_avg;  ///< m: first moment
    Buffer<Scalar> exp_inf;  ///< u: exponentially weighted infinity norm
    std::int64_t step = 0;   ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step),
                        detail::field("exp_avg", &State::exp_avg),
                        detail::field("exp_inf", &State::exp_inf)};
    }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("beta1", &Options::beta1),
                      detail::field("beta2", &Options::beta2),
                      detail::field("epsilon", &Options::epsilon),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit Adamax(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_rate(class_name, "beta1", options.beta1);
    detail::require_rate(class_name, "beta2", options.beta2);
    detail::require_positive(class_name, "epsilon", options.epsilon);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: zero moment and norm, step 0.
  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {Buffer<Scalar>::Zero(param.size()), Buffer<Scalar>::Zero(param.size()), 0};
  }

  /// One update of `param` in place from `grad`, advancing `state`, split over `team`'s threads
  /// if one is given; throws std::invalid_argument if the shapes or the state's sizes do not match.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    detail::check_step<Scalar, Param>(class_name, param, grad);
    detail::check_buffer(class_name, "exp_avg", state.exp_avg, param.size());
    detail::check_buffer(class_name, "exp_inf", state.exp_inf, param.size());
    detail::for_each_chunk(team, param, grad, next_update(state), state.exp_avg.data(),
                           state.exp_inf.data());
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    const Options& o = m_options;
    const auto t = double(++state.step);
    const auto step_size = Scalar(double(o.learning_rate) / (1 - std::pow(double(o.beta1), t)));

    const auto update = [=](auto&& p, const auto& g, auto&& m, auto&& u) {
      detail::running_average(m, g, o.beta1);
      u = (u * o.beta2).max(g.abs() + o.epsilon);  // a NaN g makes m, and so param, NaN
      p -= step_size * m / u;                      // PyTorch's addcdiv: (value * m) / u
    };
    return detail::with_maximize(o.maximize, detail::with_l2_decay(o.weight_decay, update));
  }

  Options m_options;
};

}  // namespace descent
