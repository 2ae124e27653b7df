#pragma once
// Dataset: samples as columns (features x n), targets alongside (targets x n), so a mini-batch is
// a contiguous block of columns. Around it: subsets, a seeded train/validation split, shuffled
// mini-batch orders per epoch (data/batches.hpp) and gather(), which copies a batch into pre-sized
// buffers without allocating. The loaders (data/loaders.hpp) and scalers (data/scaling.hpp) build
// on it; <descent/data.hpp> brings them all.
//
//   auto mnist = descent::data::load_mnist<float>("/usr/share/datasets/fashion-mnist",
//                                                 descent::data::Split::train);
//   auto [training, validation] = descent::data::train_validation_split(mnist, 0.1, /*seed=*/1);
//   descent::data::Batches batches(training.size(), /*batch_size=*/64, /*seed=*/1);
//   Eigen::MatrixXf xb(training.features(), 64), yb(training.targets(), 64);
//   for (Eigen::Index b = 0; b < batches.count(); ++b) {
//     const auto indices = batches.batch(b);
//     const auto k = Eigen::Index(indices.size());  // the last batch may be shorter
//     descent::data::gather(training, indices, xb.leftCols(k), yb.leftCols(k));
//   }
//   batches.next_epoch();
//
// This header reads no files, so it needs Eigen only (no zlib).

#include <descent/data/batches.hpp>
#include <descent/data/error.hpp>
#include <descent/data/validation_split.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

/// Data: IDX and CSV readers, Dataset, scalers, splits and shuffled mini-batches.
namespace descent::data {

/// Samples as columns. For classification y is 1 x n and holds class indices 0..k-1 (as Scalar);
/// for regression it is k x n; an unlabelled dataset has a y with 0 rows.
template <class Scalar>
struct Dataset {
  /// The type of x and y.
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  Matrix x;  ///< features x n
  Matrix y;  ///< targets x n

  Eigen::Index size() const { return x.cols(); }      ///< number of samples
  Eigen::Index features() const { return x.rows(); }  ///< rows of x
  Eigen::Index targets() const { return y.rows(); }   ///< rows of y
};

/// A new dataset of the samples `indices`, in that order (PyTorch's Subset).
template <class Scalar>
Dataset<Scalar> subset(const Dataset<Scalar>& d, std::span<const Eigen::Index> indices) {
  detail::check_dataset(d, "subset");
  const auto k = static_cast<Eigen::Index>(indices.size());
  Dataset<Scalar> out;
  out.x.resize(d.features(), k);
  out.y.resize(d.targets(), k);
  gather(d, indices, out.x, out.y);
  return out;
}

/// A new dataset of the first n samples; n must be in [0, size].
template <class Scalar>
Dataset<Scalar> subset(const Dataset<Scalar>& d, Eigen::Index n) {
  detail::check_dataset(d, "subset");
  if (n < 0 || n > d.size()) {
    detail::invalid("subset",
                    "n must be in [0, " + std::to_string(d.size()) + "], got " + std::to_string(n));
  }
  Dataset<Scalar> out;
  out.x = d.x.leftCols(n);
  out.y = d.targets() > 0 ? typename Dataset<Scalar>::Matrix(d.y.leftCols(n))
                          : typename Dataset<Scalar>::Matrix(0, n);
  return out;
}

/// Shuffles d with `seed` and returns {train, validation}, validation holding
/// round(validation_fraction * size) samples (at least 1, and at least 1 left to train on).
/// The same seed gives the same split: the samples of validation_split_indices, which are also
/// the ones nn::Trainer holds out for a validation_split under that seed.
template <class Scalar>
std::pair<Dataset<Scalar>, Dataset<Scalar>> train_validation_split(const Dataset<Scalar>& d,
                                                                   double validation_fraction,
                                                                   std::uint64_t seed) {
  detail::check_dataset(d, "train_validation_split");
  const SplitIndices split =
      detail::split_indices(d.size(), validation_fraction, seed, "train_validation_split");
  return {subset(d, std::span<const Eigen::Index>(split.train)),
          subset(d, std::span<const Eigen::Index>(split.validation))};
}

/// One-hot encoding of a 1 x n row of class indices: a classes x n matrix with a 1 in row
/// labels(0, j) of column j. A label that is not an integer in [0, classes) is
/// std::invalid_argument.
template <class Derived>
Eigen::Matrix<typename Derived::Scalar, Eigen::Dynamic, Eigen::Dynamic> one_hot(
    const Eigen::MatrixBase<Derived>& labels, Eigen::Index classes) {
  using Scalar = typename Derived::Scalar;
  if (classes < 1) {
    detail::invalid("one_hot", "classes must be >= 1, got " + std::to_string(classes));
  }
  if (labels.rows() != 1) {
    detail::invalid("one_hot", "labels must be a 1 x n row of class indices, got " +
                                   std::to_string(labels.rows()) + " x " +
                                   std::to_string(labels.cols()));
  }
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> out =
      Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(classes, labels.cols());
  for (Eigen::Index j = 0; j < labels.cols(); ++j) {
    const Scalar label = labels(0, j);
    // Compared as Scalar first, so a huge or NaN label never reaches the integer conversion.
    if (!(label >= Scalar(0) && label < Scalar(classes)) || label != std::floor(label)) {
      detail::invalid("one_hot", "labels(0, " + std::to_string(j) +
                                     ") = " + detail::format_number(double(label)) +
                                     " is not a class index in [0, " + std::to_string(classes) +
                                     ")");
    }
    out(static_cast<Eigen::Index>(label), j) = Scalar(1);
  }
  return out;
}

}  // namespace descent::data
