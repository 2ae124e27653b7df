#pragma once
// Dataset: samples as columns (features x n), targets alongside (targets x n), so a mini-batch is
// a contiguous block of columns. Around it: loaders for MNIST-format directories and CSV files,
// scalers fitted on one dataset and applied to another, a seeded train/validation split, shuffled
// mini-batch orders per epoch, and gather(), which copies a batch into pre-sized buffers without
// allocating.
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
// Shuffles use std::mt19937_64 and a Fisher-Yates shuffle of our own (std::shuffle differs between
// standard libraries), so a seed gives the same order everywhere.

#include <descent/data/csv.hpp>
#include <descent/data/error.hpp>
#include <descent/data/idx.hpp>
#include <descent/nn/layers.hpp>  // nn::detail::mix64

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

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

  Eigen::Index size() const { return x.cols(); }       ///< number of samples
  Eigen::Index features() const { return x.rows(); }   ///< rows of x
  Eigen::Index targets() const { return y.rows(); }    ///< rows of y
};

/// Which files of an MNIST-format directory load_mnist() reads: train-* or t10k-*.
enum class Split { train, test };

namespace detail {

[[noreturn]] inline void invalid(const std::string& function, const std::string& what) {
  throw std::invalid_argument("descent::data::" + function + ": " + what);
}

template <class Scalar>
void check_dataset(const Dataset<Scalar>& d, const char* function) {
  if (d.y.rows() > 0 && d.y.cols() != d.x.cols()) {
    invalid(function, "dataset: x has " + std::to_string(d.x.cols()) +
                          " samples (columns), y has " + std::to_string(d.y.cols()));
  }
}

/// Refuses a NaN or an infinity in x (features x samples), naming the first one's feature and
/// sample: fitted statistics would turn it into a NaN for every sample of that feature.
template <class Derived>
void check_finite(const Eigen::DenseBase<Derived>& x, const std::string& function) {
  if (x.allFinite()) return;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      if (!std::isfinite(x(i, j))) {
        invalid(function, "x(" + std::to_string(i) + ", " + std::to_string(j) + ") is " +
                              format_number(double(x(i, j))) + ": feature " + std::to_string(i) +
                              " of sample " + std::to_string(j) +
                              " is not finite (remove or impute it before fitting)");
      }
    }
  }
}

// ---- seeded shuffles -----------------------------------------------------------------------

/// One step of SplitMix64: spreads a seed over all 64 bits.
inline std::uint64_t splitmix64(std::uint64_t x) {
  return nn::detail::mix64(x + 0x9E3779B97F4A7C15ull);
}

/// An independent generator for each (seed, stream): epochs and the split never share a sequence.
inline std::mt19937_64 make_rng(std::uint64_t seed, std::uint64_t stream) {
  return std::mt19937_64(splitmix64(splitmix64(seed) ^ stream));
}

/// Uniform in [0, bound), the same on every platform (rejection sampling, no modulo bias).
inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t threshold = (std::uint64_t{0} - bound) % bound;  // 2^64 mod bound
  std::uint64_t r = rng();
  while (r < threshold) r = rng();
  return r % bound;
}

/// Fills order with 0..n-1 in a random order (Fisher-Yates). No allocation.
inline void shuffled_iota(std::span<Eigen::Index> order, std::mt19937_64& rng) {
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  for (std::size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[uniform_below(rng, i)]);
  }
}

inline constexpr std::uint64_t split_stream = 0x5B1177ull;  // epochs use streams 0, 1, 2, ...

// ---- MNIST ---------------------------------------------------------------------------------

inline std::filesystem::path find_mnist_file(const std::filesystem::path& dir,
                                             const std::string& prefix, const std::string& kind,
                                             const std::string& idx) {
  // train-images-idx3-ubyte(.gz) as published; train-images.idx3-ubyte as some archives unpack it.
  const std::string names[] = {prefix + "-" + kind + "-" + idx + "-ubyte.gz",
                               prefix + "-" + kind + "-" + idx + "-ubyte",
                               prefix + "-" + kind + "." + idx + "-ubyte",
                               prefix + "-" + kind + "." + idx + "-ubyte.gz"};
  std::error_code ec;
  for (const auto& name : names) {
    if (std::filesystem::is_regular_file(dir / name, ec)) return dir / name;
  }
  throw DataError(dir.string() + ": no " + prefix + " " + kind + " file: looked for " + names[0] +
                  ", " + names[1] + ", " + names[2] + ", " + names[3]);
}

}  // namespace detail

