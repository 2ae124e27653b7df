// Eigen-only twin of network.cpp (the README's network example): the same 2-32-32-2 relu network
// trained by hand, softmax cross-entropy on class labels, Adam 0.01, minibatches of 32 shuffled
// every epoch, 20 epochs. The baseline network.cpp's compile time is measured against.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <random>
#include <vector>

using Matrix = Eigen::MatrixXf;

// One tensor and what Adam keeps for it (PyTorch's rule, betas 0.9 and 0.999, eps 1e-8).
struct Tensor {
  Matrix value, grad, m, v;
  explicit Tensor(Matrix init)
      : value(std::move(init)),
        grad(Matrix::Zero(value.rows(), value.cols())),
        m(grad),
        v(grad) {}
  void adam(float lr, int t) {
    m = 0.9f * m + 0.1f * grad;
    v = 0.999f * v + 0.001f * grad.cwiseAbs2();
    const float c1 = 1 - std::pow(0.9f, t), c2 = 1 - std::pow(0.999f, t);
    value.array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + 1e-8f);
  }
};

// He-uniform weights (fan_in), zero biases.
Matrix he(Eigen::Index out, Eigen::Index in, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  const float bound = std::sqrt(6.0f / static_cast<float>(in));
  return Matrix::NullaryExpr(out, in, [&] { return bound * u(rng); });
}

// 1 where the activation passed (relu's derivative), else 0.
Matrix passed(const Matrix& h) { return (h.array() > 0).cast<float>(); }

struct Net {
  std::vector<Tensor> p;  // w1 b1 w2 b2 w3 b3
  Matrix h1, h2;          // the hidden activations of the last forward pass

  explicit Net(std::mt19937& rng) {
    for (auto [out, in] : {std::pair{32, 2}, {32, 32}, {2, 32}}) {
      p.emplace_back(he(out, in, rng));
      p.emplace_back(Matrix::Zero(out, 1));
    }
  }
  Matrix forward(const Matrix& x) {
    h1 = ((p[0].value * x).colwise() + p[1].value.col(0)).cwiseMax(0);
    h2 = ((p[2].value * h1).colwise() + p[3].value.col(0)).cwiseMax(0);
    return (p[4].value * h2).colwise() + p[5].value.col(0);
  }
  // Gradients of the mean loss given dz, its gradient at the logits.
  void backward(const Matrix& x, const Matrix& dz) {
    p[4].grad = dz * h2.transpose();
    p[5].grad = dz.rowwise().sum();
    const Matrix d2 = (p[4].value.transpose() * dz).cwiseProduct(passed(h2));
    p[2].grad = d2 * h1.transpose();
    p[3].grad = d2.rowwise().sum();
    const Matrix d1 = (p[2].value.transpose() * d2).cwiseProduct(passed(h1));
    p[0].grad = d1 * x.transpose();
    p[1].grad = d1.rowwise().sum();
  }
};

// Column-wise softmax of the logits.
Matrix softmax(const Matrix& z) {
  Matrix e = (z.rowwise() - z.colwise().maxCoeff()).array().exp();
  return e.array().rowwise() / e.colwise().sum().array();
}

int main() {
  // y = 1 when a point lies inside the unit circle: not linearly separable.
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(2, 2000) * 1.5f;
  Eigen::MatrixXf y = (x.colwise().norm().array() < 1).cast<float>();

  std::mt19937 rng(0);
  Net net(rng);
  std::vector<Eigen::Index> order(x.cols());
  std::iota(order.begin(), order.end(), 0);
  int t = 0;
  for (int epoch = 0; epoch < 20; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t start = 0; start < order.size(); start += 32) {
      const std::size_t n = std::min<std::size_t>(32, order.size() - start);
      Matrix xb(2, n), dz(2, n);
      for (std::size_t j = 0; j < n; ++j) xb.col(j) = x.col(order[start + j]);
      dz = softmax(net.forward(xb));
      for (std::size_t j = 0; j < n; ++j) dz(static_cast<int>(y(0, order[start + j])), j) -= 1;
      net.backward(xb, dz / static_cast<float>(n));
      ++t;
      for (auto& tensor : net.p) tensor.adam(0.01f, t);
    }
  }

  const Matrix z = net.forward(x);
  int correct = 0;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    Eigen::Index predicted = 0;
    z.col(j).maxCoeff(&predicted);
    correct += predicted == static_cast<Eigen::Index>(y(0, j));
  }
  std::cout << "accuracy " << static_cast<double>(correct) / x.cols() << "\n";  // about 0.98
}
