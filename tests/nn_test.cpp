// The network module: every backward pass against central finite differences in double, one
// training step of small MLPs against PyTorch (tests/golden/nn, from make_golden_nn.py),
// dropout's behaviour, and the numerically stable cross-entropy. Layers from outside the library:
// a user's Module goes into a Sequential, check_gradients verifies it (and catches a wrong one),
// and it trains (its checkpoints: io_test.cpp).

#include "../examples/custom_layers.hpp"
#include "spirals.hpp"

#include <descent/nn.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

using Catch::Matchers::Contains;
using descent::nn::Activation;
using descent::nn::Dense;
using descent::nn::Loss;
using Matrix = Eigen::MatrixXd;

namespace {

/// Largest |a - b| relative to the largest |b| (so tiny entries of a tensor do not dominate).
template <class A, class B>
double relative_error(const A& a, const B& b) {
  const double scale = std::max(b.template cast<double>().cwiseAbs().maxCoeff(), 1e-300);
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff() / scale;
}

/// Central differences of a scalar function f at x (each element perturbed by h).
template <class F>
Matrix numeric_gradient(F&& f, Matrix x, double h = 1e-6) {
  Matrix g(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double saved = x.data()[i];
    x.data()[i] = saved + h;
    const double up = f(x);
    x.data()[i] = saved - h;
    const double down = f(x);
    x.data()[i] = saved;
    g.data()[i] = (up - down) / (2 * h);
  }
  return g;
}

}  // namespace

TEST_CASE("Every activation's backward pass matches finite differences", "[nn][gradcheck]") {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-2, 2);
  Matrix z(5, 4), upstream(5, 4);
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    z.data()[i] = u(rng);
    if (std::abs(z.data()[i]) < 0.05) z.data()[i] = 0.3;  // keep away from relu's kink
    upstream.data()[i] = u(rng);
  }
  for (const auto& [f, name] : descent::nn::activation_names) {
    INFO(name);
    Matrix a(5, 4), dz(5, 4);
    descent::nn::activate(f, z, a);
    descent::nn::activation_backward(f, z, a, upstream, dz);
    const auto weighted = [&, f = f](const Matrix& zz) {
      Matrix aa(zz.rows(), zz.cols());
      descent::nn::activate(f, zz, aa);
      return (aa.array() * upstream.array()).sum();
    };
    CHECK(relative_error(dz, numeric_gradient(weighted, z)) < 1e-8);
  }
}

TEST_CASE("Every loss's gradient matches finite differences", "[nn][gradcheck]") {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(-2, 2);
  Matrix z(4, 6), t(4, 6), labels(1, 6), probabilities(4, 6), bits(4, 6);
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    z.data()[i] = u(rng);
    t.data()[i] = u(rng);
    if (std::abs(std::abs(z.data()[i] - t.data()[i]) - 1) < 0.05) t.data()[i] += 0.2;  // huber kink
    bits.data()[i] = u(rng) > 0 ? 1 : 0;
  }
  for (int j = 0; j < 6; ++j) labels(0, j) = j % 4;
  probabilities = Matrix::Random(4, 6).array().abs() + 0.1;
  probabilities.array().rowwise() /= probabilities.array().colwise().sum();

  const std::vector<std::tuple<Loss, const Matrix*, const char*>> cases = {
      {Loss::mse, &t, "mse"},
      {Loss::mae, &t, "mae"},
      {Loss::huber, &t, "huber"},
      {Loss::binary_cross_entropy, &bits, "binary cross-entropy"},
      {Loss::cross_entropy, &labels, "cross-entropy, labels"},
      {Loss::cross_entropy, &probabilities, "cross-entropy, probabilities"},
  };
  for (const auto& [loss, target, name] : cases) {
    INFO(name);
    Matrix grad(4, 6);
    descent::nn::loss_and_gradient(loss, z, *target, grad);
    const auto value = [&, loss = loss, target = target](const Matrix& zz) {
      Matrix scratch(zz.rows(), zz.cols());
      return descent::nn::loss_and_gradient(loss, zz, *target, scratch);
    };
    CHECK(relative_error(grad, numeric_gradient(value, z)) < 1e-7);
  }
}

