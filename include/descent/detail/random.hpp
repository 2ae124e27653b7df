#pragma once
// Random numbers that repeat on every platform. The engines of <random> are specified to the bit,
// but its distributions (uniform_int_distribution, normal_distribution, shuffle, ...) are not:
// libstdc++ and libc++ draw different numbers from the same seed. Everything descent draws goes
// through the few functions here instead, so a seed means the same run everywhere.

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <utility>

namespace descent::detail {

/// SplitMix64's output function: a bijection of 64-bit integers whose outputs pass BigCrush when
/// fed a counter (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", 2014).
constexpr std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// The golden-ratio increment of SplitMix64's counter.
inline constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ull;

/// One step of SplitMix64: spreads a seed over all 64 bits.
constexpr std::uint64_t splitmix64(std::uint64_t x) { return mix64(x + golden_gamma); }

/// An independent generator for each (seed, stream): epochs, splits and trials never share a
/// sequence.
inline std::mt19937_64 make_rng(std::uint64_t seed, std::uint64_t stream) {
  return std::mt19937_64(splitmix64(splitmix64(seed) ^ stream));
}

/// Uniform in [0, bound), bound >= 1 (rejection sampling, no modulo bias).
template <class Rng>
std::uint64_t uniform_below(Rng& rng, std::uint64_t bound) {
  const std::uint64_t threshold = (std::uint64_t{0} - bound) % bound;  // 2^64 mod bound
  std::uint64_t r = rng();
  while (r < threshold) r = rng();
  return r % bound;
}

/// A double in [0, 1) from 53 random bits.
template <class Rng>
double unit_uniform(Rng& rng) {
  return double(rng() >> 11) * 0x1.0p-53;
}

/// A standard normal by Box-Muller (one of the pair; the other is dropped, so a draw is always two
/// engine outputs).
template <class Rng>
double standard_normal(Rng& rng) {
  const double u = 1 - unit_uniform(rng), v = unit_uniform(rng);  // u in (0, 1]
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * 3.14159265358979323846 * v);
}

/// An index drawn with probability weights[i] / sum(weights); weights are finite, >= 0 and not
/// all 0 (the caller's duty). One engine output per draw; no allocation.
template <class Rng>
std::size_t weighted_index(Rng& rng, std::span<const double> weights) {
  double total = 0;
  for (const double w : weights) total += w;
  double target = unit_uniform(rng) * total;
  std::size_t last = 0;  // the last index of positive weight: rounding must not pick a zero one
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0) continue;
    if (target < weights[i]) return i;
    target -= weights[i];
    last = i;
  }
  return last;
}

/// Puts `values` in a random order (Fisher-Yates). No allocation.
template <class T, class Rng>
void shuffle(std::span<T> values, Rng& rng) {
  for (std::size_t i = values.size(); i > 1; --i) {
    std::swap(values[i - 1], values[static_cast<std::size_t>(uniform_below(rng, i))]);
  }
}

/// Fills `order` with 0, 1, ..., n-1 in a random order. No allocation.
template <class T, class Rng>
void shuffled_iota(std::span<T> order, Rng& rng) {
  std::iota(order.begin(), order.end(), T{0});
  shuffle(order, rng);
}

}  // namespace descent::detail
