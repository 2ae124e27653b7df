#pragma once
// Loaders that read a dataset from files: load_mnist for MNIST-format directories (IDX files,
// gzipped or not) and load_csv for numeric CSV files. They need zlib (data/input.hpp).

#include <descent/data/csv.hpp>
#include <descent/data/dataset.hpp>
#include <descent/data/error.hpp>
#include <descent/data/idx.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

namespace descent::data {

/// Which files of an MNIST-format directory load_mnist() reads: train-* or t10k-*.
enum class Split { train, test };

namespace detail {

inline std::filesystem::path find_mnist_file(const std::filesystem::path& dir,
                                             const std::string& prefix, const std::string& kind,
                                             const std::string& idx) {
  // train-images-idx3-ubyte(.gz) as published; train-images.idx3-ubyte as some archives unpack it.
  const std::string names[] = {
      prefix + "-" + kind + "-" + idx + "-ubyte.gz", prefix + "-" + kind + "-" + idx + "-ubyte",
      prefix + "-" + kind + "." + idx + "-ubyte", prefix + "-" + kind + "." + idx + "-ubyte.gz"};
  std::error_code ec;
  for (const auto& name : names) {
    if (std::filesystem::is_regular_file(dir / name, ec)) return dir / name;
  }
  throw DataError(dir.string() + ": no " + prefix + " " + kind + " file: looked for " + names[0] +
                  ", " + names[1] + ", " + names[2] + ", " + names[3]);
}

}  // namespace detail

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
        const std::string column = label ? "the label"
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

}  // namespace descent::data
