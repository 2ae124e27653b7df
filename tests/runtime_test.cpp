// The runtime layer beyond the golden files: per-group options, state_dict round trips that resume
// exactly, options printed so they rebuild the same optimizer; schedules and clipping values.
// Optimizers from outside the library: the StepOptimizer concept says what a class needs (and a
// class that lacks a member fails it), register_optimizer makes a user's class work by name like
// the built-ins, and the runtime Optimizer follows a Matrix to its new memory when a gradient is
// assigned a fresh result. (Through the Trainer and checkpoints: io_test.cpp.)

#include "../examples/adabelief.hpp"

#include <descent/optim.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

TEST_CASE("Parameter groups keep their own learning rate and weight decay", "[runtime]") {
  Eigen::VectorXd a = Eigen::VectorXd::Ones(4), ga = Eigen::VectorXd::Ones(4);
  Eigen::VectorXd b = Eigen::VectorXd::Ones(4), gb = Eigen::VectorXd::Ones(4);
  auto sgd = descent::make_optimizer<double>("sgd", "learning_rate=0.1");
  sgd.add_param_group({descent::parameter(a, ga)});
  sgd.add_param_group({descent::parameter(b, gb)}, {.learning_rate = 0.01, .weight_decay = 1.0});
  sgd.step();
  CHECK(a[0] == Approx(1 - 0.1));
  CHECK(b[0] == Approx(1 - 0.01 * (1 + 1.0)));  // grad + weight_decay * param
  CHECK(sgd.learning_rate(1) == 0.01);
  sgd.set_learning_rate(0.5);  // every group
  CHECK(sgd.learning_rate(0) == 0.5);
  CHECK(sgd.learning_rate(1) == 0.5);
  CHECK(sgd.weight_decay(1) == 1.0);
}

TEST_CASE("options() prints every option so that make_optimizer rebuilds the same one",
          "[runtime]") {
  auto opt = descent::make_optimizer<float>("rmsprop", "rho=0.95,centered=true,momentum=0.3");
  const std::string text = opt.options();
  CHECK(text == "learning_rate=0.01,rho=0.95,epsilon=1e-08,momentum=0.3,centered=true,"
                "weight_decay=0,maximize=false");
  CHECK(descent::make_optimizer<float>("rmsprop", text).options() == text);
}

TEMPLATE_TEST_CASE("A state_dict round trip resumes training exactly", "[runtime]", float, double) {
  using S = TestType;
  using V = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  // ASGD with t0=2 averages from its third step on, so the saved mu and ax matter.
  for (const std::string options : {"learning_rate=0.01", "learning_rate=0.01,t0=2"}) {
  for (const char* name : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
                           "adamw", "nadam", "radam", "adamax", "rprop", "asgd"}) {
    if (options != "learning_rate=0.01" && std::string(name) != "asgd") continue;
    INFO(name << " " << options);
    const auto grad_at = [](const V& w, int t) { return V(w * S(0.3) + V::Constant(w.size(), S(t % 2))); };
    V straight = V::LinSpaced(10, -1, 1), g(10);
    auto a = descent::make_optimizer<S>(name, options);
    a.add_param_group({descent::parameter(straight, g)});
    for (int t = 0; t < 5; ++t) {
      g.noalias() = grad_at(straight, t);
      a.step();
    }
    const auto saved = a.state_dict();
    V resumed = straight, g2(10);
    for (int t = 5; t < 9; ++t) {
      g.noalias() = grad_at(straight, t);
      a.step();
    }
    auto b = descent::make_optimizer<S>(name, options);
    b.add_param_group({descent::parameter(resumed, g2)});
    b.load_state_dict(saved);
    for (int t = 5; t < 9; ++t) {
      g2.noalias() = grad_at(resumed, t);
      b.step();
    }
    CHECK((resumed - straight).cwiseAbs().maxCoeff() == 0);
    CHECK(b.state_dict().buffers == a.state_dict().buffers);
    CHECK(b.state_dict().scalars == a.state_dict().scalars);
  }
  }
}

