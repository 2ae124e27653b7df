// Numerical faults: optimizers never turn finite gradients into NaN through their own arithmetic
// (g * g overflowing or underflowing in float, zero denominators, long runs), and the Trainer
// stops on, or skips, a batch whose loss or gradient is not finite.

#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

/// Every optimizer by name with options that switch on its less travelled paths.
struct Config {
  const char* name;
  const char* options;
  bool decays;  ///< moves the weights even when the gradient is zero
};

const std::vector<Config> configs = {
    {"sgd", "", false},
    {"sgd", "weight_decay=0.01", true},
    {"momentum", "", false},
    {"momentum", "dampening=0.5,weight_decay=0.01", true},
    {"nesterov", "", false},
    {"nesterov", "weight_decay=0.01", true},
    {"adagrad", "", false},
    {"adagrad", "lr_decay=0.01,initial_accumulator=0.1,weight_decay=0.01", true},
    {"rmsprop", "", false},
    {"rmsprop", "centered=true", false},
    {"rmsprop", "momentum=0.9,centered=true,weight_decay=0.01", true},
    {"adadelta", "", false},
    {"adadelta", "weight_decay=0.01", true},
    {"adam", "", false},
    {"adam", "amsgrad=true", false},
    {"adam", "amsgrad=true,weight_decay=0.1", true},
    {"adamw", "", true},
    {"adamw", "amsgrad=true", true},
    {"nadam", "", false},
    {"nadam", "weight_decay=0.01,decoupled_weight_decay=true", true},
    {"radam", "", false},
    {"radam", "weight_decay=0.01", true},
    {"adamax", "", false},
    {"adamax", "weight_decay=0.01,maximize=true", true},
    {"rprop", "", false},
    {"rprop", "eta_minus=0.3,eta_plus=1.5,maximize=true", false},
    {"asgd", "", true},  // lambd shrinks the weights even at a zero gradient
    {"asgd", "t0=5,weight_decay=0.01", true},
};

/// True when no value of the optimizer's state (moments, step counts, mu_product) is NaN.
template <class S>
bool state_has_no_nan(const descent::Optimizer<S>& opt, std::string& where) {
  const auto dict = opt.state_dict();
  for (const auto& [key, values] : dict.buffers) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) {
        where = key + "[" + std::to_string(i) + "]";
        return false;
      }
    }
  }
  for (const auto& [key, value] : dict.scalars) {
    if (std::isnan(value)) {
      where = key;
      return false;
    }
  }
  return true;
}

}  // namespace

TEMPLATE_TEST_CASE("No optimizer turns finite gradients of 0, 1e-30 or 1e30 into NaN", "[numerics]",
                   float, double) {
  using S = TestType;
  using Vector = Eigen::Array<S, Eigen::Dynamic, 1>;
  // 37 elements: full SIMD packets and a ragged tail. 300 steps: bias corrections reach 1 - beta^t
  // of every size, AdaGrad's sums and Nadam's mu product keep growing or shrinking.
  constexpr Eigen::Index n = 37;
  constexpr int steps = 300;
  struct Pattern {
    const char* what;
    double magnitude;
    bool alternate;  ///< signs alternate from element to element and step to step
  };
  // In float, 1e-30^2 underflows to 0 and 1e30^2 overflows to inf: the denominators of the
  // adaptive methods become eps-only or infinite.
  const Pattern patterns[] = {{"0", 0, false},          {"1e-30", 1e-30, false},
                              {"-1e-30 +1e-30", 1e-30, true}, {"1e30", 1e30, false},
                              {"-1e30 +1e30", 1e30, true},    {"-1 +1", 1, true},
                              {"denorm_min", double(std::numeric_limits<S>::denorm_min()), true}};
  for (const auto& config : configs) {
    for (const auto& pattern : patterns) {
      INFO(config.name << " {" << config.options << "}, gradients " << pattern.what);
      auto opt = descent::make_optimizer<S>(config.name, config.options);
      opt.set_learning_rate(S(0.01));
      const Vector start = Vector::LinSpaced(n, S(-1), S(1));
      Vector w = start, g(n);
      opt.add_param_group({descent::parameter(w, g)});
      for (int t = 0; t < steps; ++t) {
        for (Eigen::Index i = 0; i < n; ++i) {
          const bool negative = pattern.alternate && (i + t) % 2 == 1;
          g[i] = S(negative ? -pattern.magnitude : pattern.magnitude);
        }
        opt.step();
      }
      std::string where;
      const bool state_ok = state_has_no_nan(opt, where);
      INFO("first NaN in the state: " << where);
      CHECK(state_ok);
      CHECK_FALSE(w.isNaN().any());
      // Gradients small enough that no square overflows keep everything finite.
      if (pattern.magnitude <= 1) CHECK(w.allFinite());
      // A zero gradient moves nothing unless weight decay is on.
      if (pattern.magnitude == 0 && !config.decays) CHECK((w == start).all());
    }
  }
}

TEST_CASE("Float RMSProp, centered, with an overflowing g^2 stops the coordinate as PyTorch does",
          "[numerics]") {
  // square_avg and grad_avg^2 both overflow to inf; inf - inf would be NaN. PyTorch 1.13 gets
  // inf for the variance (so a zero step): that coordinate stays where it is.
  auto opt = descent::make_optimizer<float>("rmsprop", "learning_rate=0.01,centered=true");
  Eigen::ArrayXf w = Eigen::ArrayXf::Zero(9), g = Eigen::ArrayXf::Constant(9, 1e30f);
  opt.add_param_group({descent::parameter(w, g)});
  for (int t = 0; t < 3; ++t) opt.step();
  CHECK((w == 0).all());
  const auto dict = opt.state_dict();
  for (const float v : dict.buffers.at("0.param0.square_avg")) CHECK(std::isinf(v));
}

