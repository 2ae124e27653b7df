// Every optimizer reaches the minimum of the classic test problems: Rosenbrock's valley, Beale's
// plateau, an ill-conditioned quadratic and L2-regularised logistic regression (whose exact
// minimiser comes from Newton's method). The adaptive methods hover at a distance set by their
// learning rate, so those runs anneal it with schedule::WarmupCosine, as one would in practice.

#include <descent/optim.hpp>

#include <Eigen/Cholesky>
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <random>
#include <string>

namespace {

template <class Scalar>
using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

template <class Scalar>
struct Problem {
  std::string name;
  std::function<Vec<Scalar>(const Vec<Scalar>&)> grad;
  Vec<Scalar> start, minimum;
};

template <class Scalar>
Problem<Scalar> rosenbrock() {
  return {"rosenbrock",
          [](const Vec<Scalar>& x) {
            Vec<Scalar> g(2);
            g << -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0]), 200 * (x[1] - x[0] * x[0]);
            return g;
          },
          Vec<Scalar>{{-1.2, 1}}, Vec<Scalar>{{1, 1}}};
}

template <class Scalar>
Problem<Scalar> beale() {
  return {"beale",
          [](const Vec<Scalar>& v) {
            const Scalar x = v[0], y = v[1];
            const Scalar a = Scalar(1.5) - x + x * y, b = Scalar(2.25) - x + x * y * y,
                         c = Scalar(2.625) - x + x * y * y * y;
            Vec<Scalar> g(2);
            g << 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y * y * y - 1),
                2 * a * x + 4 * b * x * y + 6 * c * x * y * y;
            return g;
          },
          Vec<Scalar>{{1, 1}}, Vec<Scalar>{{3, 0.5}}};
}

/// f(x) = 1/2 sum_i c_i (x_i - 1)^2 with curvatures from 1 to 100 (condition number 100).
template <class Scalar>
Problem<Scalar> ill_conditioned() {
  const Vec<Scalar> c = Vec<Scalar>::LinSpaced(8, 0, 2).unaryExpr([](Scalar e) {
    return std::pow(Scalar(10), e);
  });
  return {"ill-conditioned quadratic",
          [c](const Vec<Scalar>& x) {
            return Vec<Scalar>(c.array() * (x.array() - 1));
          },
          Vec<Scalar>::Constant(8, -2), Vec<Scalar>::Ones(8)};
}

/// Logistic regression on 200 points in 3-D with an L2 penalty; the minimiser from Newton's method.
template <class Scalar>
Problem<Scalar> logistic_regression() {
  static constexpr int n = 200, d = 3;
  static constexpr double lambda = 1e-2;
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(d, n);
  Eigen::VectorXd y(n);
  const Eigen::Vector3d truth(1.5, -2.0, 0.5);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) x(j, i) = normal(rng);
    y[i] = (truth.dot(x.col(i)) + 0.7 * normal(rng)) > 0 ? 1.0 : 0.0;
  }
  // grad = X (sigmoid(X^T w) - y) / n + lambda w
  const auto grad_d = [x, y](const Eigen::VectorXd& w) -> Eigen::VectorXd {
    const Eigen::ArrayXd p = 1 / (1 + (-(x.transpose() * w).array()).exp());
    return x * (p - y.array()).matrix() / n + lambda * w;
  };
  Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
  for (int it = 0; it < 50; ++it) {  // Newton: H = X diag(p(1-p)) X^T / n + lambda I
    const Eigen::ArrayXd p = 1 / (1 + (-(x.transpose() * w).array()).exp());
    const Eigen::MatrixXd h = x * (p * (1 - p)).matrix().asDiagonal() * x.transpose() / n +
                              lambda * Eigen::MatrixXd::Identity(d, d);
    w -= h.ldlt().solve(grad_d(w));
  }
  REQUIRE(grad_d(w).norm() < 1e-12);
  return {"logistic regression",
          [grad_d](const Vec<Scalar>& v) {
            return Vec<Scalar>(grad_d(v.template cast<double>()).template cast<Scalar>());
          },
          Vec<Scalar>::Zero(d), w.cast<Scalar>()};
}

/// Runs `steps` steps; with `anneal`, the learning rate follows a cosine from its value to 0.
template <class Opt, class Scalar>
double distance_after(const typename Opt::Options& options, const Problem<Scalar>& problem,
                      int steps, bool anneal) {
  Opt opt(options);
  Vec<Scalar> x = problem.start;
  auto state = opt.init(x);
  const descent::schedule::WarmupCosine lr(options.learning_rate, 0, steps);
  for (int t = 0; t < steps; ++t) {
    if (anneal) {
      auto o = options;
      o.learning_rate = static_cast<Scalar>(lr(t));
      opt = Opt(o);
    }
    opt.step(x, problem.grad(x), state);
  }
  return (x - problem.minimum).template cast<double>().norm();
}

template <class Scalar>
double tol(double for_float, double for_double) {
  return sizeof(Scalar) == 4 ? for_float : for_double;
}

}  // namespace

