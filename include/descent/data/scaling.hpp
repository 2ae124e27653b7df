#pragma once
// Scalers fitted on one dataset and applied to another: MinMaxScaler (sklearn's MinMaxScaler) and
// Standardizer (sklearn's StandardScaler), each feature (row) on its own.

#include <descent/data/dataset.hpp>
#include <descent/data/error.hpp>
#include <descent/error.hpp>

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace descent::data {

namespace detail {

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

/// A scaler's transform refuses to run before fit() (std::logic_error) and x whose row count is
/// not the fitted one (std::invalid_argument). `fitted_rows` is 0 before fit().
inline void check_fitted(const std::string& function, Eigen::Index fitted_rows, Eigen::Index rows) {
  if (fitted_rows == 0) throw LogicError("descent::data::" + function + ": call fit first");
  if (rows != fitted_rows) {
    invalid(function, "x has " + std::to_string(rows) +
                          " features (rows), the scaler was fitted on " +
                          std::to_string(fitted_rows));
  }
}

}  // namespace detail

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
    detail::check_fitted(std::string("MinMaxScaler::") + function, m_scale.size(), rows);
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
    const Eigen::VectorXd variance = ((squares - deviation.cwiseAbs2() / n) / n).cwiseMax(0.0);
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
    detail::check_fitted(std::string("Standardizer::") + function, m_scale.size(), rows);
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

}  // namespace descent::data
