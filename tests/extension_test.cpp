// Optimizers and layers from outside the library: the StepOptimizer concept says what a class
// needs (and a class that lacks a member fails it), register_optimizer makes a user's class work
// by name like the built-ins (make_optimizer, parameter groups, state_dict), the runtime Optimizer
// follows a Matrix to its new memory when a gradient is assigned a fresh result; a user's Module
// goes into a Sequential, check_gradients verifies it (and catches a wrong one), and it trains.
// (Checkpoints of both: io_test.cpp.)

#include "../examples/adabelief.hpp"
#include "../examples/custom_layers.hpp"
#include "spirals.hpp"

#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

/// A class with every member StepOptimizer needs but `name`.
template <class T>
struct Nameless {
  using Scalar = T;
  struct Options {
    T learning_rate = T(0.1);
  };
  struct State {
    static constexpr auto fields() { return std::tuple{}; }
  };
  static constexpr auto option_fields() {
    return std::tuple{descent::field("learning_rate", &Options::learning_rate)};
  }
  explicit Nameless(const Options& o = {}) : m_options(o) {}
  const Options& options() const { return m_options; }
  State init(const Eigen::Ref<const Eigen::ArrayX<T>>&) const { return {}; }
  void step(Eigen::Ref<Eigen::ArrayX<T>> p, const Eigen::Ref<const Eigen::ArrayX<T>>& g,
            State&) const {
    p -= m_options.learning_rate * g;
  }
  Options m_options;
};

/// Nameless with a name: plain SGD, no weight_decay option.
template <class T>
struct Plain : Nameless<T> {
  using Nameless<T>::Nameless;
  static constexpr std::string_view name = "plain_sgd";
};

/// Another class that claims a built-in's name.
template <class T>
struct Impostor : Plain<T> {
  using Plain<T>::Plain;
  static constexpr std::string_view name = "adam";
};

/// A State field of a type no checkpoint can hold.
template <class T>
struct BadState : Plain<T> {
  using Plain<T>::Plain;
  struct State {
    std::string note;
    static constexpr auto fields() { return std::tuple{descent::field("note", &State::note)}; }
  };
  State init(const Eigen::Ref<const Eigen::ArrayX<T>>&) const { return {}; }
  void step(Eigen::Ref<Eigen::ArrayX<T>>, const Eigen::Ref<const Eigen::ArrayX<T>>&, State&) const {
  }
};

/// Whether descent::Adam<T> is a type at all.
template <class T>
concept AdamExistsFor = requires {
  typename descent::Adam<T>::Options;
};

}  // namespace

TEST_CASE("StepOptimizer accepts every built-in class and the user's, and nothing less",
          "[extension]") {
  STATIC_REQUIRE(descent::StepOptimizer<descent::Adam<float>>);
  STATIC_REQUIRE(descent::StepOptimizer<descent::Nadam<double>>);
  STATIC_REQUIRE(descent::StepOptimizer<mylab::AdaBelief<float>>);
  STATIC_REQUIRE(descent::StepOptimizer<Plain<double>>);
  STATIC_REQUIRE_FALSE(descent::StepOptimizer<Nameless<double>>);  // no name
  STATIC_REQUIRE_FALSE(descent::StepOptimizer<BadState<double>>);  // a string in the State
  // The Scalar is constrained: Adam<int> is not a type (it compiled, and threw at run time).
  STATIC_REQUIRE_FALSE(AdamExistsFor<int>);
  STATIC_REQUIRE(AdamExistsFor<float>);
}