TEMPLATE_TEST_CASE("Every optimizer finds the bottom of Rosenbrock's valley", "[convergence]",
                   float, double) {
  using S = TestType;
  const auto p = rosenbrock<S>();
  const int n = 20000;
  CHECK(distance_after<descent::SGD<S>>({.learning_rate = S(1e-3)}, p, n, false) < 1e-3);
  CHECK(distance_after<descent::Momentum<S>>({.learning_rate = S(1e-4)}, p, n, false) < 1e-3);
  CHECK(distance_after<descent::Nesterov<S>>({.learning_rate = S(1e-4)}, p, n, false) < 1e-3);
  CHECK(distance_after<descent::AdaGrad<S>>({.learning_rate = S(0.5)}, p, n, false) <
        tol<S>(1e-3, 1e-6));
  CHECK(distance_after<descent::RMSProp<S>>({.learning_rate = S(1e-3)}, p, n, true) <
        tol<S>(1e-4, 1e-6));
  CHECK(distance_after<descent::Adadelta<S>>({.epsilon = S(1e-4)}, p, 5 * n, true) < 0.02);
  CHECK(distance_after<descent::Adam<S>>({.learning_rate = S(1e-2)}, p, n, true) <
        tol<S>(1e-4, 1e-10));
  CHECK(distance_after<descent::AdamW<S>>({.learning_rate = S(1e-2), .weight_decay = 0}, p, n,
                                          true) < tol<S>(1e-4, 1e-10));
  CHECK(distance_after<descent::Nadam<S>>({.learning_rate = S(1e-2)}, p, n, true) <
        tol<S>(1e-4, 1e-10));
}

TEMPLATE_TEST_CASE("Every optimizer crosses Beale's plateau to (3, 0.5)", "[convergence]", float,
                   double) {
  using S = TestType;
  const auto p = beale<S>();
  const int n = 20000;
  const double close = tol<S>(1e-3, 1e-8);
  CHECK(distance_after<descent::SGD<S>>({.learning_rate = S(1e-2)}, p, n, false) < close);
  CHECK(distance_after<descent::Momentum<S>>({.learning_rate = S(1e-3)}, p, n, false) < close);
  CHECK(distance_after<descent::Nesterov<S>>({.learning_rate = S(1e-3)}, p, n, false) < close);
  CHECK(distance_after<descent::AdaGrad<S>>({.learning_rate = S(0.5)}, p, n, false) < close);
  CHECK(distance_after<descent::RMSProp<S>>({.learning_rate = S(1e-3)}, p, n, true) < close);
  CHECK(distance_after<descent::Adadelta<S>>({.epsilon = S(1e-4)}, p, n, true) <
        tol<S>(1e-3, 1e-6));
  CHECK(distance_after<descent::Adam<S>>({.learning_rate = S(1e-2)}, p, n, true) < close);
  CHECK(distance_after<descent::Nadam<S>>({.learning_rate = S(1e-2)}, p, n, true) < close);
}

TEMPLATE_TEST_CASE("Every optimizer solves an ill-conditioned quadratic", "[convergence]", float,
                   double) {
  using S = TestType;
  const auto p = ill_conditioned<S>();
  const int n = 5000;
  const double close = tol<S>(1e-4, 1e-8);
  // Plain gradient descent is stable below 2 / (largest curvature) = 0.02.
  CHECK(distance_after<descent::SGD<S>>({.learning_rate = S(0.015)}, p, n, false) < close);
  CHECK(distance_after<descent::Momentum<S>>({.learning_rate = S(0.005)}, p, n, false) < close);
  CHECK(distance_after<descent::Nesterov<S>>({.learning_rate = S(0.005)}, p, n, false) < close);
  CHECK(distance_after<descent::AdaGrad<S>>({.learning_rate = S(1)}, p, n, false) < close);
  CHECK(distance_after<descent::RMSProp<S>>({.learning_rate = S(1e-2)}, p, n, true) < close);
  CHECK(distance_after<descent::Adadelta<S>>({.epsilon = S(1e-3)}, p, n, true) < close);
  CHECK(distance_after<descent::Adam<S>>({.learning_rate = S(0.1)}, p, n, true) < close);
  CHECK(distance_after<descent::Nadam<S>>({.learning_rate = S(0.1)}, p, n, true) < close);
}

TEMPLATE_TEST_CASE("Every optimizer fits L2-regularised logistic regression to Newton's solution",
                   "[convergence]", float, double) {
  using S = TestType;
  const auto p = logistic_regression<S>();
  const int n = 3000;
  const double close = tol<S>(1e-4, 1e-8);
  CHECK(distance_after<descent::SGD<S>>({.learning_rate = S(2)}, p, n, false) < close);
  CHECK(distance_after<descent::Momentum<S>>({.learning_rate = S(0.5)}, p, n, false) < close);
  CHECK(distance_after<descent::Nesterov<S>>({.learning_rate = S(0.5)}, p, n, false) < close);
  CHECK(distance_after<descent::AdaGrad<S>>({.learning_rate = S(0.5)}, p, n, false) < close);
  CHECK(distance_after<descent::RMSProp<S>>({.learning_rate = S(1e-2)}, p, n, true) < close);
  CHECK(distance_after<descent::Adadelta<S>>({.epsilon = S(1e-3)}, p, n, true) < close);
  CHECK(distance_after<descent::Adam<S>>({.learning_rate = S(0.05)}, p, n, true) < close);
  CHECK(distance_after<descent::AdamW<S>>({.learning_rate = S(0.05), .weight_decay = 0}, p, n,
                                          true) < close);
  CHECK(distance_after<descent::Nadam<S>>({.learning_rate = S(0.05)}, p, n, true) < close);
}