TEST_CASE("A whole network's backward pass matches finite differences", "[nn][gradcheck]") {
  descent::nn::Sequential<double> net(5, 3);
  net.add(Dense{7}).add(Activation::tanh).add(Dense{6}).add(Activation::gelu);
  net.add(Dense{5}).add(Activation::softplus).add(Dense{4}).add(Activation::elu).add(Dense{3});
  const Matrix x = Matrix::Random(5, 8);
  Matrix labels(1, 8);
  for (int j = 0; j < 8; ++j) labels(0, j) = j % 3;
  Matrix grad(3, 8);
  descent::nn::loss_and_gradient(Loss::cross_entropy, net.forward(x), labels, grad);
  net.backward(grad, /*input_gradient=*/true);
  const Matrix analytic = Eigen::Map<const Matrix>(net.gradients().data(), net.parameter_count(), 1);
  const Matrix analytic_x = net.input_gradient();

  const auto loss_at = [&](const Matrix& params, const Matrix& input) {
    descent::nn::Sequential<double> copy(5, 3);
    copy.add(Dense{7}).add(Activation::tanh).add(Dense{6}).add(Activation::gelu);
    copy.add(Dense{5}).add(Activation::softplus).add(Dense{4}).add(Activation::elu).add(Dense{3});
    copy.parameters() = Eigen::Map<const descent::Buffer<double>>(params.data(), params.size());
    Matrix scratch(3, 8);
    return descent::nn::loss_and_gradient(Loss::cross_entropy, copy.forward(input), labels, scratch);
  };
  const Matrix params = Eigen::Map<const Matrix>(net.parameters().data(), net.parameter_count(), 1);
  // Through four layers the round-off of a 1e-6 difference reaches ~1e-7 of the largest entry;
  // a wrong derivative is off by far more.
  CHECK(relative_error(analytic, numeric_gradient([&](const Matrix& p) { return loss_at(p, x); },
                                                  params)) < 1e-6);
  CHECK(relative_error(analytic_x, numeric_gradient([&](const Matrix& xx) { return loss_at(params, xx); },
                                                    x)) < 1e-6);
}

TEST_CASE("Dropout drops at its rate, keeps the mean, and back-propagates through its mask",
          "[nn]") {
  descent::nn::Sequential<double> net(200, 5);
  net.add(descent::nn::Dropout{0.3});
  const Matrix x = Matrix::Constant(200, 50, 2.0);
  net.set_training(true);
  const Matrix y = net.forward(x);
  const double dropped = double((y.array() == 0).count()) / double(y.size());
  CHECK(dropped == Approx(0.3).margin(0.02));
  CHECK(((y.array() == 0) || (y.array() - 2 / 0.7).abs() < 1e-12).all());  // kept ones scaled
  CHECK(y.mean() == Approx(2.0).epsilon(0.05));
  net.backward(Matrix::Ones(200, 50), true);
  const Matrix gx = net.input_gradient();
  CHECK(((gx.array() == 0) == (y.array() == 0)).all());  // the same mask
  net.set_training(false);
  CHECK(net.forward(x) == x);  // evaluation: the identity
}

TEST_CASE("Cross-entropy on logits of +-1e4 stays finite", "[nn]") {
  Eigen::MatrixXf z(3, 2), labels(1, 2), grad(3, 2);
  z << 1e4f, -1e4f, -1e4f, 1e4f, 0, 5e3f;
  labels << 1, 0;  // both samples confidently wrong
  const double loss = descent::nn::loss_and_gradient(Loss::cross_entropy, z, labels, grad);
  CHECK(std::isfinite(loss));
  CHECK(loss == Approx(2e4).epsilon(1e-6));  // mean of 2e4 and 2e4
  CHECK(grad.allFinite());
  CHECK(grad(0, 0) == Approx(0.5f));  // (softmax - onehot) / batch
  CHECK(grad(1, 0) == Approx(-0.5f));
}

namespace {

struct GoldenNet {
  std::vector<Eigen::Index> layers;
  std::string activation, loss;
  std::map<std::string, Matrix> input;                     // x, y, W1, b1, ...
  std::map<std::string, std::map<std::string, Matrix>> expected;  // dtype -> name -> value
  std::map<std::string, double> expected_loss;
};

GoldenNet load_golden(const std::filesystem::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  GoldenNet g;
  std::string line, token, dtype;
  std::getline(in, line);
  while (in >> token) {
    if (token == "layers") {
      std::getline(in, line);
      std::istringstream s(line);
      Eigen::Index n;
      while (s >> n) g.layers.push_back(n);
    } else if (token == "activation") {
      in >> g.activation;
    } else if (token == "loss" && !dtype.empty()) {
      in >> g.expected_loss[dtype];
    } else if (token == "loss") {
      in >> g.loss;
    } else if (token == "batch") {
      in >> token;
    } else if (token == "float64" || token == "float32") {
      dtype = token;
    } else {
      Eigen::Index rows = 0, cols = 0;
      in >> rows >> cols;
      Matrix m(rows, cols);
      for (Eigen::Index i = 0; i < rows; ++i) {
        for (Eigen::Index j = 0; j < cols; ++j) {
          in >> line;
          m(i, j) = std::stod(line);
        }
      }
      (dtype.empty() ? g.input[token] : g.expected[dtype][token]) = m;
    }
  }
  REQUIRE(g.layers.size() == 4);
  return g;
}

}  // namespace