// ---- loaders -------------------------------------------------------------------------------

/// Loads an MNIST-format split (MNIST, Fashion-MNIST, KMNIST) from a directory holding
/// train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz (Split::train) or the t10k-* pair
/// (Split::test), gzipped or not. x is (rows * columns) x n with pixels scaled to [0, 1], row-major
/// within an image; y is 1 x n with labels 0..9. Throws DataError for missing or malformed files,
/// image and label counts that disagree, or labels above 9.
template <class Scalar = float>
Dataset<Scalar> load_mnist(const std::filesystem::path& dir, Split split) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw DataError(dir.string() + ": not a directory (expected one holding MNIST-format files)");
  }
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const auto images_path = detail::find_mnist_file(dir, prefix, "images", "idx3");
  const auto labels_path = detail::find_mnist_file(dir, prefix, "labels", "idx1");
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  const auto fail = [](const std::filesystem::path& p, const std::string& what) {
    throw DataError(p.string() + ": " + what);
  };
  if (images.type() != IdxType::ubyte || images.dims.size() != 3) {
    fail(images_path, "expected ubyte images x rows x columns, got " +
                          std::string(idx_type_name(images.type())) + " data in " +
                          std::to_string(images.dims.size()) + " dimensions");
  }
  if (labels.type() != IdxType::ubyte || labels.dims.size() != 1) {
    fail(labels_path, "expected ubyte labels in 1 dimension, got " +
                          std::string(idx_type_name(labels.type())) + " data in " +
                          std::to_string(labels.dims.size()) + " dimensions");
  }
  if (images.dims[0] != labels.dims[0]) {
    throw DataError(images_path.string() + " has " + std::to_string(images.dims[0]) +
                    " images but " + labels_path.string() + " has " +
                    std::to_string(labels.dims[0]) + " labels");
  }
  const auto n = static_cast<Eigen::Index>(images.dims[0]);
  const auto pixels = static_cast<Eigen::Index>(images.dims[1]) * images.dims[2];
  const auto& label_bytes = labels.values<std::uint8_t>();
  for (std::size_t i = 0; i < label_bytes.size(); ++i) {
    if (label_bytes[i] > 9) {
      fail(labels_path, "label " + std::to_string(label_bytes[i]) + " of sample " +
                            std::to_string(i) + " is not in 0..9");
    }
  }

  Dataset<Scalar> d;
  using Bytes = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;
  const Eigen::Map<const Bytes> pixel_bytes(images.values<std::uint8_t>().data(), pixels, n);
  d.x = pixel_bytes.template cast<Scalar>() / Scalar(255);
  d.y = Eigen::Map<const Bytes>(label_bytes.data(), 1, n).template cast<Scalar>();
  return d;
}

/// Loads a numeric CSV file (see csv.hpp): x is features x rows, y is 1 x rows holding the label
/// column, or 0 x rows without one. A value too large for Scalar is a DataError.
template <class Scalar = float>
Dataset<Scalar> load_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
  const CsvTable table = read_csv(path, options);
  const auto rows = static_cast<Eigen::Index>(table.rows);
  const auto features = static_cast<Eigen::Index>(table.features);
  if constexpr (std::numeric_limits<Scalar>::max() < std::numeric_limits<double>::max()) {
    // Converting a double beyond Scalar's range is undefined behaviour; say so instead.
    const auto check_range = [&](const std::vector<double>& values, std::size_t per_row,
                                 bool label) {
      constexpr auto max = static_cast<double>(std::numeric_limits<Scalar>::max());
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (std::abs(values[i]) <= max) continue;
        const std::size_t c = i % per_row;
        const std::string column =
            label ? "the label"
            : c < table.feature_names.size()
                ? "column " + detail::quote_excerpt(table.feature_names[c])
                : "feature " + std::to_string(c) + " (from 0)";
        throw DataError(path.string() + ": sample " + std::to_string(i / per_row) + " (from 0), " +
                        column + ": " + detail::format_number(values[i]) +
                        " is too large for the Scalar type");
      }
    };
    check_range(table.values, table.features, false);
    check_range(table.labels, 1, true);
  }
  Dataset<Scalar> d;
  d.x = Eigen::Map<const Eigen::MatrixXd>(table.values.data(), features, rows)
            .template cast<Scalar>();
  if (table.labels.empty()) {
    d.y.resize(0, rows);
  } else {
    d.y = Eigen::Map<const Eigen::MatrixXd>(table.labels.data(), 1, rows).template cast<Scalar>();
  }
  return d;
}

