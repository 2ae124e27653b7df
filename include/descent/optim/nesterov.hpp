#pragma once

#include <descent/error.hpp>
#include <descent/optim/concept.hpp>
#include <descent/optim/detail/heavy_ball.hpp>

namespace descent {

/// Nesterov accelerated gradient (NAG): momentum that looks one step ahead.
///
///   g_t = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   b_1 = g_1;   b_t = momentum * b_{t-1} + g_t
///   param <- param - learning_rate * (g_t + momentum * b_t)
///
/// Defaults: learning_rate 1e-3, momentum 0.9, weight_decay 0, maximize false (torch.optim.SGD with
/// nesterov=True, which requires dampening 0 and momentum > 0). Nesterov, 1983; in this form
/// Sutskever et al., "On the importance of initialization and momentum in deep learning", 2013.
template <RealScalar T>
class Nesterov {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "nesterov";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "Nesterov";

  /// Hyperparameters; the defaults are those of torch.optim.SGD with nesterov=True.
  struct Options {
    Scalar learning_rate = Scalar(1e-3);  ///< step size (PyTorch's lr), >= 0
    Scalar momentum = Scalar(0.9);        ///< weight of b_{t-1} in b_t and of b_t in the step, > 0
    Scalar weight_decay = Scalar(0);      ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;                ///< step up the gradient (maximize the objective)
  };
  /// Per tensor: the momentum buffer and the step count.
  struct State : detail::MomentumState<Scalar> {};

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("momentum", &Options::momentum),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// PyTorch users may spell out dampening=0 (torch.optim.SGD's nesterov=True requires it):
  /// accepted and ignored; any other dampening throws, naming it. Other keys are not Nesterov's.
  static bool accepts_option(std::string_view key, std::string_view value) {
    if (key != "dampening") return false;
    double d = 0;
    if (!detail::parse_value(value, d) || d != 0) {
      throw InvalidArgument(
          "descent::Nesterov: dampening must be 0 (Nesterov momentum has "
          "no dampening), got " +
          std::string(value));
    }
    return true;
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit Nesterov(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_positive(class_name, "momentum", options.momentum);
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
    detail::heavy_ball_step(team, class_name, param, grad, state, o.learning_rate, o.momentum,
                            Scalar(0), o.weight_decay, /*nesterov=*/true, o.maximize);
  }

 private:
  Options m_options;
};

}  // namespace descent
