// The runtime layer beyond the golden files: per-group options, state_dict round trips that resume
// exactly, options printed so they rebuild the same optimizer; schedules and clipping values.

#include <descent/optim.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

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
                "weight_decay=0");
  CHECK(descent::make_optimizer<float>("rmsprop", text).options() == text);
}

TEMPLATE_TEST_CASE("A state_dict round trip resumes training exactly", "[runtime]", float, double) {
  using S = TestType;
  using V = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  for (const char* name : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
                           "adamw", "nadam"}) {
    INFO(name);
    const auto grad_at = [](const V& w, int t) { return V(w * S(0.3) + V::Constant(w.size(), S(t % 2))); };
    V straight = V::LinSpaced(10, -1, 1), g(10);
    auto a = descent::make_optimizer<S>(name, "learning_rate=0.01");
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
    auto b = descent::make_optimizer<S>(name, "learning_rate=0.01");
    b.add_param_group({descent::parameter(resumed, g2)});
    b.load_state_dict(saved);
    for (int t = 5; t < 9; ++t) {
      g2.noalias() = grad_at(resumed, t);
      b.step();
    }
    CHECK((resumed - straight).cwiseAbs().maxCoeff() == 0);
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
