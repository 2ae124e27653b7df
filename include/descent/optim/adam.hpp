#pragma once

#include <descent/optim/concept.hpp>
#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent {
namespace detail {

template <class Scalar>
struct AdamState {
  Buffer<Scalar> exp_avg;         ///< m: first moment
  Buffer<Scalar> exp_avg_sq;      ///< v: second moment
  Buffer<Scalar> max_exp_avg_sq;  ///< running max of v (amsgrad only)
  std::int64_t step = 0;
  static constexpr auto fields() {
    return std::tuple{field("step", &AdamState::step), field("exp_avg", &AdamState::exp_avg),
                      field("exp_avg_sq", &AdamState::exp_avg_sq),
                      field("max_exp_avg_sq", &AdamState::max_exp_avg_sq)};
  }
};

/// Adam and AdamW differ only in their defaults; this is the one implementation.
template <class Scalar, class Self>
class AdamFamily {
 public:
  struct Options {
    Scalar learning_rate = Scalar(1e-3);
    Scalar beta1 = Scalar(0.9);
    Scalar beta2 = Scalar(0.999);
    Scalar epsilon = Scalar(1e-8);
    Scalar weight_decay = Self::default_weight_decay;
    bool amsgrad = false;
    bool decoupled_weight_decay = Self::default_decoupled;
    bool maximize = false;
  };
  struct State : AdamState<Scalar> {};  // a type of its own for Adam and for AdamW

  static constexpr auto option_fields() {
    return std::tuple{field("learning_rate", &Options::learning_rate),
                      field("beta1", &Options::beta1),
                      field("beta2", &Options::beta2),
                      field("epsilon", &Options::epsilon),
                      field("weight_decay", &Options::weight_decay),
                      field("amsgrad", &Options::amsgrad),
                      field("decoupled_weight_decay", &Options::decoupled_weight_decay),
                      field("maximize", &Options::maximize)};
  }

  explicit AdamFamily(const Options& options) : m_options(options) {
    const std::string_view who = Self::class_name;
    require_nonnegative(who, "learning_rate", options.learning_rate);
    require_rate(who, "beta1", options.beta1);
    require_rate(who, "beta2", options.beta2);
    require_positive(who, "epsilon", options.epsilon);
    require_nonnegative(who, "weight_decay", options.weight_decay);
  }

  const Options& options() const { return m_options; }

  template <class Param>
  State init(const Eigen::DenseBase<Param>& param) const {
    const Eigen::Index n = param.size();
    State state{{Buffer<Scalar>::Zero(n), Buffer<Scalar>::Zero(n), {}, 0}};
    if (m_options.amsgrad) state.max_exp_avg_sq = Buffer<Scalar>::Zero(n);
    return state;
  }

  /// One update of `param` in place from `grad`, advancing `state`, split over `team`'s threads
  /// if one is given; throws std::invalid_argument if the shapes or the state's sizes do not match.
  template <class Param, class Grad>
  void step(Param&& param, const Eigen::DenseBase<Grad>& grad, State& state,
            const StepTeam* team = nullptr) const {
    const Options& o = m_options;
    const std::string_view who = Self::class_name;
    const Eigen::Index n = param.size();
    check_step<Scalar, Param>(who, param, grad);
    check_buffer(who, "exp_avg", state.exp_avg, n);
    check_buffer(who, "exp_avg_sq", state.exp_avg_sq, n);
    if (o.amsgrad) check_buffer(who, "max_exp_avg_sq", state.max_exp_avg_sq, n);
    Scalar* max_sq = o.amsgrad ? state.max_exp_avg_sq.data() : state.exp_avg_sq.data();
    for_each_chunk(team, param, grad, next_update(state), state.exp_avg.data(),
                   state.exp_avg_sq.data(), max_sq);
  }

