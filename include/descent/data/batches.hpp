#pragma once
// Mini-batches: a shuffled order of the samples for every epoch, derived from (seed, epoch) alone,
// cut into batches, and gather(), which copies a batch's samples into pre-sized buffers without
// allocating. nn::Trainer draws its batches with these, so a seed gives the same batches on both
// paths. Indices and matrices only: no file readers, so the Trainer can use it without zlib.
//
// Shuffles use std::mt19937_64 and the Fisher-Yates shuffle of descent/detail/random.hpp
// (std::shuffle differs between standard libraries), so a seed gives the same order everywhere.

#include <descent/data/error.hpp>
#include <descent/detail/random.hpp>
#include <descent/error.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace descent::data {

namespace detail {

/// The matrix type gather() fills for a dataset type: features x samples of Data::x's Scalar.
template <class Data>
using BatchMatrix =
    Eigen::Matrix<typename std::remove_cvref_t<decltype(std::declval<const Data&>().x)>::Scalar,
                  Eigen::Dynamic, Eigen::Dynamic>;

/// Refuses a dataset whose y (when it has rows) holds another number of samples than x.
template <class Data>
void check_dataset(const Data& d, const char* function) {
  if (d.y.rows() > 0 && d.y.cols() != d.x.cols()) {
    invalid(function, "dataset: x has " + std::to_string(d.x.cols()) +
                          " samples (columns), y has " + std::to_string(d.y.cols()));
  }
}

/// The generator that shuffles epoch `epoch` (0-based) under `seed`: stream `epoch` of the seed.
inline std::mt19937_64 epoch_rng(std::uint64_t seed, std::uint64_t epoch) {
  return descent::detail::make_rng(seed, epoch);
}

/// Fills `order` with epoch `epoch`'s permutation of 0..order.size()-1 under `seed`. No allocation.
inline void epoch_order(std::span<Eigen::Index> order, std::uint64_t seed, std::uint64_t epoch) {
  auto rng = epoch_rng(seed, epoch);
  descent::detail::shuffled_iota(order, rng);
}

}  // namespace detail

/// Copies the samples `indices` (in that order) of `d` into x_out and y_out WITHOUT allocating,
/// for the training loop. `d` is a Dataset or any type with matrices x (features x n) and y
/// (targets x n, or 0 rows). The outputs must be pre-sized: x_out features x indices.size(),
/// y_out targets x indices.size() (pass xb.leftCols(k) for a last, shorter batch). A wrong size
/// is std::invalid_argument, an index outside [0, n) std::out_of_range.
template <class Data>
void gather(const Data& d, std::span<const Eigen::Index> indices,
            Eigen::Ref<detail::BatchMatrix<Data>> x_out,
            Eigen::Ref<detail::BatchMatrix<Data>> y_out) {
  detail::check_dataset(d, "gather");
  const auto k = static_cast<Eigen::Index>(indices.size());
  if (x_out.rows() != d.x.rows() || x_out.cols() != k) {
    detail::invalid("gather", "x_out is " + std::to_string(x_out.rows()) + " x " +
                                  std::to_string(x_out.cols()) + ", expected " +
                                  std::to_string(d.x.rows()) + " x " + std::to_string(k) +
                                  " (features x indices; pre-size it)");
  }
  if (y_out.rows() != d.y.rows() || y_out.cols() != k) {
    detail::invalid("gather", "y_out is " + std::to_string(y_out.rows()) + " x " +
                                  std::to_string(y_out.cols()) + ", expected " +
                                  std::to_string(d.y.rows()) + " x " + std::to_string(k) +
                                  " (targets x indices; pre-size it)");
  }
  for (const Eigen::Index i : indices) {
    if (i < 0 || i >= d.x.cols()) {
      throw OutOfRange("descent::data::gather: index " + std::to_string(i) +
                       " is outside a dataset of " + std::to_string(d.x.cols()) + " samples");
    }
  }
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::Index i = indices[static_cast<std::size_t>(j)];
    x_out.col(j) = d.x.col(i);
    if (d.y.rows() > 0) y_out.col(j) = d.y.col(i);
  }
}

/// The order in which epoch `epoch` (0-based) visits n samples under `seed`: what Batches uses.
inline std::vector<Eigen::Index> epoch_permutation(Eigen::Index n, std::uint64_t seed,
                                                   std::uint64_t epoch) {
  if (n < 0) detail::invalid("epoch_permutation", "n must be >= 0, got " + std::to_string(n));
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  detail::epoch_order(order, seed, epoch);
  return order;
}

/// Shuffled mini-batches of `samples` indices: each epoch a fresh permutation, cut into count()
/// batches of batch_size (the last one shorter when batch_size does not divide samples). A
/// batch_size above samples gives one batch of everything (full-batch gradient descent). The
/// order of epoch e depends only on (seed, e), so training can resume at any epoch; moving to
/// the next epoch does not allocate.
class Batches {
 public:
  /// Batches of `samples` indices under `seed`, at epoch 0; throws std::invalid_argument if
  /// samples or batch_size is < 1.
  Batches(Eigen::Index samples, Eigen::Index batch_size, std::uint64_t seed)
      : m_batch_size(batch_size), m_seed(seed) {
    if (samples < 1) {
      detail::invalid("Batches", "samples must be >= 1, got " + std::to_string(samples));
    }
    if (batch_size < 1) {
      detail::invalid("Batches", "batch_size must be >= 1, got " + std::to_string(batch_size));
    }
    m_order.resize(static_cast<std::size_t>(samples));
    set_epoch(0);
  }

  /// Number of samples the batches cover.
  Eigen::Index samples() const { return static_cast<Eigen::Index>(m_order.size()); }
  /// Samples per batch (the last batch of an epoch may have fewer).
  Eigen::Index batch_size() const { return m_batch_size; }
  /// Batches per epoch: ceil(samples / batch_size).
  Eigen::Index count() const {
    // Not (samples + batch_size - 1) / batch_size, which overflows for a huge batch_size.
    return samples() / m_batch_size + (samples() % m_batch_size != 0 ? 1 : 0);
  }
  /// The current epoch, 0-based.
  std::uint64_t epoch() const { return m_epoch; }

  /// This epoch's permutation of 0..samples-1.
  std::span<const Eigen::Index> order() const { return m_order; }

  /// Batch b (0 <= b < count()) of this epoch: indices into the dataset.
  std::span<const Eigen::Index> batch(Eigen::Index b) const {
    if (b < 0 || b >= count()) {
      throw OutOfRange("descent::data::Batches::batch: b = " + std::to_string(b) +
                       " is outside [0, " + std::to_string(count()) + ")");
    }
    const Eigen::Index first = b * m_batch_size;
    const Eigen::Index size = std::min(m_batch_size, samples() - first);
    return order().subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(size));
  }

  /// Moves to the next epoch's permutation.
  void next_epoch() { set_epoch(m_epoch + 1); }

  /// Moves to epoch e's permutation (to resume training).
  void set_epoch(std::uint64_t e) {
    m_epoch = e;
    detail::epoch_order(m_order, m_seed, e);
  }

 private:
  std::vector<Eigen::Index> m_order;
  Eigen::Index m_batch_size;
  std::uint64_t m_seed;
  std::uint64_t m_epoch = 0;
};

}  // namespace descent::data
