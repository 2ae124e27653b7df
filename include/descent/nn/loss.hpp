#pragma once
// Losses on a (outputs x batch) block of network outputs, with PyTorch's mean reduction. Each
// returns the loss and writes d loss / d outputs into a block of the same shape.
//
//   mse                   mean((z - t)^2)                                  torch.nn.MSELoss
//   mae                   mean(|z - t|)                                    torch.nn.L1Loss
//   huber                 mean(0.5 d^2 if |d| <= delta else delta (|d| - delta/2)), d = z - t
//   binary_cross_entropy  on logits: mean(max(z,0) - z t + log(1 + e^-|z|)) BCEWithLogitsLoss
//   cross_entropy         on logits, fused with a stable softmax            CrossEntropyLoss
//
// Cross-entropy takes targets as class indices (1 x batch) or as probabilities (outputs x batch);
// its mean is over the batch, the others' over every element, as PyTorch's.

#include <descent/detail/format.hpp>
#include <descent/error.hpp>
#include <descent/nn/activation.hpp>

#include <Eigen/Core>

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace descent::nn {

/// A loss: mse, mae, huber, and binary_cross_entropy and cross_entropy on logits.
enum class Loss { mse, mae, huber, binary_cross_entropy, cross_entropy };

/// Every Loss with its name, as to_string() and loss_from_string() spell it.
inline constexpr std::array<std::pair<Loss, std::string_view>, 5> loss_names{{
    {Loss::mse, "mse"},
    {Loss::mae, "mae"},
    {Loss::huber, "huber"},
    {Loss::binary_cross_entropy, "binary_cross_entropy"},
    {Loss::cross_entropy, "cross_entropy"},
}};

/// The loss's name, e.g. "cross_entropy".
inline std::string_view to_string(Loss l) { return detail::name_of(loss_names, l); }

/// The loss called `name` (also "bce", "ce", "crossentropy"); unknown names throw, listing these.
inline Loss loss_from_string(std::string_view name) {
  if (name == "ce" || name == "crossentropy" || name == "categorical_crossentropy")
    return Loss::cross_entropy;
  if (name == "bce") return Loss::binary_cross_entropy;
  return detail::value_named(loss_names, name, "loss");
}

/// Huber's delta, as torch.nn.HuberLoss's default.
inline constexpr double huber_delta = 1.0;

/// Whether a loss treats its outputs as class scores (so accuracy is meaningful).
inline bool is_classification(Loss l) {
  return l == Loss::cross_entropy || l == Loss::binary_cross_entropy;
}

/// The loss of outputs z against targets t; writes d loss / dz into grad (same shape as z).
template <class Z, class T, class G>
double loss_and_gradient(Loss loss, const Z& z_in, const T& t_in, G&& grad_out) {
  using Scalar = typename std::decay_t<G>::Scalar;
  const auto z = z_in.array();
  const auto t = t_in.array();
  auto grad = grad_out.array();
  const Eigen::Index batch = z.cols();
  const auto count = static_cast<double>(z.size());
  if (z.size() == 0) return 0;

  if (loss == Loss::cross_entropy) {
    const bool labels = t.rows() == 1 && z.rows() > 1;
    if (!labels && (t.rows() != z.rows() || t.cols() != z.cols())) {
      throw InvalidArgument(
          "descent::nn: cross_entropy targets must be 1 x batch class "
          "indices or outputs x batch probabilities");
    }
    double total = 0;
    for (Eigen::Index j = 0; j < batch; ++j) {
      // log softmax(z)_i = z_i - m - log sum_k e^(z_k - m), m = max z: no overflow for any z.
      const Scalar m = z.col(j).maxCoeff();
      grad.col(j) = (z.col(j) - m).exp();
      const Scalar sum = grad.col(j).sum();
      const Scalar log_sum = std::log(sum);
      grad.col(j) /= sum;  // softmax
      if (labels) {
        // Checked before the conversion, which is undefined for NaN or a huge label.
        const Scalar label = t(0, j);
        if (!(label >= 0 && label < Scalar(z.rows()) && label == std::floor(label))) {
          throw InvalidArgument("descent::nn: cross_entropy label " +
                                descent::detail::format_number(label) + " is not a class in 0.." +
                                std::to_string(z.rows() - 1));
        }
        const auto k = static_cast<Eigen::Index>(label);
        total -= double(z(k, j) - m - log_sum);
        grad(k, j) -= Scalar(1);  // d/dz = softmax - onehot
      } else {
        total -= double((t.col(j) * (z.col(j) - m - log_sum)).sum());
        grad.col(j) = grad.col(j) * t.col(j).sum() - t.col(j);  // softmax * sum(t) - t
      }
    }
    grad /= Scalar(batch);
    return total / double(batch);
  }

  if (t.rows() != z.rows() || t.cols() != z.cols()) {
    throw InvalidArgument("descent::nn: " + std::string(to_string(loss)) + " targets are " +
                          std::to_string(t.rows()) + "x" + std::to_string(t.cols()) +
                          " but outputs are " + std::to_string(z.rows()) + "x" +
                          std::to_string(z.cols()));
  }
  const auto scale = static_cast<Scalar>(1 / count);
  switch (loss) {
    case Loss::mse:  // d/dz (z - t)^2 = 2 (z - t)
      grad = Scalar(2) * scale * (z - t);
      return double((z - t).square().sum()) / count;
    case Loss::mae:  // d/dz |z - t| = sign(z - t)
      grad = scale * (z - t).sign();
      return double((z - t).abs().sum()) / count;
    case Loss::huber: {  // d/dz = d inside [-delta, delta], delta sign(d) outside
      const auto delta = static_cast<Scalar>(huber_delta);
      const auto d = z - t;
      grad = scale * d.max(-delta).min(delta);
      return double((d.abs() <= delta)
                        .select(Scalar(0.5) * d.square(), delta * (d.abs() - Scalar(0.5) * delta))
                        .sum()) /
             count;
    }
    case Loss::binary_cross_entropy: {  // d/dz = sigmoid(z) - t
      grad = scale * (z.unaryExpr([](Scalar v) { return detail::sigmoid(v); }) - t);
      return double((z.max(Scalar(0)) - z * t + z.abs().unaryExpr([](Scalar v) {
                      return std::log1p(std::exp(-v));
                    })).sum()) /
             count;
    }
    case Loss::cross_entropy: break;  // handled above
  }
  return 0;
}

}  // namespace descent::nn
