// Bad input raises std::invalid_argument (std::out_of_range for a missing group) whose message
// names what was wrong; nothing crashes and nothing is half-applied. (That every kind of fault is
// also a descent::Error: io_test.cpp, which has every module at hand.)

#include <descent/optim.hpp>

#include <catch2/catch.hpp>

#include <limits>

using Catch::Matchers::Contains;

namespace {
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();
}  // namespace

TEMPLATE_TEST_CASE("Bad hyperparameters throw, naming the field and the value", "[errors]", float,
                   double) {
  using S = TestType;
  using descent::Adam, descent::SGD, descent::Momentum, descent::Nesterov, descent::AdaGrad,
      descent::RMSProp, descent::Adadelta, descent::AdamW, descent::Nadam;
  const auto s = [](double v) { return static_cast<S>(v); };

  CHECK_THROWS_WITH(SGD<S>({.learning_rate = s(-0.1)}),
                    Contains("SGD") && Contains("learning_rate") && Contains("-0.1"));
  CHECK_THROWS_WITH(SGD<S>({.learning_rate = s(not_a_number)}), Contains("learning_rate") && Contains("nan"));
  CHECK_THROWS_WITH(Adam<S>({.learning_rate = s(infinity)}), Contains("learning_rate") && Contains("inf"));
  CHECK_THROWS_WITH(Adam<S>({.beta1 = s(1.5)}), Contains("Adam: beta1 must be in [0, 1), got 1.5"));
  CHECK_THROWS_WITH(Adam<S>({.beta2 = s(1)}), Contains("beta2") && Contains("got 1"));
  CHECK_THROWS_WITH(Adam<S>({.beta1 = s(-0.5)}), Contains("beta1"));
  CHECK_THROWS_WITH(AdamW<S>({.epsilon = s(0)}), Contains("AdamW: epsilon must be finite and > 0"));
  CHECK_THROWS_WITH(Nadam<S>({.epsilon = s(-1e-8)}), Contains("epsilon"));
  CHECK_THROWS_WITH(Nadam<S>({.momentum_decay = s(-1)}), Contains("momentum_decay"));
  CHECK_THROWS_WITH(Momentum<S>({.momentum = s(-0.9)}), Contains("momentum") && Contains("-0.9"));
  CHECK_THROWS_WITH(Momentum<S>({.dampening = s(2)}), Contains("dampening"));
  CHECK_THROWS_WITH(Nesterov<S>({.momentum = s(0)}),
                    Contains("Nesterov: momentum must be finite and > 0"));
  CHECK_THROWS_WITH(AdaGrad<S>({.lr_decay = s(-1)}), Contains("lr_decay"));
  CHECK_THROWS_WITH(AdaGrad<S>({.initial_accumulator = s(-1)}), Contains("initial_accumulator"));
  CHECK_THROWS_WITH(RMSProp<S>({.rho = s(1)}), Contains("RMSProp: rho"));
  CHECK_THROWS_WITH(RMSProp<S>({.momentum = s(-1)}), Contains("momentum"));
  CHECK_THROWS_WITH(Adadelta<S>({.rho = s(not_a_number)}), Contains("Adadelta: rho"));
  CHECK_THROWS_WITH(Adadelta<S>({.weight_decay = s(-1e-3)}), Contains("weight_decay"));
  CHECK_THROWS_AS(Adam<S>({.weight_decay = s(-1)}), std::invalid_argument);
  // The boundaries that are valid stay valid.
  CHECK_NOTHROW(Adam<S>({.learning_rate = 0, .beta1 = 0, .beta2 = 0}));
  CHECK_NOTHROW(Momentum<S>({.momentum = 0, .dampening = 1}));
}

TEMPLATE_TEST_CASE("A grad of another shape throws in every build type, naming both shapes",
                   "[errors]", float, double) {
  using S = TestType;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  const descent::Adam<S> adam;
  M w = M::Ones(3, 4);
  auto state = adam.init(w);
  CHECK_THROWS_WITH(adam.step(w, M::Ones(4, 3), state),
                    Contains("Adam::step: grad is 4x3 but param is 3x4"));
  CHECK_THROWS_AS(adam.step(w, M::Ones(12, 1), state), std::invalid_argument);
  CHECK(state.step == 0);  // nothing was applied
  CHECK(w == M::Ones(3, 4));
}

TEMPLATE_TEST_CASE("A State made for another tensor is refused before anything changes",
                   "[errors]", float, double) {
  using S = TestType;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  M small = M::Ones(2, 2), large = M::Ones(5, 5);
  const descent::Adam<S> adam({.amsgrad = true});
  auto state = adam.init(small);
  CHECK_THROWS_WITH(adam.step(large, M::Ones(5, 5), state),
                    Contains("state.exp_avg holds 4 elements but param has 25"));
  CHECK(state.step == 0);
  CHECK(large == M::Ones(5, 5));
  // A State from an optimizer without amsgrad lacks max_exp_avg_sq.
  const descent::Adam<S> plain;
  auto plain_state = plain.init(small);
  CHECK_THROWS_WITH(adam.step(small, M::Ones(2, 2), plain_state), Contains("max_exp_avg_sq"));
  // Centered RMSProp needs grad_avg, momentum needs its buffer.
  const descent::RMSProp<S> centered({.momentum = S(0.9), .centered = true});
  auto rms_state = descent::RMSProp<S>().init(small);
  CHECK_THROWS_WITH(centered.step(small, M::Ones(2, 2), rms_state), Contains("grad_avg"));
}

