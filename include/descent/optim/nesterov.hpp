#pragma once

#include <descent/optim/detail/heavy_ball.hpp>

namespace descent {

/// Nesterov accelerated gradient (NAG): momentum that looks one step ahead.
///
///   g_t = grad + weight_decay * param                        (when weight_decay != 0)
///   b_1 = g_1;   b_t = momentum * b_{t-1} + g_t
///   param <- param - learning_rate * (g_t + momentum * b_t)
///
/// Defaults: learning_rate 1e-3, momentum 0.9, weight_decay 0 (torch.optim.SGD with
/// nesterov=True, which requires dampening 0 and momentum > 0). Nesterov, 1983; in this form
/// Sutskever et al., "On the importance of initialization and momentum in deep learning", 2013.
template <class Scalar>
class Nesterov {
 public:
  static constexpr std::string_view name = "nesterov";
  static constexpr std::string_view class_name = "Nesterov";

  struct Options {
    Scalar learning_rate = Scalar(1e-3);
    Scalar momentum = Scalar(0.9);
    Scalar weight_decay = Scalar(0);
  };
  struct State : detail::MomentumState<Scalar> {};

  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("momentum", &Options::momentum),
                      detail::field("weight_decay", &Options::weight_decay)};
  }

  explicit Nesterov(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_positive(class_name, "momentum", options.momentum);
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
                            Scalar(0), o.weight_decay, /*nesterov=*/true);
  }

 private:
  Options m_options;
};

}  // namespace descent
