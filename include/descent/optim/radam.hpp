#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// RAdam: Adam whose adaptive step is switched on only once the variance of its second moment
/// is tractable, and then scaled by a rectification term r_t.
///
///   g_t   = grad + weight_decay * param                      (when weight_decay != 0)
///   m_t   = beta1 * m_{t-1} + (1 - beta1) * g_t
///   v_t   = beta2 * v_{t-1} + (1 - beta2) * g_t^2
///   rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
///   rho_t > 5:  r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
///               param <- param - m_t / (1 - beta1^t) * learning_rate
///                                  * sqrt(1 - beta2^t) / (sqrt(v_t) + epsilon) * r_t
///   otherwise:  param <- param - m_t / (1 - beta1^t) * learning_rate        (SGD with momentum)
///
/// Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, weight_decay 0
/// (torch.optim.RAdam of PyTorch 1.13, which has no maximize). Liu et al., "On the Variance of
/// the Adaptive Learning Rate and Beyond", ICLR 2020.
template <RealScalar T>
class RAdam {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "radam";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "RAdam";

  /// Hyperparameters; the defaults are those of torch.optim.RAdam.
  struct Options {
    Scalar learning_rate = Scalar(1e-3);  ///< step size (PyTorch's lr), >= 0
    Scalar beta1 = Scalar(0.9);           ///< decay rate of the first moment, in [0, 1)
    Scalar beta2 = Scalar(0.999);         ///< decay rate of the second moment, in [0, 1)
    Scalar epsilon = Scalar(1e-8);        ///< added to the root (PyTorch's eps), > 0
    Scalar weight_decay = Scalar(0);      ///< L2 penalty added to the gradient, >= 0
  };

  /// Per tensor: the two moments and the step count.
  struct State {
    Buffer<Scalar> exp_avg;     ///< m: first moment
    Buffer<Scalar> exp_avg_sq;  ///< v: second moment
    std::int64_t step = 0;      ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step),
                        detail::field("exp_avg", &State::exp_avg),
                        detail::field("exp_avg_sq", &State::exp_avg_sq)};
    }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("beta1", &Options::beta1),
                      detail::field("beta2", &Options::beta2),
                      detail::field("epsilon", &Options::epsilon),
                      detail::field("weight_decay", &Options::weight_decay)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit RAdam(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_rate(class_name, "beta1", options.beta1);
    detail::require_rate(class_name, "beta2", options.beta2);
    detail::require_positive(class_name, "epsilon", options.epsilon);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: zero moments, step 0.
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
    detail::check_buffer(class_name, "exp_avg_sq", state.exp_avg_sq, param.size());
    detail::for_each_chunk(team, param, grad, next_update(state), state.exp_avg.data(),
                           state.exp_avg_sq.data());
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    const Options& o = m_options;
    const auto t = double(++state.step);

    // Scalars in double, as PyTorch computes them in Python, then rounded once to Scalar.
    const double beta2 = o.beta2, beta2_t = std::pow(beta2, t);
    const double bias_correction2 = 1 - beta2_t;
    const double rho_inf = 2 / (1 - beta2) - 1;
    const double rho_t = rho_inf - 2 * t * beta2_t / bias_correction2;
    const bool rectified = rho_t > 5;
    const auto bias_correction1 = Scalar(1 - std::pow(double(o.beta1), t));
    const auto bias_correction2_sqrt = Scalar(std::sqrt(bias_correction2));
    const auto rect = Scalar(rectified ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                                                   ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                                       : 1.0);

    // The products in PyTorch's order: (m / bc1 * lr) * (1 / (sqrt(v) + eps) * sqrt(bc2)) * r_t,
    // its `sqrt(bc2) / denom` being a reciprocal times the scalar.
    const auto update = [=](auto&& p, const auto& g, auto&& m, auto&& v) {
      detail::running_average(m, g, o.beta1);
      detail::running_square_average(v, g, o.beta2);
      if (rectified) {
        const auto adaptive_lr =
            (Scalar(1) / (detail::sqrt(v) + o.epsilon)) * bias_correction2_sqrt;
        p -= m / bias_correction1 * o.learning_rate * adaptive_lr * rect;
      } else {
        p -= m / bias_correction1 * o.learning_rate;
      }
    };
    return detail::with_l2_decay(o.weight_decay, update);
  }

  Options m_options;
};

}  // namespace descent
