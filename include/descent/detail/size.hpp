#pragma once
// Sizes computed from untrusted numbers (flags, file headers, checkpoints) without wrapping: a
// product that does not fit says so instead of sizing a buffer from a wrapped value.

#include <concepts>
#include <limits>
#include <optional>

namespace descent::detail {

/// a * b, or nothing when either is negative or the product does not fit in T.
template <std::integral T>
constexpr std::optional<T> checked_product(T a, T b) {
  T result{};
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &result)) return std::nullopt;
  return result;
}

/// a + b, or nothing when either is negative or the sum does not fit in T.
template <std::integral T>
constexpr std::optional<T> checked_sum(T a, T b) {
  T result{};
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &result)) return std::nullopt;
  return result;
}

}  // namespace descent::detail
