#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// Nadam: Adam with Nesterov momentum, the first moment taken one step ahead.
///
///   g_t    = grad + weight_decay * param                    (L2, when not decoupled)
///   param <- param * (1 - learning_rate * weight_decay)     (decoupled_weight_decay)
///   mu_t   = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),   P_t = mu_1 * ... * mu_t
///   m_t    = beta1 * m_{t-1} + (1 - beta1) * g_t
///   v_t    = beta2 * v_{t-1} + (1 - beta2) * g_t^2,   d_t = sqrt(v_t / (1 - beta2^t)) + epsilon
///   param <- param - learning_rate * [ (1 - mu_t) / (1 - P_t) * g_t
///                                      + mu_{t+1} / (1 - P_t * mu_{t+1}) * m_t ] / d_t
///
/// Defaults: learning_rate 2e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, weight_decay 0,
/// momentum_decay 4e-3, decoupled_weight_decay false (torch.optim.NAdam). The product for
/// mu_{t+1} is P_t * mu_{t+1}, as in PyTorch 2.x; PyTorch 1.13 multiplied mu_t in twice.
/// Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016.
template <RealScalar T>
class Nadam {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "nadam";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "Nadam";

  /// Hyperparameters; the defaults are those of torch.optim.NAdam.
  struct Options {
    Scalar learning_rate = Scalar(2e-3);   ///< step size (PyTorch's lr), >= 0
    Scalar beta1 = Scalar(0.9);            ///< decay rate of the first moment, in [0, 1)
    Scalar beta2 = Scalar(0.999);          ///< decay rate of the second moment, in [0, 1)
    Scalar epsilon = Scalar(1e-8);         ///< added to the root (PyTorch's eps), > 0
    Scalar weight_decay = Scalar(0);       ///< L2 penalty, or decoupled decay rate, >= 0
    Scalar momentum_decay = Scalar(4e-3);  ///< how fast mu_t rises towards beta1, >= 0
    bool decoupled_weight_decay = false;   ///< decay the weights directly (AdamW style)
  };

  /// Per tensor: the two moments, the product of the mu_t and the step count.
  struct State {
    Buffer<Scalar> exp_avg;     ///< m: first moment
    Buffer<Scalar> exp_avg_sq;  ///< v: second moment
    double mu_product = 1;      ///< P_t, kept in double whatever Scalar is
    std::int64_t step = 0;      ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step),
                        detail::field("mu_product", &State::mu_product),
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
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("momentum_decay", &Options::momentum_decay),
                      detail::field("decoupled_weight_decay", &Options::decoupled_weight_decay)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit Nadam(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_rate(class_name, "beta1", options.beta1);
    detail::require_rate(class_name, "beta2", options.beta2);
    detail::require_positive(class_name, "epsilon", options.epsilon);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
    detail::require_nonnegative(class_name, "momentum_decay", options.momentum_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: zero moments, mu_product 1, step 0.
  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {Buffer<Scalar>::Zero(param.size()), Buffer<Scalar>::Zero(param.size()), 1.0, 0};
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

    const double lr = o.learning_rate, beta1 = o.beta1, decay_rate = o.momentum_decay;
    const double mu = beta1 * (1 - 0.5 * std::pow(0.96, t * decay_rate));
    const double mu_next = beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * decay_rate));
    state.mu_product *= mu;
    const double mu_product_next = state.mu_product * mu_next;
    const auto grad_coef = Scalar(lr * (1 - mu) / (1 - state.mu_product));
    const auto avg_coef = Scalar(lr * mu_next / (1 - mu_product_next));
    const auto bias_correction2 = Scalar(1 - std::pow(double(o.beta2), t));
    const bool decoupled = o.decoupled_weight_decay && o.weight_decay != 0;
    const auto decay = Scalar(1 - lr * double(o.weight_decay));
    const Scalar l2 = o.decoupled_weight_decay ? Scalar(0) : o.weight_decay;

    const auto update = [=](auto&& p, const auto& g, auto&& m, auto&& v) {
      detail::running_average(m, g, o.beta1);
      detail::running_square_average(v, g, o.beta2);
      if (decoupled) p *= decay;
      const auto denom = detail::sqrt(v / bias_correction2) + o.epsilon;
      p -= grad_coef * (g / denom) + avg_coef * (m / denom);
    };
    return detail::with_l2_decay(l2, update);
  }

  Options m_options;
};

}  // namespace descent
