#pragma once
// AdaBelief, an optimizer descent does not ship, written the way a user adds their own: one class
// that meets descent::StepOptimizer (docs/step_interface.md), registered by name. After
// `descent::register_optimizer<AdaBelief>()` it works everywhere the built-in ones do:
// make_optimizer("adabelief", ...), parameter groups, the Trainer, checkpoints, the tuner.
//
// AdaBelief (Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
// Gradients", NeurIPS 2020) is Adam with the second moment taken of g - m, the gradient's
// deviation from its running mean, instead of g: where gradients agree with the "belief" m the
// step is large, where they scatter it is small.
//
//   param <- param * (1 - learning_rate * weight_decay)          (decoupled weight decay)
//   m_t = beta1 * m_{t-1} + (1 - beta1) * g
//   s_t = beta2 * s_{t-1} + (1 - beta2) * (g - m_t)^2 + epsilon
//   param <- param - learning_rate / (1 - beta1^t) * m_t / (sqrt(s_t / (1 - beta2^t)) + epsilon)
//
// Defaults are those of the authors' adabelief-pytorch 0.2 (eps 1e-16, decoupled weight decay),
// without its optional rectification (RAdam's warm-up).

#include <descent/optim.hpp>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>

namespace mylab {

template <descent::RealScalar T>
class AdaBelief {
 public:
  using Scalar = T;                                      // float or double
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;      // = descent::Buffer<T>
  static constexpr std::string_view name = "adabelief";  // its make_optimizer name

  struct Options {
    T learning_rate = T(1e-3);
    T beta1 = T(0.9);
    T beta2 = T(0.999);
    T epsilon = T(1e-16);
    T weight_decay = T(0);
  };
  // Every option by name: make_optimizer parses "beta2=0.99" with it, options() prints it.
  static constexpr auto option_fields() {
    using descent::field;
    return std::tuple{field("learning_rate", &Options::learning_rate),
                      field("beta1", &Options::beta1), field("beta2", &Options::beta2),
                      field("epsilon", &Options::epsilon),
                      field("weight_decay", &Options::weight_decay)};
  }

  // Per tensor. fields() lists what a checkpoint saves and restores.
  struct State {
    Array exp_avg;      // m
    Array exp_avg_var;  // s
    std::int64_t step = 0;
    static constexpr auto fields() {
      using descent::field;
      return std::tuple{field("step", &State::step), field("exp_avg", &State::exp_avg),
                        field("exp_avg_var", &State::exp_avg_var)};
    }
  };

  explicit AdaBelief(const Options& options = {}) : m_options(options) {
    const auto check = [](bool ok, const char* what) {
      if (!ok) throw std::invalid_argument(std::string("AdaBelief: ") + what);
    };
    check(options.learning_rate >= 0, "learning_rate must be >= 0");
    check(options.beta1 >= 0 && options.beta1 < 1, "beta1 must be in [0, 1)");
    check(options.beta2 >= 0 && options.beta2 < 1, "beta2 must be in [0, 1)");
    check(options.epsilon > 0, "epsilon must be > 0");
    check(options.weight_decay >= 0, "weight_decay must be >= 0");
  }

  const Options& options() const { return m_options; }

  State init(const Eigen::Ref<const Array>& param) const {
    return {Array::Zero(param.size()), Array::Zero(param.size()), 0};
  }

  void step(Eigen::Ref<Array> param, const Eigen::Ref<const Array>& grad, State& s) const {
    if (grad.size() != param.size() || s.exp_avg.size() != param.size()) {
      throw std::invalid_argument("AdaBelief::step: grad or state is not the size of param");
    }
    const Options& o = m_options;
    const auto t = double(++s.step);
    const auto bias1 = T(1 - std::pow(double(o.beta1), t));
    const auto bias2 = T(1 - std::pow(double(o.beta2), t));
    if (o.weight_decay != 0) param *= T(1) - o.learning_rate * o.weight_decay;
    s.exp_avg = o.beta1 * s.exp_avg + (T(1) - o.beta1) * grad;
    s.exp_avg_var =
        o.beta2 * s.exp_avg_var + (T(1) - o.beta2) * (grad - s.exp_avg).square() + o.epsilon;
    param -= (o.learning_rate / bias1) * s.exp_avg / ((s.exp_avg_var / bias2).sqrt() + o.epsilon);
  }

 private:
  Options m_options;
};

}  // namespace mylab