TEST_CASE("RAdam, Adamax, Rprop and ASGD by name, with PyTorch's defaults and option keys",
          "[runtime]") {
  CHECK(descent::make_optimizer<double>("radam").options() ==
        "learning_rate=0.001,beta1=0.9,beta2=0.999,epsilon=1e-08,weight_decay=0");
  CHECK(descent::make_optimizer<double>("adamax").options() ==
        "learning_rate=0.002,beta1=0.9,beta2=0.999,epsilon=1e-08,weight_decay=0,maximize=false");
  CHECK(descent::make_optimizer<double>("rprop").options() ==
        "learning_rate=0.01,eta_minus=0.5,eta_plus=1.2,step_size_min=1e-06,step_size_max=50,"
        "maximize=false");
  CHECK(descent::make_optimizer<double>("asgd").options() ==
        "learning_rate=0.01,lambd=1e-04,alpha=0.75,t0=1e+06,weight_decay=0,maximize=false");
  const auto names = descent::optimizer_names<float>();
  for (const char* name : {"radam", "adamax", "rprop", "asgd"}) {
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
  }
  // Bad values name the option.
  CHECK_THROWS_WITH(descent::make_optimizer<float>("radam", "beta2=1"),
                    Contains("RAdam") && Contains("beta2"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("adamax", "epsilon=0"),
                    Contains("Adamax") && Contains("epsilon"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("rprop", "eta_minus=1"),
                    Contains("Rprop: eta_minus must be in (0, 1)"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("rprop", "eta_plus=0.9"),
                    Contains("Rprop: eta_plus must be finite and > 1"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("rprop", "step_size_min=1,step_size_max=0.5"),
                    Contains("step_size_max must be finite and >= step_size_min"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("asgd", "alpha=-1"),
                    Contains("ASGD: alpha must be finite and >= 0"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("asgd", "lambd=-1"), Contains("lambd"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("radam", "maximize=true"),
                    Contains("unknown option 'maximize'"));  // RAdam has none in PyTorch 1.13
}

TEST_CASE("ASGD's averaged parameters are its state's ax, also through state_dict", "[runtime]") {
  // Averaging from the start (t0 = 0): after two steps of SGD from 1, ax is their mean.
  const descent::ASGD<double> asgd({.learning_rate = 0.1, .lambd = 0, .t0 = 0});
  Eigen::VectorXd w = Eigen::VectorXd::Ones(3);
  auto state = asgd.init(w);
  asgd.step(w, Eigen::VectorXd::Ones(3), state);  // w = 0.9, ax = w (mu 1)
  asgd.step(w, Eigen::VectorXd::Ones(3), state);  // w = 0.8, mu = 1 / 1: ax = w
  asgd.step(w, Eigen::VectorXd::Ones(3), state);  // w = 0.7, mu = 1 / 2: ax = (0.8 + 0.7) / 2
  CHECK(w[0] == Approx(0.7));
  CHECK(state.ax[0] == Approx(0.75));
  CHECK(state.mu == Approx(1.0 / 3));

  auto opt = descent::make_optimizer<double>("asgd", "learning_rate=0.1,lambd=0,t0=0");
  Eigen::VectorXd v = Eigen::VectorXd::Ones(3), g = Eigen::VectorXd::Ones(3);
  opt.add_param_group({descent::parameter(v, g)});
  for (int t = 0; t < 3; ++t) opt.step();
  const auto dict = opt.state_dict();  // keys "<group>.<param>.<field>"
  const auto ax = std::find_if(dict.buffers.begin(), dict.buffers.end(), [](const auto& kv) {
    return kv.first.size() > 3 && kv.first.substr(kv.first.size() - 3) == ".ax";
  });
  REQUIRE(ax != dict.buffers.end());
  CHECK(ax->second[0] == Approx(0.75));
}

TEST_CASE("maximize climbs: the step is the minimizing one with the gradient negated",
          "[runtime]") {
  for (const char* name :
       {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adamax",
        "rprop", "asgd"}) {
    INFO(name);
    Eigen::VectorXd up = Eigen::VectorXd::LinSpaced(4, -1, 1), g_up(4);
    Eigen::VectorXd down = up, g_down(4);
    auto climb = descent::make_optimizer<double>(name, "maximize=true");
    auto descend = descent::make_optimizer<double>(name);
    climb.add_param_group({descent::parameter(up, g_up)});
    descend.add_param_group({descent::parameter(down, g_down)});
    for (int t = 0; t < 5; ++t) {  // f(w) = -|w - 3|^2 / 2 up, its negation down
      g_up = -(up.array() - 3).matrix();
      g_down = (down.array() - 3).matrix();
      climb.step();
      descend.step();
    }
    CHECK((up - down).cwiseAbs().maxCoeff() == 0);
    CHECK(up.minCoeff() > -1);  // moved towards 3
  }
}

TEST_CASE("Schedules give PyTorch's values", "[runtime][schedule]") {
  using namespace descent::schedule;
  const StepDecay step(0.1, 30, 0.1);  // StepLR(step_size=30, gamma=0.1)
  CHECK(step(0) == Approx(0.1));
  CHECK(step(29) == Approx(0.1));
  CHECK(step(30) == Approx(0.01));
  CHECK(step(95) == Approx(1e-4));
  const Exponential exp(0.1, 0.9);
  CHECK(exp(3) == Approx(0.1 * 0.729));
  const WarmupCosine cos(1.0, 10, 110, 0.1);
  CHECK(cos(0) == 0);
  CHECK(cos(5) == Approx(0.5));
  CHECK(cos(10) == Approx(1.0));
  CHECK(cos(60) == Approx(0.1 + 0.9 * 0.5));  // half way down the cosine
  CHECK(cos(110) == Approx(0.1));
  CHECK(cos(500) == Approx(0.1));
  CHECK(Constant(0.3)(12345) == 0.3);

  // ReduceLROnPlateau(mode='max', factor=0.5, patience=0, cooldown=1)
  ReduceOnPlateau plateau(1.0, {.mode = ReduceOnPlateau::Mode::max, .factor = 0.5, .patience = 0,
                                .cooldown = 1});
  CHECK(plateau.update(0.5) == 1.0);   // first value is the best
  CHECK(plateau.update(0.4) == 0.5);   // worse: cut at once (patience 0), then cool down
  CHECK(plateau.update(0.3) == 0.5);   // in cooldown
  CHECK(plateau.update(0.2) == 0.25);  // cut again
  CHECK(plateau.update(0.9) == 0.25);  // improvement
  CHECK(plateau.best() == 0.9);
}

TEST_CASE("Clipping by value, by norm and by global norm", "[runtime][clip]") {
  Eigen::Vector3d g(3, -4, 0.5);
  descent::clip_by_value(g, 1.0);
  CHECK(g == Eigen::Vector3d(1, -1, 0.5));

  Eigen::Vector2d h(3, 4);  // norm 5
  CHECK(descent::clip_by_norm(h, 10.0) == 5);
  CHECK(h == Eigen::Vector2d(3, 4));  // under the limit: untouched
  CHECK(descent::clip_by_norm(h, 1.0) == 5);
  CHECK(h.norm() == Approx(1.0).epsilon(1e-6));  // PyTorch's 1e-6 guard in the denominator

  Eigen::Vector2f u(3, 0);
  Eigen::MatrixXf v = Eigen::MatrixXf::Constant(2, 2, 2);  // norm 4; joint norm 5
  CHECK(descent::clip_by_global_norm(2.5, u, v) == Approx(5));
  CHECK(u.norm() == Approx(1.5).epsilon(1e-5));  // both scaled by one factor, 0.5
  CHECK(v.norm() == Approx(2.0).epsilon(1e-5));
  descent::clip_by_value(v.block(0, 0, 1, 2), 0.5);  // works on blocks too
  CHECK(v(0, 0) == 0.5f);
  CHECK(v(1, 0) == Approx(1.0f));
}

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
  constexpr auto all_step_optimizers = []<class... O>(descent::detail::OptimizerList<O...>) {
    return (descent::StepOptimizer<O> && ...);
  };
  STATIC_REQUIRE(all_step_optimizers(descent::detail::BuiltinOptimizers<float>{}));
  STATIC_REQUIRE(all_step_optimizers(descent::detail::BuiltinOptimizers<double>{}));
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
