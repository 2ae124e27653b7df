#pragma once
// Gradient clipping, as torch.nn.utils does it: by value, by norm, by the global norm of several
// tensors. Each works in place on any writable Eigen object and returns what it measured.

#include <descent/optim/detail/options.hpp>

#include <Eigen/Core>

#include <cmath>
#include <type_traits>

namespace descent {
namespace detail {

/// The factor that brings `norm` down to `max_norm`, or 1 when it is already there
/// (PyTorch: max_norm / (norm + 1e-6), clamped at 1).
inline double clip_coefficient(double norm, double max_norm) {
  const double coef = max_norm / (norm + 1e-6);
  return coef < 1 ? coef : 1;
}

template <class G>
double squared_norm(const G& grad) {
  return static_cast<double>(grad.matrix().squaredNorm());
}

}  // namespace detail

/// Clamps every element of grad to [-limit, limit] (torch.nn.utils.clip_grad_value_).
template <class G>
void clip_by_value(G&& grad, double limit) {
  detail::require_nonnegative("clip_by_value", "limit", limit);
  using Scalar = typename std::remove_reference_t<G>::Scalar;
  const auto l = static_cast<Scalar>(limit);
  grad.array() = grad.array().max(-l).min(l);
}

/// Scales grad so its L2 norm is at most max_norm; returns the norm before clipping.
template <class G>
double clip_by_norm(G&& grad, double max_norm) {
  detail::require_nonnegative("clip_by_norm", "max_norm", max_norm);
  const double norm = std::sqrt(detail::squared_norm(grad));
  const double coef = detail::clip_coefficient(norm, max_norm);
  if (coef < 1) grad *= static_cast<typename std::remove_reference_t<G>::Scalar>(coef);
  return norm;
}

/// Scales all grads by one factor so that their joint L2 norm is at most max_norm
/// (torch.nn.utils.clip_grad_norm_); returns the joint norm before clipping.
template <class... G>
double clip_by_global_norm(double max_norm, G&&... grads) {
  detail::require_nonnegative("clip_by_global_norm", "max_norm", max_norm);
  const double norm = std::sqrt((0.0 + ... + detail::squared_norm(grads)));
  const double coef = detail::clip_coefficient(norm, max_norm);
  if (coef < 1) {
    ((grads *= static_cast<typename std::remove_reference_t<G>::Scalar>(coef)), ...);
  }
  return norm;
}

}  // namespace descent