// ---- the Trainer's policy for non-finite losses and gradients ------------------------------------

namespace {

using Trainer = descent::nn::Trainer<float>;
using Matrix = Eigen::MatrixXf;

struct Samples {
  Matrix x, y;
};

/// n identical samples, so that shuffling cannot change a batch's sums: runs that take the same
/// steps give bit-identical weights.
Samples identical_samples(Eigen::Index n) {
  Samples d{Matrix(2, n), Matrix(1, n)};
  d.x.row(0).setConstant(0.5f);
  d.x.row(1).setConstant(-0.25f);
  d.y.setConstant(1);
  return d;
}

/// 2 -> 4 relu -> 2, with every weight from input 0 negative: an input 0 of +inf makes every
/// hidden pre-activation -inf and relu 0, so the loss stays finite while d loss / dW1 = 0 * inf
/// is NaN. That is how a bad input reaches the weights unseen by a loss check.
descent::nn::Sequential<float> network() {
  auto net = descent::nn::make_network<float>(
      {.inputs = 2, .outputs = 2, .hidden = {4}, .activation = descent::nn::Activation::relu,
       .dropout = 0}, 7);
  auto w1 = net.parameters().head(8);  // W1 is 4 x 2, column-major: column 0 first
  w1.head(4) = -w1.head(4).abs() - 0.1f;
  return net;
}

/// Puts `value` into feature 0 of every sample for the batch_number-th batch (1-based, counted
/// over the whole fit) and records the weights around it.
struct Poison : descent::nn::Callback {
  Poison(Samples& data, descent::nn::Sequential<float>& net, int batch_number, float value)
      : m_data(data), m_net(net), m_batch(batch_number), m_value(value) {}
  void on_batch_begin(descent::nn::TrainingState&) override {
    ++m_seen;
    if (m_seen == m_batch) {
      m_clean = m_data.x;
      m_data.x.row(0).setConstant(m_value);
      before = m_net.parameters();
    } else if (m_seen == m_batch + 1) {
      m_data.x = m_clean;
      after = m_net.parameters();
    }
  }
  descent::Buffer<float> before, after;

 private:
  Samples& m_data;
  descent::nn::Sequential<float>& m_net;
  int m_batch, m_seen = 0;
  float m_value;
  Matrix m_clean;
};

Trainer::Options options(const char* optimizer, Eigen::Index batch_size, int epochs,
                         Trainer::NonFinite policy) {
  return {.optimizer = optimizer, .learning_rate = 0.01, .batch_size = batch_size, .epochs = epochs,
          .progress = Trainer::Progress::none, .on_non_finite = policy};
}

}  // namespace

TEST_CASE("on_non_finite = stop names the epoch, batch and step of a NaN loss or gradient",
          "[numerics][trainer]") {
  CHECK(Trainer::Options{}.on_non_finite == Trainer::NonFinite::stop);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const float value : {nan, inf}) {
    INFO("feature 0 = " << value);
    // 8 samples in batches of 4: the 4th batch is epoch 2, batch 2, and would be step 4.
    Samples data = identical_samples(8);
    auto net = network();
    const auto start = net.parameters().eval();
    Trainer trainer(options("adam", 4, 3, Trainer::NonFinite::stop));
    auto poison = std::make_shared<Poison>(data, net, 4, value);
    trainer.add_callback(poison);
    // (Catch's combined matchers refer to their parts, so each is written out where it is used.)
    if (std::isnan(value)) {
      CHECK_THROWS_WITH(trainer.fit(net, data),
                        Contains("the loss became nan at epoch 2, batch 2 (step 4;") &&
                            Contains("on_non_finite = skip"));
    } else {
      CHECK_THROWS_WITH(trainer.fit(net, data),
                        Contains("the gradient became nan (element 0 of 22)") &&
                            Contains("at epoch 2, batch 2 (step 4;") && Contains("on_non_finite = skip"));
    }
    // Three good steps were taken, the bad one was not.
    CHECK((poison->before != start).any());
    CHECK(net.parameters().allFinite());
    CHECK((net.parameters() == poison->before).all());
  }
}

TEST_CASE("on_non_finite = skip leaves weights and optimizer state exactly as before the bad batch",
          "[numerics][trainer]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const char* optimizer :
       {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam",
        "radam", "adamax", "rprop", "asgd"}) {
    for (const float value : {nan, inf}) {
      INFO(optimizer << ", feature 0 = " << value);
      // One batch per epoch; epoch 3 is poisoned and skipped.
      Samples data = identical_samples(6);
      auto net = network();
      Trainer trainer(options(optimizer, 6, 5, Trainer::NonFinite::skip));
      auto poison = std::make_shared<Poison>(data, net, 3, value);
      trainer.add_callback(poison);
      const auto history = trainer.fit(net, data);

      REQUIRE(history.epochs.size() == 5);
      CHECK(history.epochs[2].skipped == 1);
      CHECK(std::isnan(history.epochs[2].loss));  // no batch counted in epoch 3
      for (int e : {0, 1, 3, 4}) {
        CHECK(history.epochs[e].skipped == 0);
        CHECK(std::isfinite(history.epochs[e].loss));
      }
      // The skipped step changed no weight...
      CHECK((poison->after == poison->before).all());
      // ...and no moment or step count: the four good steps give, bit for bit, what four steps
      // without the bad batch give (Adam's bias correction and every moment feed into them).
      auto reference = network();
      Samples clean = identical_samples(6);
      Trainer(options(optimizer, 6, 4, Trainer::NonFinite::skip)).fit(reference, clean);
      CHECK((net.parameters() == reference.parameters()).all());
    }
  }
}
