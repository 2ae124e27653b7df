// No heap allocation inside step(), for every optimizer, on contiguous and strided params and
// expression grads. Two nets catch them: a replaced global operator new counts what the standard
// library allocates, and Eigen's EIGEN_RUNTIME_NO_MALLOC check (made to throw here) catches
// Eigen's own aligned_malloc, which bypasses operator new.

#include <stdexcept>

struct EigenHeapAllocation : std::logic_error {
  using std::logic_error::logic_error;
};
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) \
  do {                  \
    if (!(x)) throw EigenHeapAllocation(#x); \
  } while (false)

#include "optimizers.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// GCC 12 flags std::free inside a replaced operator delete as a mismatch; it pairs with our malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
#pragma GCC diagnostic pop

namespace {

/// Allocations made by f().
template <class F>
long allocations_in(F&& f) {
  const long before = g_allocations.load();
  long by_eigen = 0;
  Eigen::internal::set_is_malloc_allowed(false);
  try {
    f();
  } catch (const EigenHeapAllocation&) {
    by_eigen = 1;
  }
  Eigen::internal::set_is_malloc_allowed(true);
  return g_allocations.load() - before + by_eigen;
}

}  // namespace

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
    const long n = allocations_in([&] {
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
    const long n = allocations_in([&] {
      for (int t = 0; t < 3; ++t) {
        opt.step();
        opt.clip_grad_norm(1.0);
        opt.zero_grad();
      }
    });
    CHECK(n == 0);
  }
}
