#pragma once
// The seeded train/validation split, as sample indices. train_validation_split copies these
// samples out of a Dataset, and nn::Trainer holds out the same ones for Options::validation_split,
// so one seed holds out the same samples on both paths. Indices only: no Dataset and no file
// readers, so the Trainer can use it without zlib.

#include <descent/data/error.hpp>
#include <descent/detail/random.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace descent::data {

/// Which samples train and which validate: indices into a dataset, each index exactly once.
struct SplitIndices {
  std::vector<Eigen::Index> train;       ///< the samples left to train on, in shuffled order
  std::vector<Eigen::Index> validation;  ///< the samples held out, in shuffled order
};

namespace detail {

// The split's own random stream; epochs use streams 0, 1, 2, ... (Batches, epoch_permutation).
inline constexpr std::uint64_t split_stream = 0x5B1177ull;

/// validation_split_indices, with errors that name `function`, the public function called.
inline SplitIndices split_indices(Eigen::Index n, double validation_fraction, std::uint64_t seed,
                                  const std::string& function) {
  if (!(validation_fraction > 0 && validation_fraction < 1)) {
    invalid(function,
            "validation_fraction must be in (0, 1), got " + format_number(validation_fraction));
  }
  if (n < 2) {
    invalid(function, "the dataset needs at least 2 samples to split, it has " + std::to_string(n));
  }
  const auto wanted = static_cast<Eigen::Index>(std::llround(validation_fraction * double(n)));
  const auto validation = static_cast<std::size_t>(std::clamp<Eigen::Index>(wanted, 1, n - 1));
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  auto rng = descent::detail::make_rng(seed, split_stream);
  descent::detail::shuffled_iota(std::span(order), rng);
  SplitIndices split;
  split.validation.assign(order.begin(), order.begin() + std::ptrdiff_t(validation));
  split.train.assign(order.begin() + std::ptrdiff_t(validation), order.end());
  return split;
}

}  // namespace detail

/// Shuffles the indices 0..n-1 with `seed` and holds out round(validation_fraction * n) of them
/// (at least 1, and at least 1 left to train on): the samples train_validation_split and the
/// Trainer's validation_split hold out for the same seed. Throws std::invalid_argument unless
/// validation_fraction is in (0, 1) and n >= 2.
inline SplitIndices validation_split_indices(Eigen::Index n, double validation_fraction,
                                             std::uint64_t seed) {
  return detail::split_indices(n, validation_fraction, seed, "validation_split_indices");
}

}  // namespace descent::data
