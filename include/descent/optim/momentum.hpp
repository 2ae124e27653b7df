#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/heavy_ball.hpp>

namespace descent {

/// SGD with (heavy-ball) momentum: a velocity that remembers past gradients.
///
///   g_t = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   b_1 = g_1;   b_t = momentum * b_{t-1} + (1 - dampening) * g_t
///   param <- param - learning_rate * b_t
/// With momentum 0 this is plain SGD (b_t = g_t): dampening is ignored, as in PyTorch.
///
/// Defaults: learning_rate 1e-3, momentum 0.9, dampening 0, weight_decay 0, maximize false
/// (torch.optim.SGD with momentum, nesterov=False). Polyak, "Some methods of speeding up the
/// convergence of iteration methods", 1964.
template <RealScalar T>
class Momentum {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "momentum";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "Momentum";

  /// Hyperparameters; the defaults are those of torch.optim.SGD with momentum.
  struct Options {
    Scalar learning_rate = Scalar(1e-3);  ///< step size (PyTorch's lr), >= 0
    Scalar momentum = Scalar(0.9);        ///< weight of b_{t-1} in b_t, >= 0
    Scalar dampening = Scalar(0);         ///< b_t adds (1 - dampening) * g_t, in [0, 1]
    Scalar weight_decay = Scalar(0);      ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;                ///< step up the gradient (maximize the objective)
  };
  /// Per tensor: the momentum buffer and the step count.
  struct State : detail::MomentumState<Scalar> {};

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("momentum", &Options::momentum),
                      detail::field("dampening", &Options::dampening),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit Momentum(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_nonnegative(class_name, "momentum", options.momentum);
    detail::require_at_most_one(class_name, "dampening", options.dampening);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: a zero momentum buffer, step 0.
  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {{Buffer<Scalar>::Zero(param.size()), 0}};
  }

  /// One update of `param` in place from `grad`, advancing `state`, split over `team`'s threads
  /// if one is given; throws std::invalid_argument if the shapes or the state's sizes do not match.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    const Options& o = m_options;
    // As torch.optim.SGD: with momentum 0 there is no buffer, so dampening has nothing to damp.
    const Scalar dampening = o.momentum == Scalar(0) ? Scalar(0) : o.dampening;
    detail::heavy_ball_step(team, class_name, param, grad, state, o.learning_rate, o.momentum,
                            dampening, o.weight_decay, /*nesterov=*/false, o.maximize);
  }

 private:
  Options m_options;
};

}  // namespace descent
