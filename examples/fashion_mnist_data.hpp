#pragma once
// Fashion-MNIST for the example programs: both sets from Debian's files (or --data DIR), the
// training set cut to --train-subset, and the install hint on any error about the files.
// Example support code, not library API.

#include "common.hpp"

#include <descent/data.hpp>

#include <string>

namespace descent::examples {

/// The training and test sets.
template <class Scalar>
struct FashionMnist {
  descent::data::Dataset<Scalar> train, test;
};

/// Loads Fashion-MNIST from `dir`, the training set cut to its first `train_subset` images (0:
/// all). Missing or damaged files throw a DataError whose message ends with the install hint; a
/// subset larger than the training set is a UsageError naming --train-subset.
template <class Scalar>
FashionMnist<Scalar> load_fashion_mnist(const std::string& dir, Eigen::Index train_subset) {
  FashionMnist<Scalar> d;
  try {
    d.train = descent::data::load_mnist<Scalar>(dir, descent::data::Split::train);
    d.test = descent::data::load_mnist<Scalar>(dir, descent::data::Split::test);
  } catch (const descent::data::DataError& e) {
    throw descent::data::DataError(std::string(e.what()) + "\n" + std::string(fashion_mnist_hint));
  }
  if (train_subset > 0) {
    if (train_subset > d.train.size()) {
      flag_error("--train-subset", "must be at most " + std::to_string(d.train.size()) +
                                       " (the training images), got " +
                                       std::to_string(train_subset));
    }
    d.train = descent::data::subset(d.train, train_subset);
  }
  return d;
}

}  // namespace descent::examples
