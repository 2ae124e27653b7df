#pragma once

#include <descent/optim/detail/heavy_ball.hpp>

namespace descent {

/// SGD with (heavy-ball) momentum: a velocity that remembers past gradients.
///
///   g_t = grad + weight_decay * param                        (when weight_decay != 0)
///   b_1 = g_1;   b_t = momentum * b_{t-1} + (1 - dampening) * g_t
///   param <- param - learning_rate * b_t
///
/// Defaults: learning_rate 1e-3, momentum 0.9, dampening 0, weight_decay 0
/// (torch.optim.SGD with momentum, nesterov=False). Polyak, "Some methods of speeding up the
/// convergence of iteration methods", 1964.
template <class Scalar>
class Momentum {
 public:
  static constexpr std::string_view name = "momentum";
  static constexpr std::string_view class_name = "Momentum";

  struct Options {
    Scalar learning_rate = Scalar(1e-3);
    Scalar momentum = Scalar(0.9);
    Scalar dampening = Scalar(0);
    Scalar weight_decay = Scalar(0);
  };
  struct State : detail::MomentumState<Scalar> {};

  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("momentum", &Options::momentum),
                      detail::field("dampening", &Options::dampening),
                      detail::field("weight_decay", &Options::weight_decay)};
  }

  explicit Momentum(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_nonnegative(class_name, "momentum", options.momentum);
    detail::require_at_most_one(class_name, "dampening", options.dampening);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  const Options& options() const { return m_options; }

  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {{Buffer<Scalar>::Zero(param.size()), 0}};
  }

  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state) const {
    const Options& o = m_options;
    detail::heavy_ball_step(class_name, param, grad, state, o.learning_rate, o.momentum,
                            o.dampening, o.weight_decay, /*nesterov=*/false);
  }

 private:
  Options m_options;
};

}  // namespace descent
