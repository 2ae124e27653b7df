// Test data shared by the trainer and checkpoint tests: two noisy interleaved spirals, a problem no
// linear model separates.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace descent_test {

template <class S>
struct Data {
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> x, y;
};

/// Two spirals of n points each, class 0 and class 1, with a little noise; the same for a seed.
template <class S>
Data<S> spirals(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.05);
  Data<S> d{decltype(Data<S>::x)(2, 2 * n), decltype(Data<S>::y)(1, 2 * n)};
  for (int i = 0; i < n; ++i) {
    const double r = 0.1 + 0.9 * i / n, angle = 3 * std::numbers::pi * i / n;
    for (int c = 0; c < 2; ++c) {
      const double a = angle + c * std::numbers::pi;
      d.x(0, 2 * i + c) = S(r * std::cos(a) + noise(rng));
      d.x(1, 2 * i + c) = S(r * std::sin(a) + noise(rng));
      d.y(0, 2 * i + c) = S(c);
    }
  }
  return d;
}

}  // namespace descent_test