 private:
  // Advances the state to this step and returns its chunk update (see detail::for_each_chunk).
  auto next_update(State& state) const {
    const Options& o = m_options;
    const auto t = double(++state.step);

    // Scalars in double, as PyTorch computes them in Python, then rounded once to Scalar.
    const auto step_size = Scalar(double(o.learning_rate) / (1 - std::pow(double(o.beta1), t)));
    const auto bias_correction2_sqrt = Scalar(std::sqrt(1 - std::pow(double(o.beta2), t)));
    const bool decoupled = o.decoupled_weight_decay && o.weight_decay != 0;
    const auto decay = Scalar(1 - double(o.learning_rate) * double(o.weight_decay));
    const Scalar l2 = o.decoupled_weight_decay ? Scalar(0) : o.weight_decay;

    const auto update = [=](auto&& p, const auto& g, auto&& m, auto&& v, auto&& v_max) {
      running_average(m, g, o.beta1);
      running_square_average(v, g, o.beta2);
      if (decoupled) p *= decay;
      if (o.amsgrad) {
        v_max = v_max.max(v);
        p -= step_size * (m / (sqrt(v_max) / bias_correction2_sqrt + o.epsilon));
      } else {
        p -= step_size * (m / (sqrt(v) / bias_correction2_sqrt + o.epsilon));
      }
    };
    return with_maximize(o.maximize, with_l2_decay(l2, update));
  }

  Options m_options;
};

}  // namespace detail

/// Adam: momentum (first moment) divided by an RMS (second moment), both bias-corrected.
///
///   g_t   = -grad if maximize, else grad
///   g_t  += weight_decay * param                             (L2, when not decoupled)
///   param <- param * (1 - learning_rate * weight_decay)      (decoupled_weight_decay, AdamW)
///   m_t   = beta1 * m_{t-1} + (1 - beta1) * g_t
///   v_t   = beta2 * v_{t-1} + (1 - beta2) * g_t^2
///   vmax_t = max(vmax_{t-1}, v_t)                            (amsgrad; used in place of v_t)
///   param <- param - learning_rate / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) +
///   epsilon)
///
/// Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, weight_decay 0,
/// amsgrad false, decoupled_weight_decay false, maximize false (torch.optim.Adam). Kingma & Ba,
/// "Adam: A Method for Stochastic Optimization", ICLR 2015; AMSGrad: Reddi, Kale & Kumar, ICLR
/// 2018.
template <RealScalar T>
class Adam : public detail::AdamFamily<T, Adam<T>> {
  using Base = detail::AdamFamily<T, Adam<T>>;

 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "adam";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "Adam";
  /// Default of Options::weight_decay: 0, as in torch.optim.Adam.
  static constexpr Scalar default_weight_decay = Scalar(0);
  /// Default of Options::decoupled_weight_decay: false (L2 decay through the gradient).
  static constexpr bool default_decoupled = false;
  using typename Base::Options;
  using typename Base::State;

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit Adam(const Options& options = {}) : Base(options) {}
};

/// AdamW: Adam with decoupled weight decay on by default, the decay applied to the weights
/// directly rather than through the gradient (so adaptive scaling does not weaken it).
/// The rule is Adam's above with decoupled_weight_decay true.
///
/// Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, weight_decay 1e-2,
/// amsgrad false, decoupled_weight_decay true, maximize false (torch.optim.AdamW). Loshchilov &
/// Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
template <RealScalar T>
class AdamW : public detail::AdamFamily<T, AdamW<T>> {
  using Base = detail::AdamFamily<T, AdamW<T>>;

 public:
  /// float or double: the type of the tensors it steps.
  using Scalar = T;
  /// Name for make_optimizer() and StateDict::optimizer.
  static constexpr std::string_view name = "adamw";
  /// Class name used in error messages.
  static constexpr std::string_view class_name = "AdamW";
  /// Default of Options::weight_decay: 1e-2, as in torch.optim.AdamW.
  static constexpr Scalar default_weight_decay = Scalar(1e-2);
  /// Default of Options::decoupled_weight_decay: true.
  static constexpr bool default_decoupled = true;
  using typename Base::Options;
  using typename Base::State;

  /// Checks the options; throws std::invalid_argument if one is out of range.
  explicit AdamW(const Options& options = {}) : Base(options) {}
};

}  // namespace descent
