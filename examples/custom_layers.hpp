#pragma once
// Two layers descent does not ship, written the way a user adds their own: a class derived from
// descent::nn::Module (descent/nn/module.hpp), added to a Sequential like Dense. Their backward
// passes are checked against finite differences by descent::nn::check_gradients (see
// examples/custom_layer.cpp and tests/nn_test.cpp).

#include <descent/nn.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>

namespace mylab {

/// A residual block: y = x + relu(W x + b), W square (n x n), so the block learns a correction
/// to its input (He et al., "Deep Residual Learning", 2016, with one dense layer per block).
///
/// With z = W x + b and d = dy * relu'(z) (relu'(z) = 1 where z > 0, which is where y > x):
///   dL/dW = d x^T,   dL/db = sum over the batch of d,   dL/dx = dy + W^T d
/// Parameters in the network's arena: W (n x n, column-major), then b (n).
template <class Scalar>
class ResidualDense : public descent::nn::Module<Scalar> {
 public:
  using Base = descent::nn::Module<Scalar>;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  std::string description() const override { return "residual_dense"; }
  Eigen::Index outputs(Eigen::Index inputs) const override { return inputs; }
  Eigen::Index parameter_count(Eigen::Index inputs) const override {
    return inputs * inputs + inputs;
  }

  /// W from U(-a, a) with a = 0.5 / sqrt(n), small so the block starts near the identity; b = 0.
  void initialize(typename Base::Params p, Eigen::Index n, std::mt19937_64& rng) override {
    const double a = 0.5 / std::sqrt(double(n));
    for (Eigen::Index i = 0; i < n * n; ++i) {
      const double u = double(rng() >> 11) * 0x1.0p-53;  // in [0, 1), the same on every platform
      p[i] = static_cast<Scalar>(a * (2 * u - 1));
    }
    p.tail(n).setZero();
  }

  void forward(const typename Base::ConstBatch& x, typename Base::Batch y,
               typename Base::ConstParams p, const typename Base::Pass&) override {
    const Eigen::Index n = x.rows();
    y.noalias() = weight(p, n) * x;
    y.colwise() += bias(p, n);
    y = x + y.cwiseMax(Scalar(0));
  }

  void backward(typename Base::Backward& b) override {
    const Eigen::Index n = b.x.rows();
    m_d = (b.y.array() > b.x.array()).select(b.dy.array(), Scalar(0)).matrix();  // dy relu'(z)
    Eigen::Map<Matrix>(b.grad.data(), n, n).noalias() = m_d * b.x.transpose();
    b.grad.tail(n) = m_d.rowwise().sum().array();
    if (b.need_dx) {
      b.dx = b.dy;
      b.dx.noalias() += weight(b.params, n).transpose() * m_d;
    }
  }

 private:
  static auto weight(const typename Base::ConstParams& p, Eigen::Index n) {
    return Eigen::Map<const Matrix>(p.data(), n, n);
  }
  static auto bias(const typename Base::ConstParams& p, Eigen::Index n) {
    return Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>(p.data() + n * n, n);
  }
  Matrix m_d;  // scratch, sized once for the largest batch
};

/// Gaussian noise (a regularizer, Keras's GaussianNoise): in training y = x + sigma * e with e
/// drawn from N(0, 1) afresh for every batch; in evaluation y = x. Either way dL/dx = dL/dy, and
/// it has no parameters. Its numbers come from the Pass's seed, so a resumed run (and the
/// gradient check) draws the same ones.
template <class Scalar>
class GaussianNoise : public descent::nn::Module<Scalar> {
 public:
  using Base = descent::nn::Module<Scalar>;

  explicit GaussianNoise(double sigma) : m_sigma(sigma) {
    if (!(sigma >= 0 && std::isfinite(sigma))) {
      throw std::invalid_argument("GaussianNoise: sigma must be finite and >= 0");
    }
  }

  std::string description() const override {
    char text[64];
    std::snprintf(text, sizeof text, "gaussian_noise %g", m_sigma);
    return text;
  }
  Eigen::Index outputs(Eigen::Index inputs) const override { return inputs; }

  void forward(const typename Base::ConstBatch& x, typename Base::Batch y,
               typename Base::ConstParams, const typename Base::Pass& pass) override {
    y = x;
    if (!pass.training || m_sigma == 0) return;
    std::mt19937_64 rng(pass.seed);
    const auto uniform = [&] { return double(rng() >> 11) * 0x1.0p-53; };
    for (Eigen::Index j = 0; j < y.cols(); ++j) {
      for (Eigen::Index i = 0; i < y.rows(); ++i) {  // Box-Muller: a normal from two uniforms
        const double r = std::sqrt(-2 * std::log(1 - uniform()));
        y(i, j) += static_cast<Scalar>(m_sigma * r * std::cos(2 * std::numbers::pi * uniform()));
      }
    }
  }

  void backward(typename Base::Backward& b) override {
    if (b.need_dx) b.dx = b.dy;
  }

 private:
  double m_sigma;
};

}  // namespace mylab