TEST_CASE("A registered optimizer works by name like the built-in ones", "[extension]") {
  CHECK(descent::register_optimizer<mylab::AdaBelief>());
  CHECK_FALSE(
      descent::register_optimizer<mylab::AdaBelief>());  // once is enough; again is harmless
  const auto names = descent::optimizer_names<double>();
  REQUIRE(names.size() >= 10);
  CHECK(names.front() == "sgd");
  CHECK(std::find(names.begin(), names.end(), "adabelief") != names.end());
  CHECK_THROWS_WITH(descent::register_optimizer<Impostor<double>>(),
                    Contains("'adam' is already taken"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("adabelief", "beta3=1"),
                    Contains("unknown option 'beta3'") && Contains("beta1, beta2, epsilon"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("adabelief", "beta1=1"),
                    Contains("beta1 must be in [0, 1)"));

  // Two groups, the second with its own learning rate, against the class stepped by hand.
  using V = Eigen::VectorXd;
  V a = V::LinSpaced(5, -1, 1), b = V::LinSpaced(3, 2, 3), ga(5), gb(3);
  Eigen::ArrayXd a_hand = a.array(), b_hand = b.array();
  auto opt = descent::make_optimizer<double>("adabelief", "learning_rate=0.01,beta2=0.99");
  opt.add_param_group({descent::parameter(a, ga, "a")});
  opt.add_param_group({descent::parameter(b, gb, "b")}, {.learning_rate = 0.1});
  CHECK(std::string(opt.name()) == "adabelief");
  CHECK(opt.options(1) == "learning_rate=0.1,beta1=0.9,beta2=0.99,epsilon=1e-16,weight_decay=0");
  const mylab::AdaBelief<double> slow({.learning_rate = 0.01, .beta2 = 0.99});
  const mylab::AdaBelief<double> fast({.learning_rate = 0.1, .beta2 = 0.99});
  auto sa = slow.init(a_hand), sb = fast.init(b_hand);
  for (int t = 0; t < 7; ++t) {
    ga = a.array().sin().matrix() + V::Constant(5, t % 3 - 1.0);
    gb = b.array().square().matrix();
    slow.step(a_hand, a_hand.sin() + (t % 3 - 1.0), sa);
    fast.step(b_hand, b_hand.square(), sb);
    opt.step();
  }
  CHECK((a.array() - a_hand).abs().maxCoeff() == 0);
  CHECK((b.array() - b_hand).abs().maxCoeff() == 0);
  const auto dict = opt.state_dict();
  CHECK(dict.optimizer == "adabelief");
  CHECK(dict.scalars.at("1.b.step") == 7);
  CHECK(dict.buffers.at("0.a.exp_avg_var").size() == 5);
}

TEST_CASE("AdaBelief's first step moves each weight by learning_rate / beta1", "[extension]") {
  // m_1 = (1 - beta1) g and s_1 = (1 - beta2) (beta1 g)^2 (+ epsilon): bias-corrected, the step is
  // learning_rate * g / (beta1 |g|).
  const mylab::AdaBelief<double> opt({.learning_rate = 0.01});
  Eigen::ArrayXd w = Eigen::ArrayXd::Constant(3, 1.0), g(3);
  g << 2.0, -0.5, 1e-3;
  auto state = opt.init(w);
  opt.step(w, g, state);
  CHECK(w(0) == Approx(1 - 0.01 / 0.9).epsilon(1e-9));
  CHECK(w(1) == Approx(1 + 0.01 / 0.9).epsilon(1e-9));
  CHECK(w(2) == Approx(1 - 0.01 / 0.9).epsilon(1e-9));
}

TEST_CASE("An optimizer without weight_decay refuses to be given one", "[extension]") {
  descent::register_optimizer<Plain>();
  auto opt = descent::make_optimizer<float>("plain_sgd");
  CHECK_FALSE(opt.has_weight_decay());
  Eigen::VectorXf w = Eigen::VectorXf::Ones(2), g = Eigen::VectorXf::Ones(2);
  CHECK_THROWS_WITH(opt.add_param_group({descent::parameter(w, g)}, {.weight_decay = 0.1f}),
                    Contains("has no weight_decay option"));
  opt.add_param_group({descent::parameter(w, g)});
  CHECK_THROWS_WITH(opt.weight_decay(0), Contains("plain_sgd has no weight_decay option"));
  opt.step();
  CHECK(w(0) == Approx(0.9f));
}

TEST_CASE("Assigning a new gradient to a Matrix between steps is safe", "[extension]") {
  // `g = grad_of(w)` moves the result's buffer into g and frees g's old one. The optimizer looks
  // g's memory up again at every step, so it reads the new gradient, not freed memory.
  using V = Eigen::VectorXd;
  const auto grad_of = [](const V& w) -> V { return 2.0 * (w - V::Constant(w.size(), 3.0)); };
  V w = V::Zero(4), g = V::Zero(4);
  auto opt = descent::make_optimizer<double>("adam", "learning_rate=0.1");
  opt.add_param_group({descent::parameter(w, g, "w")});
  V w_hand = V::Zero(4);
  const descent::Adam<double> adam({.learning_rate = 0.1});
  auto state = adam.init(w_hand);
  for (int t = 0; t < 200; ++t) {
    g = grad_of(w);
    opt.step();
    adam.step(w_hand, grad_of(w_hand), state);
  }
  CHECK((w - w_hand).cwiseAbs().maxCoeff() == 0);
  CHECK((w.array() - 3.0).abs().maxCoeff() < 1e-3);

  // The value may move too; a change of size is refused, naming the tensor.
  w = V(w);
  opt.step();
  g = V::Zero(5);
  CHECK_THROWS_WITH(opt.step(), Contains("parameter w's gradient holds 5 values now, 4 when"));
  g = V::Zero(4);
  w = V::Zero(3);
  CHECK_THROWS_WITH(opt.zero_grad(), Contains("parameter w's value holds 3 values now"));
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