// ---- scaling -------------------------------------------------------------------------------

/// Maps each feature (row) linearly so that its minimum over the fitted data becomes `low` and its
/// maximum `high` (sklearn's MinMaxScaler). A constant feature maps to `low`.
template <class Scalar>
class MinMaxScaler {
 public:
  /// Features x samples.
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  /// One value per feature.
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  /// Scales to [low, high]; throws std::invalid_argument unless both are finite and low < high.
  explicit MinMaxScaler(Scalar low = Scalar(0), Scalar high = Scalar(1))
      : m_low(low), m_high(high) {
    if (!(std::isfinite(low) && std::isfinite(high) && low < high && std::isfinite(high - low))) {
      detail::invalid("MinMaxScaler",
                      "low must be < high, both finite, high - low too; got low = " +
                          detail::format_number(double(low)) +
                          ", high = " + detail::format_number(double(high)));
    }
  }

  /// Learns each row's minimum and maximum. Needs at least one sample, all values finite, and
  /// each range (max - min) finite; otherwise std::invalid_argument, and the scaler is unchanged.
  MinMaxScaler& fit(const Eigen::Ref<const Matrix>& x) {
    if (x.cols() == 0) detail::invalid("MinMaxScaler::fit", "x has no samples (columns)");
    detail::check_finite(x, "MinMaxScaler::fit");
    Vector min = x.rowwise().minCoeff();
    Vector max = x.rowwise().maxCoeff();
    Vector scale(x.rows());
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      const Scalar range = max(i) - min(i);
      if (!std::isfinite(range)) {
        detail::invalid("MinMaxScaler::fit", "feature " + std::to_string(i) + " spans " +
                                                 detail::format_number(double(min(i))) + " to " +
                                                 detail::format_number(double(max(i))) +
                                                 ", a range too wide for the Scalar type");
      }
      scale(i) = (m_high - m_low) / (range > Scalar(0) ? range : Scalar(1));
    }
    m_min = std::move(min);
    m_max = std::move(max);
    m_scale = std::move(scale);
    return *this;
  }
  /// Learns each feature's minimum and maximum from the dataset's x.
  MinMaxScaler& fit(const Dataset<Scalar>& d) { return fit(d.x); }

  /// x <- (x - min) * (high - low) / (max - min) + low, per row, in place.
  void transform(Eigen::Ref<Matrix> x) const {
    check(x.rows(), "transform");
    x.array().colwise() -= m_min.array();
    x.array().colwise() *= m_scale.array();
    x.array() += m_low;
  }
  /// Transforms the dataset's x in place.
  void transform(Dataset<Scalar>& d) const { transform(d.x); }

  /// Undoes transform.
  void inverse_transform(Eigen::Ref<Matrix> x) const {
    check(x.rows(), "inverse_transform");
    x.array() -= m_low;
    x.array().colwise() /= m_scale.array();
    x.array().colwise() += m_min.array();
  }

  /// Whether fit() has been called.
  bool fitted() const { return m_scale.size() > 0; }
  /// Each feature's minimum over the fitted data (empty before fit()).
  const Vector& data_min() const { return m_min; }
  /// Each feature's maximum over the fitted data (empty before fit()).
  const Vector& data_max() const { return m_max; }

 private:
  void check(Eigen::Index rows, const char* function) const {
    if (!fitted()) {
      throw std::logic_error(std::string("descent::data::MinMaxScaler::") + function +
                             ": call fit first");
    }
    if (rows != m_scale.size()) {
      detail::invalid(std::string("MinMaxScaler::") + function,
                      "x has " + std::to_string(rows) +
                          " features (rows), the scaler was fitted on " +
                          std::to_string(m_scale.size()));
    }
  }

  Scalar m_low, m_high;
  Vector m_min, m_max, m_scale;
};

