#pragma once

#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// AdaGrad: per-coordinate step sizes that shrink with the sum of squared gradients seen so far.
///
///   g_t    = grad + weight_decay * param                  (when weight_decay != 0)
///   lr_t   = learning_rate / (1 + (t - 1) * lr_decay)
///   s_t    = s_{t-1} + g_t^2,    s_0 = initial_accumulator
///   param <- param - lr_t * g_t / (sqrt(s_t) + epsilon)   (epsilon outside the sqrt)
///
/// Defaults: learning_rate 1e-2, lr_decay 0, initial_accumulator 0, epsilon 1e-10,
/// weight_decay 0 (torch.optim.Adagrad). Duchi, Hazan & Singer, "Adaptive Subgradient Methods
/// for Online Learning and Stochastic Optimization", JMLR 2011.
template <class Scalar>
class AdaGrad {
 public:
  static constexpr std::string_view name = "adagrad";
  static constexpr std::string_view class_name = "AdaGrad";

  struct Options {
    Scalar learning_rate = Scalar(1e-2);
    Scalar lr_decay = Scalar(0);
    Scalar initial_accumulator = Scalar(0);
    Scalar epsilon = Scalar(1e-10);
    Scalar weight_decay = Scalar(0);
  };

  struct State {
    Buffer<Scalar> sum;  ///< running sum of squared gradients
    std::int64_t step = 0;
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step), detail::field("sum", &State::sum)};
    }
  };

  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("lr_decay", &Options::lr_decay),
                      detail::field("initial_accumulator", &Options::initial_accumulator),
                      detail::field("epsilon", &Options::epsilon),
                      detail::field("weight_decay", &Options::weight_decay)};
  }

  explicit AdaGrad(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_nonnegative(class_name, "lr_decay", options.lr_decay);
    detail::require_nonnegative(class_name, "initial_accumulator", options.initial_accumulator);
    detail::require_positive(class_name, "epsilon", options.epsilon);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  const Options& options() const { return m_options; }

  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {Buffer<Scalar>::Constant(param.size(), m_options.initial_accumulator), 0};
  }

  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state) const {
    detail::check_step<Scalar, Param>(class_name, param, grad);
    detail::check_buffer(class_name, "sum", state.sum, param.size());
    const std::int64_t t = ++state.step;
    const auto lr = static_cast<Scalar>(
        double(m_options.learning_rate) / (1.0 + double(t - 1) * double(m_options.lr_decay)));
    const Scalar eps = m_options.epsilon;
    detail::for_each_chunk(param, grad,
                           detail::with_l2_decay(m_options.weight_decay,
                                                 [=](auto&& p, const auto& g, auto&& sum) {
                                                   sum += g * g;
                                                   p -= lr * (g / (detail::sqrt(sum) + eps));
                                                 }),
                           state.sum.data());
  }

 private:
  Options m_options;
};

}  // namespace descent