TEMPLATE_TEST_CASE("One forward, backward and Adam step of an MLP matches PyTorch", "[nn][golden]",
                   float, double) {
  using S = TestType;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  const std::string dtype = sizeof(S) == 8 ? "float64" : "float32";
  const double tolerance = sizeof(S) == 8 ? 1e-12 : 1e-5;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DESCENT_GOLDEN_NN_DIR)) {
    const GoldenNet g = load_golden(entry.path());
    ++files;
    INFO(entry.path().filename().string() << " (" << dtype << ")");
    const Activation act = descent::nn::activation_from_string(g.activation);
    descent::nn::Sequential<S> net(g.layers[0]);
    net.add(Dense{g.layers[1]}).add(act).add(Dense{g.layers[2]}).add(act).add(Dense{g.layers[3]});
    for (int l = 0; l < 3; ++l) {
      net.weight(2 * l) = g.input.at("W" + std::to_string(l + 1)).cast<S>();
      net.bias(2 * l) = g.input.at("b" + std::to_string(l + 1)).cast<S>();
    }
    const M x = g.input.at("x").cast<S>(), y = g.input.at("y").cast<S>();
    M grad(g.layers[3], x.cols());
    const double loss = descent::nn::loss_and_gradient(descent::nn::loss_from_string(g.loss),
                                                       net.forward(x), y, grad);
    net.backward(grad, true);
    const auto& want = g.expected.at(dtype);
    CHECK(loss == Approx(g.expected_loss.at(dtype)).epsilon(tolerance));
    CHECK(relative_error(M(net.input_gradient()), want.at("grad_x")) < tolerance);
    for (int l = 0; l < 3; ++l) {
      const auto n = std::to_string(l + 1);
      INFO("layer " << n);
      CHECK(relative_error(M(net.weight_gradient(2 * l)), want.at("grad_W" + n)) < tolerance);
      CHECK(relative_error(M(net.bias_gradient(2 * l)), want.at("grad_b" + n)) < tolerance);
    }
    // One Adam step over the whole arena: one State, one fused pass.
    auto adam = descent::make_optimizer<S>("adam");
    adam.add_param_group({descent::Parameter<S>{net.parameters().data(), net.gradients().data(),
                                                net.parameter_count(), "net"}});
    adam.step();
    for (int l = 0; l < 3; ++l) {
      const auto n = std::to_string(l + 1);
      INFO("layer " << n);
      CHECK(relative_error(M(net.weight(2 * l)), want.at("after_W" + n)) < tolerance);
      CHECK(relative_error(M(net.bias(2 * l)), want.at("after_b" + n)) < tolerance);
    }
  }
  CHECK(files >= 7);
}

TEST_CASE("Layer sizes that overflow or cannot fit in memory are refused; the network is unchanged",
          "[nn][sizes]") {
  using descent::nn::Sequential;
  Sequential<float> net(784);
  net.add(Dense{10});
  const Eigen::Index before = net.parameter_count();

  // units * (inputs + 1) wraps around 2^63: refused before any memory is sized from it.
  CHECK_THROWS_AS(net.add(Dense{8953133110934190020}), std::length_error);
  CHECK_THROWS_WITH(net.add(Dense{8953133110934190020}),
                    Contains("layer 1") && Contains("8953133110934190020 units on 10 inputs"));
  // 2^44 * 11 floats, twice (with gradients): more than any address space holds.
  CHECK_THROWS_WITH(net.add(Dense{Eigen::Index(1) << 44}),
                    Contains("layer 1") && Contains("do not fit in memory"));
  // A batch whose buffers cannot exist.
  CHECK_THROWS_WITH(net.reserve(Eigen::Index(1) << 61),
                    Contains("batch of 2305843009213693952") && Contains("do not fit in memory"));
  REQUIRE(net.layer_count() == 1);
  REQUIRE(net.parameter_count() == before);
  CHECK(net.forward(Eigen::MatrixXf::Ones(784, 3)).cols() == 3);  // still works

  // The same through make_network, and counted before building.
  const descent::nn::NetworkSpec huge{.inputs = 784, .outputs = 10, .hidden = {8953133110934190020}};
  CHECK_THROWS_AS(descent::nn::make_network<float>(huge), std::length_error);
  CHECK_THROWS_AS(descent::nn::parameter_count(huge), std::length_error);
  const descent::nn::NetworkSpec small{.inputs = 784, .outputs = 10, .hidden = {256, 128}};
  CHECK(descent::nn::parameter_count(small) ==
        descent::nn::make_network<float>(small).parameter_count());
  CHECK_THROWS_AS(descent::nn::parameter_count({.inputs = 784, .outputs = 10, .hidden = {0}}),
                  std::invalid_argument);
}