/// Centres each feature (row) on its mean over the fitted data and divides by its standard
/// deviation (population, as sklearn's StandardScaler). A feature of zero variance is only centred.
/// Sums are taken in double.
template <class Scalar>
class Standardizer {
 public:
  /// Features x samples.
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  /// One value per feature.
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  /// Learns each row's mean and standard deviation. Needs at least one sample, all values
  /// finite, and a variance that double can hold; otherwise std::invalid_argument, and the scaler
  /// is unchanged. (sklearn skips NaNs instead; here they are refused, as the CSV reader does.)
  Standardizer& fit(const Eigen::Ref<const Matrix>& x) {
    if (x.cols() == 0) detail::invalid("Standardizer::fit", "x has no samples (columns)");
    detail::check_finite(x, "Standardizer::fit");
    const double n = double(x.cols());
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(x.rows());
    for (Eigen::Index j = 0; j < x.cols(); ++j) sum += x.col(j).template cast<double>();
    Eigen::VectorXd mean = sum / n;
    // Second pass: squared deviations, and the rounding error of the mean (corrected two-pass).
    Eigen::VectorXd deviation = Eigen::VectorXd::Zero(x.rows());
    Eigen::VectorXd squares = Eigen::VectorXd::Zero(x.rows());
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const Eigen::VectorXd d = x.col(j).template cast<double>() - mean;
      deviation += d;
      squares += d.cwiseAbs2();
    }
    const Eigen::VectorXd variance =
        ((squares - deviation.cwiseAbs2() / n) / n).cwiseMax(0.0);
    mean += deviation / n;
    Vector scale(x.rows());
    constexpr double eps = std::numeric_limits<double>::epsilon();
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      // Values near double's limit (only with Scalar = double) overflow the sums.
      if (!std::isfinite(mean(i)) || !std::isfinite(variance(i))) {
        detail::invalid("Standardizer::fit", "feature " + std::to_string(i) +
                                                 ": its values are too large for their variance "
                                                 "to be computed in double");
      }
      // Rounding leaves a constant feature a tiny variance; below sklearn's bound it is zero.
      const double bound = n * eps * variance(i) + std::pow(n * std::abs(mean(i)) * eps, 2);
      scale(i) = variance(i) > bound ? Scalar(std::sqrt(variance(i))) : Scalar(1);
    }
    m_mean = mean.template cast<Scalar>();
    m_scale = std::move(scale);
    return *this;
  }
  /// Learns each feature's mean and standard deviation from the dataset's x.
  Standardizer& fit(const Dataset<Scalar>& d) { return fit(d.x); }

  /// x <- (x - mean) / stddev, per row, in place.
  void transform(Eigen::Ref<Matrix> x) const {
    check(x.rows(), "transform");
    x.array().colwise() -= m_mean.array();
    x.array().colwise() /= m_scale.array();
  }
  /// Transforms the dataset's x in place.
  void transform(Dataset<Scalar>& d) const { transform(d.x); }

  /// Undoes transform.
  void inverse_transform(Eigen::Ref<Matrix> x) const {
    check(x.rows(), "inverse_transform");
    x.array().colwise() *= m_scale.array();
    x.array().colwise() += m_mean.array();
  }

  /// Whether fit() has been called.
  bool fitted() const { return m_scale.size() > 0; }
  /// Each feature's mean over the fitted data (empty before fit()).
  const Vector& mean() const { return m_mean; }
  /// The standard deviations, with 1 where a feature has none.
  const Vector& scale() const { return m_scale; }

 private:
  void check(Eigen::Index rows, const char* function) const {
    if (!fitted()) {
      throw std::logic_error(std::string("descent::data::Standardizer::") + function +
                             ": call fit first");
    }
    if (rows != m_scale.size()) {
      detail::invalid(std::string("Standardizer::") + function,
                      "x has " + std::to_string(rows) +
                          " features (rows), the scaler was fitted on " +
                          std::to_string(m_scale.size()));
    }
  }

  Vector m_mean, m_scale;
};

/// Scales every feature of d to [0, 1] in place; returns the fitted scaler, to apply to other data.
template <class Scalar>
MinMaxScaler<Scalar> scale_to_unit(Dataset<Scalar>& d) {
  MinMaxScaler<Scalar> scaler;
  scaler.fit(d);
  scaler.transform(d);
  return scaler;
}

// ---- selecting samples ---------------------------------------------------------------------

