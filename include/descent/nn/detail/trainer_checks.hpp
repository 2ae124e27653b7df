#pragma once
// What the Trainer refuses, and how it says so: its error type and prefix, learning rates a
// Scalar cannot hold, data whose shape does not fit the network, non-finite samples, and the
// error that ends fit() at a non-finite loss or gradient. Every message names the value at fault.

#include <descent/detail/format.hpp>
#include <descent/error.hpp>
#include <descent/nn/loss.hpp>
#include <descent/nn/sequential.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace descent::nn::detail {

/// Throws std::invalid_argument("descent::nn::Trainer: " + what).
[[noreturn]] inline void trainer_error(const std::string& what) {
  throw InvalidArgument("descent::nn::Trainer: " + what);
}

/// Why `rate` cannot be a learning rate for Scalar ("must be finite and >= 0, got nan",
/// "1e+300 is larger than the largest float, ..."), or "" when it can.
template <class Scalar>
std::string learning_rate_fault(double rate) {
  using descent::detail::format_number;
  if (!(std::isfinite(rate) && rate >= 0)) {
    return "must be finite and >= 0, got " + format_number(rate);
  }
  if (rate > double(std::numeric_limits<Scalar>::max())) {
    return format_number(rate) + " is larger than the largest " +
           (sizeof(Scalar) == 4 ? std::string("float") : std::string("double")) + ", " +
           format_number(std::numeric_limits<Scalar>::max());
  }
  return "";
}

/// Throws unless x (features x n) and y fit `net` and `loss`: x's rows are the network's inputs,
/// y has a target for every sample, as many rows as outputs, or for cross-entropy one row of
/// class indices in 0..outputs-1. `what` names the data in the error ("training data").
template <class Scalar, class X, class Y>
void check_data(const Sequential<Scalar>& net, Loss loss, const X& x, const Y& y,
                const char* what) {
  const std::string data(what);
  if (x.rows() != net.inputs()) {
    trainer_error(data + " has " + std::to_string(x.rows()) + " features, the network takes " +
                  std::to_string(net.inputs()));
  }
  if (y.cols() != x.cols()) {
    trainer_error(data + " has " + std::to_string(x.cols()) + " samples but " +
                  std::to_string(y.cols()) + " targets");
  }
  if (x.cols() == 0) trainer_error(data + " is empty");
  const bool labels = loss == Loss::cross_entropy && y.rows() == 1;
  if (!labels && y.rows() != net.outputs()) {
    trainer_error(data + " has " + std::to_string(y.rows()) + " target rows, the network has " +
                  std::to_string(net.outputs()) + " outputs");
  }
  if (labels && ((y.array() < 0).any() || (y.array() >= Scalar(net.outputs())).any() ||
                 (y.array() != y.array().round()).any())) {
    trainer_error(data + " has labels outside 0.." + std::to_string(net.outputs() - 1));
  }
}

/// Throws unless every value of the columns `idx` of x and y (all of them when idx is empty)
/// is finite; the error names the first bad value's place.
template <class Matrix>
void check_finite(const Matrix& x, const Matrix& y, const std::vector<Eigen::Index>& idx,
                  const std::string& what) {
  const Eigen::Index n = idx.empty() ? x.cols() : static_cast<Eigen::Index>(idx.size());
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::Index j = idx.empty() ? k : idx[static_cast<std::size_t>(k)];
    for (const auto* m : {&x, &y}) {
      if (m->col(j).allFinite()) continue;
      Eigen::Index i = 0;
      while (std::isfinite(double((*m)(i, j)))) ++i;
      const double v = double((*m)(i, j));
      trainer_error(what + " has " +
                    (std::isnan(v) ? std::string("nan") : descent::detail::format_number(v)) +
                    " in " + (m == &x ? "feature " : "target row ") + std::to_string(i) +
                    " of sample " + std::to_string(j) + " (drop or fill such samples first)");
    }
  }
}

/// The error of NonFinite::stop: what became non-finite, where, and the first bad element.
template <class Scalar>
[[noreturn]] void non_finite(const Sequential<Scalar>& net, double loss, int epoch,
                             Eigen::Index batch, std::int64_t steps) {
  // "nan", never "-nan": the sign of a NaN depends on the instructions that made it.
  const auto text = [](double v) {
    return std::isnan(v) ? std::string("nan") : descent::detail::format_number(v);
  };
  std::string what = "the loss became " + text(loss);
  if (std::isfinite(loss)) {
    const auto g = net.gradients();
    Eigen::Index i = 0;
    while (i < g.size() && std::isfinite(g[i])) ++i;
    what = "the gradient became " + text(double(g[i])) + " (element " + std::to_string(i) + " of " +
           std::to_string(g.size()) + ")";
  }
  throw RuntimeError("descent::nn::Trainer: " + what + " at epoch " + std::to_string(epoch) +
                     ", batch " + std::to_string(batch + 1) + " (step " +
                     std::to_string(steps + 1) +
                     "; try a lower learning rate, check the data, or set "
                     "on_non_finite = skip)");
}

}  // namespace descent::nn::detail
