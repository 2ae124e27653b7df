#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// Adadelta: steps measured in the units of past steps, so no learning rate is needed.
///
///   g_t     = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   v_t     = rho * v_{t-1} + (1 - rho) * g_t^2
///   delta_t = sqrt(u_{t-1} + epsilon) / sqrt(v_t + epsilon) * g_t
///   u_t     = rho * u_{t-1} + (1 - rho) * delta_t^2
///   param  <- param - learning_rate * delta_t
///
/// Defaults: learning_rate 1.0, rho 0.9, epsilon 1e-6, weight_decay 0, maximize false
/// (torch.optim.Adadelta).
/// Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012.
template <RealScalar T>
class Adadelta {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "adadelta";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "Adadelta";

  /// Hyperparameters; the defaults are those of torch.optim.Adadelta.
  struct Options {
    Scalar learning_rate = Scalar(1);  ///< scales delta_t (PyTorch's lr), >= 0
    Scalar rho = Scalar(0.9);          ///< decay rate of both running averages, in [0, 1)
    Scalar epsilon = Scalar(1e-6);     ///< added inside both square roots (PyTorch's eps), > 0
    Scalar weight_decay = Scalar(0);   ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;             ///< step up the gradient (maximize the objective)
  };

  /// Per tensor: the two running averages and the step count.
  struct State {
    Buffer<Scalar> square_avg;  ///< v: running average of g^2
    Buffer<Scalar> acc_delta;   ///< u: running average of delta^2
    std::int64_t step = 0;      ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step),
                        detail::field("square_avg", &State::square_avg),
                        detail::field("acc_delta", &State::acc_delta)};
    }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("rho", &Options::rho),
                      detail::field("epsilon", &Options::epsilon),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit Adadelta(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_rate(class_name, "rho", options.rho);
    detail::require_positive(class_name, "epsilon", options.epsilon);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: both averages zero, step 0.
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
    detail::check_buffer(class_name, "square_avg", state.square_avg, param.size());
    detail::check_buffer(class_name, "acc_delta", state.acc_delta, param.size());
    detail::for_each_chunk(team, param, grad, next_update(state), state.square_avg.data(),
                           state.acc_delta.data());
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    const Options& o = m_options;
    ++state.step;
    const auto update = [o](auto&& p, const auto& g, auto&& square_avg, auto&& acc_delta) {
      detail::ChunkScratch<Scalar> scratch;
      auto delta = scratch.head(p.size());
      detail::running_average(square_avg, g * g, o.rho);
      delta = detail::sqrt(acc_delta + o.epsilon) / detail::sqrt(square_avg + o.epsilon) * g;
      detail::running_average(acc_delta, delta * delta, o.rho);
      p -= o.learning_rate * delta;
    };
    return detail::with_maximize(o.maximize, detail::with_l2_decay(o.weight_decay, update));
  }

  Options m_options;
};

}  // namespace descent
