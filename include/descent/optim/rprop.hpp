#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {

/// Rprop (resilient backpropagation): per-coordinate step sizes that grow while the gradient
/// keeps its sign and shrink when it flips; only the sign of the gradient is used.
///
///   g_t  = -grad if maximize, else grad
///   s_t  = clamp(s_{t-1} * eta_plus,  step_size_min, step_size_max)   if g_t * g'_{t-1} > 0
///          clamp(s_{t-1} * eta_minus, step_size_min, step_size_max)   if g_t * g'_{t-1} < 0
///          s_{t-1}                                                    otherwise
///   g'_t = 0 where g_t * g'_{t-1} < 0 (a flip: no move, and no flip test next step), else g_t
///   param <- param - sign(g'_t) * s_t,     s_0 = learning_rate,  g'_0 = 0
///
/// Defaults: learning_rate 1e-2 (the initial step size), eta_minus 0.5, eta_plus 1.2,
/// step_size_min 1e-6, step_size_max 50, maximize false (torch.optim.Rprop; its etas and
/// step_sizes pairs). learning_rate is read only by init(): a schedule does not change s_t.
/// Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation Learning: The RPROP
/// Algorithm", ICNN 1993.
template <RealScalar T>
class Rprop {
 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "rprop";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "Rprop";

  /// Hyperparameters; the defaults are those of torch.optim.Rprop.
  struct Options {
    Scalar learning_rate = Scalar(1e-2);  ///< initial step size s_0 (PyTorch's lr), >= 0
    Scalar eta_minus = Scalar(0.5);       ///< step size factor on a sign flip, in (0, 1)
    Scalar eta_plus = Scalar(1.2);        ///< step size factor while the sign holds, > 1
    Scalar step_size_min = Scalar(1e-6);  ///< lower bound of s_t, >= 0
    Scalar step_size_max = Scalar(50);    ///< upper bound of s_t, >= step_size_min
    bool maximize = false;                ///< step up the gradient (maximize the objective)
  };

  /// Per tensor: the previous (masked) gradient, the step sizes and the step count.
  struct State {
    Buffer<Scalar> prev;       ///< g'_{t-1}: the previous gradient, 0 where its sign flipped
    Buffer<Scalar> step_size;  ///< s_t: per-coordinate step sizes
    std::int64_t step = 0;     ///< number of steps taken
    /// The State fields with their names, for state_dict() keys.
    static constexpr auto fields() {
      return std::tuple{detail::field("step", &State::step), detail::field("prev", &State::prev),
                        detail::field("step_size", &State::step_size)};
    }
  };

  /// The Options fields with their names, for "key=value" parsing and printing.
  static constexpr auto option_fields() {
    return std::tuple{detail::field("learning_rate", &Options::learning_rate),
                      detail::field("eta_minus", &Options::eta_minus),
                      detail::field("eta_plus", &Options::eta_plus),
                      detail::field("step_size_min", &Options::step_size_min),
                      detail::field("step_size_max", &Options::step_size_max),
                      detail::field("maximize", &Options::maximize)};
  }

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit Rprop(const Options& options = {}) : m_options(options) {
    const Options& o = options;
    detail::require_nonnegative(class_name, "learning_rate", o.learning_rate);
    if (!(o.eta_minus > 0 && o.eta_minus < 1)) {
      detail::reject(class_name, "eta_minus", o.eta_minus, "in (0, 1)");
    }
    if (!(o.eta_plus > 1 && std::isfinite(o.eta_plus))) {
      detail::reject(class_name, "eta_plus", o.eta_plus, "finite and > 1");
    }
    detail::require_nonnegative(class_name, "step_size_min", o.step_size_min);
    if (!(o.step_size_max >= o.step_size_min && std::isfinite(o.step_size_max))) {
      detail::reject(class_name, "step_size_max", o.step_size_max, "finite and >= step_size_min");
    }
  }

  /// The options this optimizer was made with.
  const Options& options() const { return m_options; }

  /// A fresh State for `param`: prev 0, every step size learning_rate, step 0.
  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    return {Buffer<Scalar>::Zero(param.size()),
            Buffer<Scalar>::Constant(param.size(), m_options.learning_rate), 0};
  }

  /// One update of `param` in place from `grad`, advancing `state`, split over `team`'s threads
  /// if one is given; throws std::invalid_argument if the shapes or the state's sizes do not match.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    detail::check_step<Scalar, Param>(class_name, param, grad);
    detail::check_buffer(class_name, "prev", state.prev, param.size());
    detail::check_buffer(class_name, "step_size", state.step_size, param.size());
    ++state.step;
    detail::for_each_chunk(team, param, grad, update(), state.prev.data(), state.step_size.data());
  }

 private:
  // The chunk update (see detail::for_each_chunk); Rprop's step does not depend on t.
  auto update() const {
    const Options& o = m_options;
    const auto rprop = [o](auto&& p, const auto& g, auto&& prev, auto&& step_size) {
      using Chunk = typename std::decay_t<decltype(prev)>::PlainObject;
      const Eigen::Index n = p.size();
      const auto agree = g * prev;  // read before prev is written below
      step_size = ((agree > 0).select(Chunk::Constant(n, o.eta_plus),
                                      (agree < 0).select(Chunk::Constant(n, o.eta_minus),
                                                         Chunk::Constant(n, Scalar(1)))) *
                   step_size)
                      .max(o.step_size_min)
                      .min(o.step_size_max);
      const auto kept = (agree < 0).select(Chunk::Zero(n), g);
      p -= kept.sign() * step_size;
      prev = kept;  // last: `agree` and `kept` read the previous prev
    };
    return detail::with_maximize(o.maximize, rprop);
  }

  Options m_options;
};

}  // namespace descent