/// Copies the samples `indices` (in that order) into x_out and y_out WITHOUT allocating, for the
/// training loop. The outputs must be pre-sized: x_out features x indices.size(), y_out
/// targets x indices.size() (pass xb.leftCols(k) for a last, shorter batch). A wrong size is
/// std::invalid_argument, an index outside [0, size) std::out_of_range.
template <class Scalar>
void gather(const Dataset<Scalar>& d, std::span<const Eigen::Index> indices,
            std::type_identity_t<Eigen::Ref<typename Dataset<Scalar>::Matrix>> x_out,
            std::type_identity_t<Eigen::Ref<typename Dataset<Scalar>::Matrix>> y_out) {
  detail::check_dataset(d, "gather");
  const auto k = static_cast<Eigen::Index>(indices.size());
  if (x_out.rows() != d.features() || x_out.cols() != k) {
    detail::invalid("gather", "x_out is " + std::to_string(x_out.rows()) + " x " +
                                  std::to_string(x_out.cols()) + ", expected " +
                                  std::to_string(d.features()) + " x " + std::to_string(k) +
                                  " (features x indices; pre-size it)");
  }
  if (y_out.rows() != d.targets() || y_out.cols() != k) {
    detail::invalid("gather", "y_out is " + std::to_string(y_out.rows()) + " x " +
                                  std::to_string(y_out.cols()) + ", expected " +
                                  std::to_string(d.targets()) + " x " + std::to_string(k) +
                                  " (targets x indices; pre-size it)");
  }
  for (const Eigen::Index i : indices) {
    if (i < 0 || i >= d.size()) {
      throw std::out_of_range("descent::data::gather: index " + std::to_string(i) +
                              " is outside a dataset of " + std::to_string(d.size()) + " samples");
    }
  }
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::Index i = indices[static_cast<std::size_t>(j)];
    x_out.col(j) = d.x.col(i);
    if (d.targets() > 0) y_out.col(j) = d.y.col(i);
  }
}

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
    detail::invalid("subset", "n must be in [0, " + std::to_string(d.size()) + "], got " +
                                  std::to_string(n));
  }
  Dataset<Scalar> out;
  out.x = d.x.leftCols(n);
  out.y = d.targets() > 0 ? typename Dataset<Scalar>::Matrix(d.y.leftCols(n))
                          : typename Dataset<Scalar>::Matrix(0, n);
  return out;
}

/// Shuffles d with `seed` and returns {train, validation}, validation holding
/// round(validation_fraction * size) samples (at least 1, and at least 1 left to train on).
/// The same seed gives the same split.
template <class Scalar>
std::pair<Dataset<Scalar>, Dataset<Scalar>> train_validation_split(const Dataset<Scalar>& d,
                                                                   double validation_fraction,
                                                                   std::uint64_t seed) {
  detail::check_dataset(d, "train_validation_split");
  if (!(validation_fraction > 0 && validation_fraction < 1)) {
    detail::invalid("train_validation_split",
                    "validation_fraction must be in (0, 1), got " +
                        detail::format_number(validation_fraction));
  }
  const Eigen::Index n = d.size();
  if (n < 2) {
    detail::invalid("train_validation_split",
                    "the dataset needs at least 2 samples to split, it has " + std::to_string(n));
  }
  const auto wanted = static_cast<Eigen::Index>(std::llround(validation_fraction * double(n)));
  const Eigen::Index validation = std::clamp<Eigen::Index>(wanted, 1, n - 1);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  auto rng = detail::make_rng(seed, detail::split_stream);
  detail::shuffled_iota(order, rng);
  const std::span<const Eigen::Index> all(order);
  const auto cut = static_cast<std::size_t>(validation);
  return {subset(d, all.subspan(cut)), subset(d, all.first(cut))};
}

/// The order in which epoch `epoch` visits n samples under `seed` (what Batches uses).
inline std::vector<Eigen::Index> epoch_permutation(Eigen::Index n, std::uint64_t seed,
                                                   std::uint64_t epoch) {
  if (n < 0) detail::invalid("epoch_permutation", "n must be >= 0, got " + std::to_string(n));
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  auto rng = detail::make_rng(seed, epoch);
  detail::shuffled_iota(order, rng);
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
      throw std::out_of_range("descent::data::Batches::batch: b = " + std::to_string(b) +
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
    auto rng = detail::make_rng(m_seed, e);
    detail::shuffled_iota(m_order, rng);
  }

 private:
  std::vector<Eigen::Index> m_order;
  Eigen::Index m_batch_size;
  std::uint64_t m_seed;
  std::uint64_t m_epoch = 0;
};

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
      detail::invalid("one_hot", "labels(0, " + std::to_string(j) + ") = " +
                                     detail::format_number(double(label)) +
                                     " is not a class index in [0, " + std::to_string(classes) +
                                     ")");
    }
    out(static_cast<Eigen::Index>(label), j) = Scalar(1);
  }
  return out;
}

}  // namespace descent::data
