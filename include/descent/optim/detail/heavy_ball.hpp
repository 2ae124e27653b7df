#pragma once
// The momentum buffer that Momentum and Nesterov share (PyTorch's SGD with momentum).

#include <descent/optim/detail/math.hpp>
#include <descent/optim/detail/options.hpp>

#include <cstdint>
#include <string_view>
#include <tuple>

namespace descent::detail {

template <class Scalar>
struct MomentumState {
  Buffer<Scalar> momentum_buffer;
  std::int64_t step = 0;
  static constexpr auto fields() {
    return std::tuple{field("step", &MomentumState::step),
                      field("momentum_buffer", &MomentumState::momentum_buffer)};
  }
};

/// g <- -g when maximizing, then + weight_decay * param (when != 0);
/// buf <- g on the first step, then momentum * buf + (1 - dampening) * g;
/// param <- param - lr * buf, or with nesterov param <- param - lr * (g + momentum * buf).
/// The update of one chunk; it depends on Scalar only, so it is compiled once per Scalar.
template <class Scalar>
auto heavy_ball_update(bool first, Scalar lr, Scalar momentum, Scalar dampening,
                       Scalar weight_decay, bool nesterov, bool maximize) {
  const auto update = [=](auto&& p, const auto& g, auto&& buf) {
    if (first) {
      buf = g;
    } else {
      buf = buf * momentum + g * (Scalar(1) - dampening);
    }
    if (nesterov) {
      p -= lr * (g + momentum * buf);
    } else {
      p -= lr * buf;
    }
  };
  return with_maximize(maximize, with_l2_decay(weight_decay, update));
}

/// A Momentum or Nesterov step: checks, advances the state, and runs heavy_ball_update.
template <class Scalar, class Param, class Grad>
void heavy_ball_step(const StepTeam* team, std::string_view who, Param& param,
                     const Eigen::DenseBase<Grad>& grad, MomentumState<Scalar>& state, Scalar lr,
                     Scalar momentum, Scalar dampening, Scalar weight_decay, bool nesterov,
                     bool maximize) {
  check_step<Scalar, Param>(who, param, grad);
  check_buffer(who, "momentum_buffer", state.momentum_buffer, param.size());
  const bool first = state.step == 0;
  ++state.step;
  for_each_chunk(
      team, param, grad,
      heavy_ball_update(first, lr, momentum, dampening, weight_decay, nesterov, maximize),
      state.momentum_buffer.data());
}

}  // namespace descent::detail
