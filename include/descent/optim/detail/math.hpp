#pragma once
// Math that several optimizers share, written once: running averages, L2 weight decay, the
// checks every step makes before it touches memory.

#include <descent/optim/detail/kernel.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace descent::detail {

// ---- an exact square root ---------------------------------------------------------------------
// Eigen's vectorised float sqrt defaults (EIGEN_FAST_MATH) to rsqrt plus one Newton step: 1-2 bits
// short of IEEE, different from the scalar path, and wrong for denormals. Optimizer updates take
// the square root of tiny second moments, so we use the exact instruction, as PyTorch does.
template <class Packet>
Packet exact_psqrt(const Packet& x) {
  return Eigen::internal::psqrt(x);  // exact everywhere but float under EIGEN_FAST_MATH
}
#ifdef EIGEN_VECTORIZE_SSE2
inline __m128 exact_psqrt(const __m128& x) { return _mm_sqrt_ps(x); }
#endif
#ifdef EIGEN_VECTORIZE_AVX
inline __m256 exact_psqrt(const __m256& x) { return _mm256_sqrt_ps(x); }
#endif
#ifdef EIGEN_VECTORIZE_AVX512
inline __m512 exact_psqrt(const __m512& x) { return _mm512_sqrt_ps(x); }
#endif

template <class Scalar>
struct ExactSqrt {
  Scalar operator()(const Scalar& x) const { return std::sqrt(x); }
  template <class Packet>
  Packet packetOp(const Packet& x) const {
    return exact_psqrt(x);
  }
};

/// Element-wise IEEE square root of an array expression.
template <class Xpr>
auto sqrt(const Xpr& x) {
  return x.unaryExpr(ExactSqrt<typename Xpr::Scalar>{});
}

/// avg <- rate * avg + (1 - rate) * x, PyTorch's avg.mul_(rate).add_(x, alpha=1-rate).
template <class Avg, class X, class Scalar>
void running_average(Avg&& avg, const X& x, Scalar rate) {
  avg = avg * rate + x * (Scalar(1) - rate);
}

/// sq <- rate * sq + (1 - rate) * x * x, PyTorch's sq.mul_(rate).addcmul_(x, x, value=1-rate).
template <class Sq, class X, class Scalar>
void running_square_average(Sq&& sq, const X& x, Scalar rate) {
  sq = sq * rate + (Scalar(1) - rate) * x * x;
}

/// Wraps a chunk update so it sees -g in place of g when `maximize` is set (PyTorch's maximize,
/// which negates the gradient first, before any weight decay: wrap with_l2_decay's result).
/// The sign is a factor of +-1, exact, so maximizing costs no second instantiation of the update.
template <class Update>
auto with_maximize(bool maximize, Update update) {
  return [sign = maximize ? -1.0 : 1.0, update](auto&& p, const auto& g, auto&&... s) {
    using T = typename std::decay_t<decltype(g)>::Scalar;
    update(p, T(sign) * g, s...);
  };
}

/// Wraps a chunk update so it sees g + weight_decay * p (L2 decay, "coupled") in place of g.
/// PyTorch adds the term only when weight_decay != 0, so a zero decay never reads p into g.
template <class Scalar, class Update>
auto with_l2_decay(Scalar weight_decay, Update update) {
  return [weight_decay, update](auto&& p, const auto& g, auto&&... s) {
    if (weight_decay == 0) {
      update(p, g, s...);
    } else {
      update(p, g + weight_decay * p, s...);
    }
  };
}

/// The compile-time and run-time checks shared by every step().
/// Param is step()'s own forwarding type, so a const param is caught here with a clear message.
template <class Scalar, class Param, class Grad>
void check_step(std::string_view who, const std::remove_reference_t<Param>& param,
                const Eigen::DenseBase<Grad>& grad) {
  using P = std::remove_reference_t<Param>;
  static_assert(!std::is_const_v<P>, "descent: param must be writable, not const");
  static_assert(
      std::is_same_v<typename P::Scalar, Scalar>,
      "descent: param's Scalar must match the optimizer's (Adam<float> steps float tensors)");
  static_assert(std::is_same_v<typename P::Scalar, typename Grad::Scalar>,
                "descent: param and grad must have the same Scalar type");
  check_shapes(who, param, grad);
}

}  // namespace descent::detail

template <class Scalar>
struct Eigen::internal::functor_traits<descent::detail::ExactSqrt<Scalar>> {
  enum {
    Cost = functor_traits<scalar_sqrt_op<Scalar>>::Cost,
    PacketAccess = packet_traits<Scalar>::HasSqrt
  };
};