TEST_CASE("make_optimizer lists the valid names and keys when given others", "[errors][runtime]") {
  CHECK_THROWS_WITH(descent::make_optimizer<float>("adamm"),
                    Contains("unknown optimizer 'adamm'") &&
                        Contains("sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, "
                                 "adamw, nadam"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("adam", "lr=0.1"),
                    Contains("unknown option 'lr'") && Contains("learning_rate, beta1, beta2"));
  CHECK_THROWS_WITH(descent::make_optimizer<float>("rmsprop", "alpha=0.9"),
                    Contains("unknown option 'alpha'") && Contains("rho"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("adam", "beta1=0.9x"),
                    Contains("beta1 = '0.9x' is not a number"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("adam", "amsgrad=yes please"),
                    Contains("amsgrad") && Contains("boolean"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("adam", "beta1"),
                    Contains("'beta1' is not key=value"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("adam", "beta2=1.0"),
                    Contains("beta2 must be in [0, 1), got 1"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("nesterov", "dampening=0.1"),
                    Contains("Nesterov: dampening must be 0") && Contains("0.1"));
  CHECK_NOTHROW(descent::make_optimizer<double>("nesterov", "dampening=0, momentum=0.5"));
  CHECK_THROWS_WITH(descent::make_optimizer<double>("sgd", std::map<std::string, double>{
                                                               {"momentum", 0.9}}),
                    Contains("SGD: unknown option 'momentum'"));
}

TEST_CASE("The runtime optimizer refuses bad parameters, groups and state", "[errors][runtime]") {
  Eigen::MatrixXd w = Eigen::MatrixXd::Ones(4, 4), g = Eigen::MatrixXd::Zero(4, 4);
  Eigen::MatrixXd g_wrong = Eigen::MatrixXd::Zero(4, 3);
  CHECK_THROWS_WITH(descent::parameter(w, g_wrong, "w"),
                    Contains("parameter(w)") && Contains("grad is 4x3 but value is 4x4"));
  auto block = w.block(0, 0, 2, 2);
  auto g_block = g.block(0, 0, 2, 2);
  CHECK_THROWS_WITH(descent::parameter(block, g_block), Contains("contiguous"));

  auto opt = descent::make_optimizer<double>("adam");
  opt.add_param_group({descent::parameter(w, g, "w")});
  CHECK_THROWS_WITH(opt.add_param_group({descent::parameter(w, g, "again")}),
                    Contains("parameter again is already in the optimizer (as w)"));
  CHECK(opt.group_count() == 1);
  CHECK_THROWS_AS(opt.set_learning_rate(3, 0.1), std::out_of_range);
  CHECK_THROWS_WITH(opt.set_learning_rate(-1.0), Contains("learning_rate"));
  CHECK_THROWS_WITH(opt.add_param_group({}, {.learning_rate = -1.0}), Contains("learning_rate"));

  opt.step();
  auto dict = opt.state_dict();
  const auto saved = dict;
  dict.optimizer = "sgd";
  CHECK_THROWS_WITH(opt.load_state_dict(dict), Contains("state is for 'sgd'"));
  dict = saved;
  dict.buffers["0.w.exp_avg"].pop_back();
  CHECK_THROWS_WITH(opt.load_state_dict(dict),
                    Contains("0.w.exp_avg holds 15 values, the optimizer expects 16"));
  dict = saved;
  dict.scalars.erase("0.w.step");
  CHECK_THROWS_WITH(opt.load_state_dict(dict), Contains("missing 0.w.step"));
  dict = saved;
  dict.scalars["0.v.step"] = 1;
  CHECK_THROWS_WITH(opt.load_state_dict(dict), Contains("entries this optimizer does not know"));
  // A failed load leaves the state exactly as it was.
  CHECK(opt.state_dict().buffers == saved.buffers);
  CHECK(opt.state_dict().scalars == saved.scalars);
}

TEST_CASE("Schedules and clipping refuse nonsense arguments", "[errors]") {
  using namespace descent::schedule;
  CHECK_THROWS_WITH(StepDecay(0.1, 0), Contains("step_size must be >= 1, got 0"));
  CHECK_THROWS_WITH(Exponential(0.1, -0.5), Contains("gamma"));
  CHECK_THROWS_WITH(WarmupCosine(0.1, 100, 50), Contains("total_steps must be > warmup_steps"));
  CHECK_THROWS_WITH(WarmupCosine(0.1, 0, 50, 0.2), Contains("min_lr"));
  CHECK_THROWS_WITH(ReduceOnPlateau(0.1, {.factor = 1.0}), Contains("factor"));
  CHECK_THROWS_WITH(Constant(-1), Contains("learning_rate"));
  Eigen::VectorXd g = Eigen::VectorXd::Ones(3);
  CHECK_THROWS_WITH(descent::clip_by_norm(g, -1), Contains("max_norm"));
  CHECK_THROWS_WITH(descent::clip_by_value(g, not_a_number), Contains("limit"));
  CHECK(g == Eigen::VectorXd::Ones(3));
}
