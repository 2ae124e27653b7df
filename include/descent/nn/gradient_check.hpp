#pragma once
// The library's own test of every backward pass, public: a network's gradients (with respect to
// its parameters and to its inputs) against central finite differences of its loss. Use it on a
// layer of your own by putting the layer in a small network:
//
//   descent::nn::Sequential<double> net(4, /*seed=*/1);
//   net.add(Dense{5}).add(MyLayer<double>{...}).add(Dense{3});
//   auto check = descent::nn::check_gradients(net, x, labels, Loss::cross_entropy);
//   assert(check.parameters < 1e-6 && check.inputs < 1e-6);
//
// In double, round-off leaves ~1e-8 to 1e-7 (relative to the largest entry) through a few layers;
// a wrong derivative is off by far more. A layer's random numbers (dropout, noise) repeat for
// every evaluation: the check runs each forward pass from the same point of the network's stream.

#include <descent/error.hpp>
#include <descent/nn/loss.hpp>
#include <descent/nn/sequential.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace descent::nn {

/// How far a network's analytic gradients are from finite differences: the largest absolute
/// difference over all entries, divided by the largest finite-difference entry.
struct GradientCheck {
  double parameters = 0;  ///< over d loss / d parameters (0 when the network has none)
  double inputs = 0;      ///< over d loss / d inputs
};

/// Checks `net`'s backward pass at its current parameters, for inputs x (inputs x batch) and
/// targets y under `loss`, with central differences of step h. The network ends as it began
/// (parameters, random stream, mode); its gradients() hold the analytic gradient.
template <class Scalar, class X, class Y>
GradientCheck check_gradients(Sequential<Scalar>& net, const Eigen::MatrixBase<X>& x,
                              const Eigen::MatrixBase<Y>& y, Loss loss, double h = 1e-6) {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  if (!(h > 0 && std::isfinite(h))) {
    throw InvalidArgument("descent::nn::check_gradients: h must be finite and > 0");
  }
  const DropoutStream start = net.dropout_stream();
  Matrix input = x.template cast<Scalar>();
  const Matrix target = y.template cast<Scalar>();
  Matrix scratch(net.outputs(), input.cols());
  const auto loss_at = [&](const Matrix& in) {
    net.dropout_stream() = start;  // the same masks and noise every time
    return loss_and_gradient(loss, net.forward(in), target, scratch);
  };

  loss_at(input);
  net.backward(scratch, /*input_gradient=*/true);
  const Buffer<Scalar> analytic = net.gradients();
  const Matrix analytic_x = net.input_gradient();

  // d loss / d v by central differences, each entry of v nudged in place and put back.
  const auto numeric = [&](Scalar* v, Eigen::Index n, const auto& evaluate) {
    Buffer<double> g(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const Scalar saved = v[i];
      v[i] = static_cast<Scalar>(double(saved) + h);
      const double up = evaluate();
      v[i] = static_cast<Scalar>(double(saved) - h);
      const double down = evaluate();
      v[i] = saved;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  };
  const auto relative = [](const auto& a, const Buffer<double>& n) {
    if (n.size() == 0) return 0.0;
    const double scale = std::max(n.abs().maxCoeff(), 1e-300);
    return (a.template cast<double>() - n).abs().maxCoeff() / scale;
  };

  GradientCheck check;
  const Buffer<double> by_parameters =
      numeric(net.parameters().data(), net.parameter_count(), [&] { return loss_at(input); });
  check.parameters = relative(analytic, by_parameters);
  const Buffer<double> by_inputs =
      numeric(input.data(), input.size(), [&] { return loss_at(input); });
  check.inputs =
      relative(Eigen::Map<const Buffer<Scalar>>(analytic_x.data(), analytic_x.size()), by_inputs);

  net.gradients() = analytic;
  net.dropout_stream() = start;
  return check;
}

}  // namespace descent::nn