TEST_CASE("Messages print numbers in their shortest exact form", "[nn][messages]") {
  descent::nn::Sequential<float> net(3);
  CHECK_THROWS_WITH(net.add(descent::nn::Dropout{-1}), Contains("got -1") && !Contains("-1.0"));
  CHECK_THROWS_WITH(net.add(descent::nn::Dropout{1.5}), Contains("got 1.5") && !Contains("1.50"));
}

namespace {

/// y = a * x with one parameter a, whose backward forgets the input in dL/da: a wrong layer.
template <class Scalar>
struct WrongScale : descent::nn::Module<Scalar> {
  using Base = descent::nn::Module<Scalar>;
  std::string description() const override { return "wrong_scale"; }
  Eigen::Index outputs(Eigen::Index inputs) const override { return inputs; }
  Eigen::Index parameter_count(Eigen::Index) const override { return 1; }
  void initialize(typename Base::Params a, Eigen::Index, std::mt19937_64&) override { a[0] = 2; }
  void forward(const typename Base::ConstBatch& x, typename Base::Batch y,
               typename Base::ConstParams a, const typename Base::Pass&) override {
    y = a[0] * x;
  }
  void backward(typename Base::Backward& b) override {
    b.grad[0] = b.dy.sum();  // should be sum(dy .* x)
    if (b.need_dx) b.dx = b.params[0] * b.dy;
  }
};

descent::nn::Sequential<double> layered_net(std::uint64_t seed) {
  using descent::nn::Activation;
  using descent::nn::Dense;
  descent::nn::Sequential<double> net(2, seed);
  net.add(Dense{16}).add(mylab::ResidualDense<double>{}).add(Activation::tanh);
  net.add(mylab::GaussianNoise<double>(0.1)).add(Dense{2});
  return net;
}

}  // namespace

TEST_CASE("check_gradients passes the user's layers and catches a wrong one", "[extension][nn]") {
  using descent::nn::Loss;
  auto net = layered_net(3);
  CHECK(net.description(1) == "residual_dense");
  CHECK(net.description(3) == "gaussian_noise 0.1");
  CHECK(net.parameter_count() == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2));
  const auto data = descent_test::spirals<double>(4, 1);
  net.set_training(true);  // the noise is on, and repeats within the check
  const descent::Buffer<double> before = net.parameters();
  const auto stream = net.dropout_stream();
  const auto check = descent::nn::check_gradients(net, data.x, data.y, Loss::cross_entropy);
  CHECK(check.parameters < 1e-6);
  CHECK(check.inputs < 1e-6);
  CHECK((net.parameters() == before).all());  // the network is as it was
  CHECK(net.dropout_stream() == stream);

  descent::nn::Sequential<double> wrong(2, 1);
  wrong.add(descent::nn::Dense{3}).add(WrongScale<double>{}).add(descent::nn::Dense{2});
  const auto caught = descent::nn::check_gradients(wrong, data.x, data.y, Loss::cross_entropy);
  CHECK(caught.parameters > 1e-2);
  CHECK(caught.inputs < 1e-6);  // its dL/dx is right
}

TEST_CASE("A network with the user's layers trains, on one thread or two", "[extension][nn]") {
  using Trainer = descent::nn::Trainer<double>;
  const auto train = descent_test::spirals<double>(60, 2);
  std::vector<double> losses;
  for (const int threads : {1, 2}) {
    auto net = layered_net(5);
    Trainer trainer({.optimizer = "adam",
                     .learning_rate = 0.03,
                     .batch_size = 16,
                     .epochs = 40,
                     .progress = Trainer::Progress::none,
                     .threads = threads});
    const auto history = trainer.fit(net, train);
    // Spirals are hard for one tanh layer: it ends near 0.67 without the residual block.
    CHECK(history.epochs.back().loss < 0.85 * history.epochs.front().loss);
    losses.push_back(history.epochs.back().loss);
  }
  CHECK(losses[1] == Approx(losses[0]).epsilon(1e-9));  // two threads: the same run

  // A batch smaller than the threads: the thread without samples still meets the others.
  auto net = layered_net(5), alone = layered_net(5);
  net.set_threads(2);
  const Eigen::MatrixXd x = descent_test::spirals<double>(1, 3).x.leftCols(1);
  const Eigen::MatrixXd y2 = net.forward(x), y1 = alone.forward(x);
  CHECK((y2 - y1).cwiseAbs().maxCoeff() < 1e-12);
}
