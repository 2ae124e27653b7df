#pragma once
// The layers a Sequential network is built from, as plain descriptions: Dense (a fully connected
// layer), an Activation, and Dropout. Sequential owns their parameters and buffers.

#include <descent/nn/activation.hpp>

#include <Eigen/Core>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace descent::nn {

/// How Dense draws its initial weights (biases start at zero).
///   glorot_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))    Keras's default
///   he_normal       N(0, 2 / fan_in)                               suits relu-like units
///   automatic       he_normal before relu-like activations, glorot_uniform otherwise
enum class Init { automatic, glorot_uniform, glorot_normal, he_uniform, he_normal };

/// z = W x + b with W of shape (units x inputs), like torch.nn.Linear.
struct Dense {
  Eigen::Index units = 0;
  Init init = Init::automatic;
};

/// Inverted dropout: in training, zeroes each value with probability `rate` and scales the rest by
/// 1 / (1 - rate); in evaluation, the identity.
struct Dropout {
  double rate = 0.5;
};

namespace detail {

inline bool relu_like(Activation a) {
  return a == Activation::relu || a == Activation::leaky_relu || a == Activation::elu ||
         a == Activation::gelu;
}

/// Fills w (fan_out x fan_in) from rng by `init` (automatic resolved by the caller).
template <class W, class Rng>
void initialize_weights(W&& w, Init init, Rng& rng) {
  using Scalar = typename std::decay_t<W>::Scalar;
  const double fan_in = double(w.cols()), fan_out = double(w.rows());
  const auto fill = [&](auto distribution) {
    for (Eigen::Index j = 0; j < w.cols(); ++j) {
      for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = static_cast<Scalar>(distribution(rng));
    }
  };
  switch (init) {
    case Init::glorot_uniform: {
      const double a = std::sqrt(6 / (fan_in + fan_out));
      fill(std::uniform_real_distribution<double>(-a, a));
      break;
    }
    case Init::glorot_normal:
      fill(std::normal_distribution<double>(0, std::sqrt(2 / (fan_in + fan_out))));
      break;
    case Init::he_uniform: {
      const double a = std::sqrt(6 / fan_in);
      fill(std::uniform_real_distribution<double>(-a, a));
      break;
    }
    case Init::automatic:
    case Init::he_normal:
      fill(std::normal_distribution<double>(0, std::sqrt(2 / fan_in)));
      break;
  }
}

}  // namespace detail
}  // namespace descent::nn
