// No heap allocation inside step(), for every optimizer, on contiguous and strided params and
// expression grads. Two nets catch them: a replaced global operator new counts what the standard
// library allocates, and Eigen's EIGEN_RUNTIME_NO_MALLOC check (made to throw here) catches
// Eigen's own aligned_malloc, which bypasses operator new.

#include "counting_new.hpp"
#include "optimizers.hpp"

#include <descent/nn.hpp>

#include <catch2/catch.hpp>

#include <vector>

TEST_CASE("The allocation counters see allocations", "[allocation]") {
  CHECK(allocations_in([] { Eigen::VectorXf v(1000); v.setZero(); }) > 0);
  CHECK(allocations_in([] { std::vector<float> v(1000); }) > 0);
  CHECK(allocations_in([] {}) == 0);
}

TEMPLATE_TEST_CASE("step() never allocates", "[allocation]", float, double) {
  using S = TestType;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  descent_test::for_each_optimizer<S>([&](const auto& opt) {
    INFO(opt.class_name);
    M w = M::Random(300, 20), target = M::Random(300, 20), g = M::Random(300, 20);
    M big = M::Random(310, 30);
    auto state = opt.init(w);
    auto block_state = opt.init(big.block(3, 4, 300, 20));
    Eigen::Matrix<S, 1, Eigen::Dynamic> row_grad = Eigen::Matrix<S, 1, Eigen::Dynamic>::Ones(30);
    auto row_state = opt.init(big.row(2));
    const std::size_t n = allocations_in([&] {
      for (int t = 0; t < 3; ++t) {
        opt.step(w, g, state);                                        // contiguous, in place
        opt.step(w, S(2) * (w - target), state);                      // expression grad
        opt.step(big.block(3, 4, 300, 20), g, block_state);           // strided param
        opt.step(big.block(3, 4, 300, 20), g.transpose().transpose(), block_state);
        opt.step(big.row(2), row_grad, row_state);                    // inner stride 310
      }
    });
    CHECK(n == 0);
  });
}

TEST_CASE("The runtime optimizer's step() and zero_grad() never allocate", "[allocation]") {
  for (const char* name : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
                           "adamw", "nadam"}) {
    INFO(name);
    Eigen::MatrixXf w1 = Eigen::MatrixXf::Random(64, 32), g1 = Eigen::MatrixXf::Random(64, 32);
    Eigen::VectorXf b1 = Eigen::VectorXf::Random(64), gb1 = Eigen::VectorXf::Random(64);
    auto opt = descent::make_optimizer<float>(name);
    opt.add_param_group({descent::parameter(w1, g1)});
    opt.add_param_group({descent::parameter(b1, gb1)}, {.learning_rate = 0.1f});
    const std::size_t n = allocations_in([&] {
      for (int t = 0; t < 3; ++t) {
        opt.step();
        opt.clip_grad_norm(1.0);
        opt.zero_grad();
      }
    });
    CHECK(n == 0);
  }
}

namespace {

/// Counts the allocations between one batch's start and the next, i.e. in each training step
/// (forward, loss, backward, optimizer step), from the second step on. Eigen's own allocations
/// throw EigenHeapAllocation out of fit().
class AllocationProbe : public descent::nn::Callback {
 public:
  void on_batch_begin(descent::nn::TrainingState& state) override {
    if (m_armed) {
      Eigen::internal::set_is_malloc_allowed(true);
      allocations += g_allocations.load() - m_before;
      ++steps;
    }
    m_armed = state.step > 0;
    m_before = g_allocations.load();
    if (m_armed) Eigen::internal::set_is_malloc_allowed(false);
  }
  void on_epoch_end(descent::nn::TrainingState&) override {
    Eigen::internal::set_is_malloc_allowed(true);
    m_armed = false;
  }
  std::size_t allocations = 0;
  int steps = 0;

 private:
  bool m_armed = false;
  std::size_t m_before = 0;
};

}  // namespace

TEST_CASE("The steady-state training step never allocates", "[allocation][nn]") {
  // 100 samples in batches of 32: three full batches and a short one, with dropout on.
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(20, 100), y(1, 100);
  for (int j = 0; j < 100; ++j) y(0, j) = float(j % 3);
  struct {
    Eigen::MatrixXf x, y;
  } data{x, y};
  for (const char* optimizer : {"sgd", "adam", "rmsprop", "nadam"}) {
    INFO(optimizer);
    auto net = descent::nn::make_network<float>(
        {.inputs = 20, .outputs = 3, .hidden = {16, 8}, .activation = descent::nn::Activation::gelu,
         .dropout = 0.2}, 0);
    descent::nn::Trainer<float> trainer({.optimizer = optimizer, .learning_rate = 1e-3,
                                         .batch_size = 32, .epochs = 3,
                                         .progress = descent::nn::Trainer<float>::Progress::none});
    auto probe = std::make_shared<AllocationProbe>();
    trainer.add_callback(probe);
    REQUIRE_NOTHROW(trainer.fit(net, data));
    CHECK(probe->steps == 2 + 3 + 3);  // each step followed by another in its epoch, but the first
    CHECK(probe->allocations == 0);
  }
}
