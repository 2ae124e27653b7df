#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// ASGD: averaged stochastic gradient descent. SGD with a decaying step size, plus a running
/// (Polyak-Ruppert) average of the iterates from step t0 on, which is what one evaluates.
///
///   g_t    = -grad if maximize, else grad;   g_t += weight_decay * param   (when != 0)
///   param <- param * (1 - lambd * eta_t) - eta_t * g_t
///   ax_t   = ax_{t-1} + mu_t * (param - ax_{t-1})      (ax_t = param while mu_t = 1)
///   eta_{t+1} = learning_rate / (1 + lambd * learning_rate * t)^alpha,   eta_1 = learning_rate
///   mu_{t+1}  = 1 / max(1, t - t0),                                     mu_1 = 1
///
/// Defaults: learning_rate 1e-2, lambd 1e-4, alpha 0.75, t0 1e6, weight_decay 0, maximize false
/// (torch.optim.ASGD). eta and mu are kept in float whatever Scalar is, as PyTorch keeps them
/// (float32 scalar tensors), so double runs match it exactly. The averaged parameters are
/// State::ax. Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging", 1992;
/// Bottou, "Stochastic Gradient Descent Tricks", 2012.
template <RealScalar T>
class ASGD {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "asgd";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "ASGD";

  /// Hyperparameters; the defaults are those of torch.optim.ASGD.
  struct Options {
    Scalar learning_rate = Scalar(1e-2);  ///< step size (PyTorch's lr), >= 0
    Scalar lambd = Scalar(1e-4);          ///< decay term, and how fast eta_t falls, >= 0
    Scalar alpha = Scalar(0.75);          ///< power of the eta_t decay, >= 0
    Scalar t0 = Scalar(1e6);              ///< step at which averaging starts, >= 0
    Scalar weight_decay = Scalar(0);      ///< L2 penalty added to the gradient, >= 0
    bool maximize = false;                ///< step up the gradient (maximize the objective)
  };

  /// Per tensor: the averaged parameters, the current eta and mu, and the step count.
  struct State {
    Buffer<Scalar> ax;      ///< the averaged parameters
    float eta = 0;          ///< eta_t, the step size of the next step (float, as PyTorch's)
    float mu = 1;           ///< mu_t, the averaging weight of the next step (float, as PyTorch's)
    std::int64_t step = 0;  ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step), detail::field("eta", &State::eta),
                        detail::field("mu", &State::mu), detail::field("ax", &State::ax)};
    }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("lambd", &Options::lambd),
                      detail::field("alpha", &Options::alpha),
                      detail::field("t0", &Options::t0),
                      detail::field("weight_decay", &Options::weight_decay),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit ASGD(const Options& options = {}) : m_options(options) {
    detail::require_nonnegative(class_name, "learning_rate", options.learning_rate);
    detail::require_nonnegative(class_name, "lambd", options.lambd);
    detail::require_nonnegative(class_name, "alpha", options.alpha);
    detail::require_nonnegative(class_name, "t0", options.t0);
    detail::require_nonnegative(class_name, "weight_decay", options.weight_decay);
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: ax 0, eta learning_rate, mu 1, step 0.
  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {Buffer<Scalar>::Zero(param.size()), static_cast<float>(m_options.learning_rate), 1.0f,
            0};
  }

  /// One update of `param` in place from `grad`, advancing `state`, split over `team`'s threads
  /// if one is given; throws std::invalid_argument if the shapes or the state's sizes do not match.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    detail::check_step<Scalar, Param>(class_name, param, grad);
    detail::check_buffer(class_name, "ax", state.ax, param.size());
    detail::for_each_chunk(team, param, grad, next_update(state), state.ax.data());
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    const Options& o = m_options;
    const auto t = double(++state.step);
    const double lr = o.learning_rate, lambd = o.lambd, eta = state.eta;
    const auto decay = Scalar(1 - lambd * eta);
    const auto step_size = Scalar(eta);
    const bool average = state.mu != 1;
    const auto mu = Scalar(state.mu);
    // This step's eta and mu are taken; the next step's are rounded to float, as PyTorch's.
    state.eta = static_cast<float>(lr / std::pow(1 + lambd * lr * t, double(o.alpha)));
    state.mu = static_cast<float>(1 / std::max(1.0, t - double(o.t0)));

    const auto update = [=](auto&& p, const auto& g, auto&& ax) {
      p = p * decay - step_size * g;  // one assignment: g may read p (weight decay)
      if (average) {
        ax += (p - ax) * mu;
      } else {
        ax = p;
      }
    };
    return detail::with_maximize(o.maximize, detail::with_l2_decay(o.weight_decay, update));
  }

  Options m_options;
};

}  // namespace descent
