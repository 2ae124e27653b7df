#pragma once
// Activation functions: the forward map and its derivative, element-wise on a (units x batch)
// block; softmax works per column. Each backward pass is written next to its derivative.

#include <descent/nn/detail/names.hpp>

#include <Eigen/Core>

#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <string_view>

namespace descent::nn {

/// An activation function, element-wise (softmax: per column); gelu is the exact form.
enum class Activation { identity, relu, leaky_relu, elu, gelu, sigmoid, tanh, softplus, softmax };

/// Every Activation with its name, as to_string() and activation_from_string() spell it.
inline constexpr std::array<std::pair<Activation, std::string_view>, 9> activation_names{{
    {Activation::identity, "identity"},
    {Activation::relu, "relu"},
    {Activation::leaky_relu, "leaky_relu"},
    {Activation::elu, "elu"},
    {Activation::gelu, "gelu"},
    {Activation::sigmoid, "sigmoid"},
    {Activation::tanh, "tanh"},
    {Activation::softplus, "softplus"},
    {Activation::softmax, "softmax"},
}};

/// The activation's name, e.g. "relu".
inline std::string_view to_string(Activation a) { return detail::name_of(activation_names, a); }

/// The activation called `name`; an unknown name throws, listing the valid ones.
inline Activation activation_from_string(std::string_view name) {
  return detail::value_named(activation_names, name, "activation");
}

/// Slope of leaky_relu for z < 0, PyTorch's default.
inline constexpr double leaky_relu_slope = 0.01;
/// Alpha of elu, PyTorch's default.
inline constexpr double elu_alpha = 1.0;

namespace detail {

template <class Scalar>
Scalar gaussian_cdf(Scalar z) {
  return Scalar(0.5) * (Scalar(1) + std::erf(z / Scalar(std::numbers::sqrt2)));
}

/// 1 / (1 + e^-v), evaluated so that neither branch overflows.
template <class Scalar>
Scalar sigmoid(Scalar v) {
  return v >= 0 ? Scalar(1) / (Scalar(1) + std::exp(-v)) : std::exp(v) / (Scalar(1) + std::exp(v));
}

}  // namespace detail

/// a = f(z), for z and a blocks of the same shape (they may not alias, except for identity).
template <class Z, class A>
void activate(Activation f, const Z& z, A&& a) {
  using Scalar = typename std::decay_t<A>::Scalar;
  const auto za = z.array();
  auto aa = a.array();
  switch (f) {
    case Activation::identity: aa = za; break;
    case Activation::relu: aa = za.max(Scalar(0)); break;
    case Activation::leaky_relu: aa = (za > 0).select(za, Scalar(leaky_relu_slope) * za); break;
    case Activation::elu:
      aa = (za > 0).select(za, Scalar(elu_alpha) * (za.exp() - Scalar(1)));
      break;
    case Activation::gelu:  // exact form, z * Phi(z), as torch.nn.GELU()
      aa = za.unaryExpr([](Scalar v) { return v * detail::gaussian_cdf(v); });
      break;
    case Activation::sigmoid: aa = za.unaryExpr([](Scalar v) { return detail::sigmoid(v); }); break;
    case Activation::tanh: aa = za.tanh(); break;
    case Activation::softplus:  // log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)
      aa = za.unaryExpr(
          [](Scalar v) { return std::max(v, Scalar(0)) + std::log1p(std::exp(-std::abs(v))); });
      break;
    case Activation::softmax:  // per column, shifted by its max so exp never overflows
      for (Eigen::Index j = 0; j < za.cols(); ++j) {
        aa.col(j) = (za.col(j) - za.col(j).maxCoeff()).exp();
        aa.col(j) /= aa.col(j).sum();
      }
      break;
  }
}

/// dz = f'(z) * da (softmax: the Jacobian-vector product), given z, a = f(z) and da.
template <class Z, class A, class DA, class DZ>
void activation_backward(Activation f, const Z& z, const A& a, const DA& da, DZ&& dz) {
  using Scalar = typename std::decay_t<DZ>::Scalar;
  const auto za = z.array();
  const auto aa = a.array();
  const auto ga = da.array();
  auto out = dz.array();
  switch (f) {
    case Activation::identity: out = ga; break;  // d z/dz = 1
    case Activation::relu:                       // d relu/dz = (z > 0)
      out = (za > 0).select(ga, Scalar(0));
      break;
    case Activation::leaky_relu:  // d/dz = 1 for z > 0, slope otherwise
      out = (za > 0).select(ga, Scalar(leaky_relu_slope) * ga);
      break;
    case Activation::elu:  // d/dz = 1 for z > 0, alpha e^z = a + alpha otherwise
      out = (za > 0).select(ga, (aa + Scalar(elu_alpha)) * ga);
      break;
    case Activation::gelu:  // d/dz z Phi(z) = Phi(z) + z phi(z)
      out = ga * za.unaryExpr([](Scalar v) {
        const Scalar pdf = std::exp(Scalar(-0.5) * v * v) / Scalar(std::sqrt(2 * std::numbers::pi));
        return detail::gaussian_cdf(v) + v * pdf;
      });
      break;
    case Activation::sigmoid:  // d sigma/dz = a (1 - a)
      out = ga * aa * (Scalar(1) - aa);
      break;
    case Activation::tanh:  // d tanh/dz = 1 - a^2
      out = ga * (Scalar(1) - aa.square());
      break;
    case Activation::softplus:  // d/dz log(1 + e^z) = sigmoid(z)
      out = ga * za.unaryExpr([](Scalar v) { return detail::sigmoid(v); });
      break;
    case Activation::softmax:  // dz = a * (da - sum(a * da)), per column
      for (Eigen::Index j = 0; j < aa.cols(); ++j) {
        out.col(j) = aa.col(j) * (ga.col(j) - (aa.col(j) * ga.col(j)).sum());
      }
      break;
  }
}

}  // namespace descent::nn
