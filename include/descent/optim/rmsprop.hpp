#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cstdint>
#include <limits>
#include <string_view>
#include <tuple>

namespace descent {

/// RMSProp: divide the step by a running RMS of recent gradients.
///
///   g_t   = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   v_t   = rho * v_{t-1} + (1 - rho) * g_t^2
///   a_t   = rho * a_{t-1} + (1 - rho) * g_t                  (centered only)
///   d_t   = sqrt(v_t - a_t^2) + epsilon   if centered,  sqrt(v_t) + epsilon  otherwise
///   b_t   = momentum * b_{t-1} + g_t / d_t,   param <- param - learning_rate * b_t   (momentum >
///   0) param <- param - learning_rate * g_t / d_t                                       (momentum
///   = 0)
///
/// Defaults: learning_rate 1e-2, rho 0.99 (PyTorch's alpha), epsilon 1e-8, momentum 0,
/// centered false, weight_decay 0, maximize false (torch.optim.RMSprop). The centered variance is
/// clamped at 0, where rounding could otherwise make it negative and the step NaN, and kept at inf
/// when square_avg has overflowed (float g^2 > 3.4e38), where inf - inf would be NaN. Hinton,
/// Srivastava & Swersky, Neural Networks for Machine Learning, lecture 6e, 2012; centered form:
/// Graves, "Generating Sequences With Recurrent Neural Networks", 2013.
template <RealScalar T>
class RMSProp {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "rmsprop";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "RMSProp";

  /// Hyperparameters; the defaults are those of torch.optim.RMSprop.
  struct Options {
    Scalar learning_rate = Scalar(1e-2);  ///< step size (PyTorch's lr), >= 0
    Scalar rho = Scalar(0.99);            ///< decay rate of v and a (PyTorch's alpha), in [0, 1)
    Scalar epsilon = Scalar(1e-8);        ///< added to the root (PyTorch's eps), > 0
    Scalar momentum = Scalar(0);          ///< weight of b_{t-1} in b_t; 0 means no buffer, >= 0
    bool centered = false;                ///< divide by sqrt(v_t - a_t^2), not sqrt(v_t)
    Scalar weight_decay = Scalar(0);      ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;                ///< step up the gradient (maximize the objective)
  };

  /// grad_avg is sized only when centered, momentum_buffer only when momentum > 0.
  struct State {
    Buffer<Scalar> square_avg;       ///< v: running average of g^2
    Buffer<Scalar> grad_avg;         ///< a: running average of g (centered only)
    Buffer<Scalar> momentum_buffer;  ///< b: momentum buffer (momentum > 0 only)
    std::int64_t step = 0;           ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step),
                        detail::field("square_avg", &State::square_avg),
                        detail::field("grad_avg", &State::grad_avg),
                        detail::field("momentum_buffer", &State::momentum_buffer)};
    }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("rho", &Options::rho),
                      detail::field("epsilon", &Options::epsilon),
                      detail::field("momentum", &Options::momentum),
                      detail::field("centered", &Options::centered),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit RMSProp(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_rate(class_name, "rho", options.rho);
    detail::require_positive(class_name, "epsilon", options.epsilon);
    detail::require_nonnegative(class_name, "momentum", options.momentum);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: zero buffers, sized as the options need, step 0.
  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    const Eigen::Index n = param.size();
    State state;
    state.square_avg = Buffer<Scalar>::Zero(n);
    if (m_options.centered) state.grad_avg = Buffer<Scalar>::Zero(n);
    if (m_options.momentum > 0) state.momentum_buffer = Buffer<Scalar>::Zero(n);
    return state;
  }

  /// One update of `param` in place from `grad`, advancing `state`, split over `team`'s threads
  /// if one is given; throws std::invalid_argument if the shapes or the state's sizes do not match.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    const Options& o = m_options;
    const Eigen::Index n = param.size();
    detail::check_step<Scalar, Param>(class_name, param, grad);
    detail::check_buffer(class_name, "square_avg", state.square_avg, n);
    if (o.centered) detail::check_buffer(class_name, "grad_avg", state.grad_avg, n);
    if (o.momentum > 0)
      detail::check_buffer(class_name, "momentum_buffer", state.momentum_buffer, n);
    // Unused buffers are empty; hand the kernel a valid pointer for them all the same.
    Scalar* grad_avg = o.centered ? state.grad_avg.data() : state.square_avg.data();
    Scalar* momentum_buffer =
        o.momentum > 0 ? state.momentum_buffer.data() : state.square_avg.data();
    detail::for_each_chunk(team, param, grad, next_update(state), state.square_avg.data(), grad_avg,
                           momentum_buffer);
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    const Options& o = m_options;
    ++state.step;
    const auto update = [o](auto&& p, const auto& g, auto&& square_avg, auto&& grad_avg,
                            auto&& buf) {
      detail::running_average(square_avg, g * g, o.rho);
      const auto finish = [&](const auto& denom) {
        if (o.momentum > 0) {
          buf = buf * o.momentum + g / denom;
          p -= o.learning_rate * buf;
        } else {
          p -= o.learning_rate * (g / denom);
        }
      };
      if (o.centered) {
        detail::running_average(grad_avg, g, o.rho);
        // square_avg >= grad_avg^2, so once grad_avg^2 overflows (float, |g| > 1e19) square_avg
        // is inf too, and inf - inf would be NaN. The variance stays inf and the step 0, as in
        // PyTorch 1.13, whose square_avg.addcmul(grad_avg, grad_avg, value=-1) gives inf there.
        const Scalar inf = std::numeric_limits<Scalar>::infinity();
        const auto variance = (square_avg - grad_avg * grad_avg).max(Scalar(0));
        finish(detail::sqrt((square_avg < inf).select(variance, square_avg)) + o.epsilon);
      } else {
        finish(detail::sqrt(square_avg) + o.epsilon);
      }
    };
    return detail::with_maximize(o.maximize, detail::with_l2_decay(o.weight_decay, update));
  }

  Options m_options;
};

}  // namespace descent
