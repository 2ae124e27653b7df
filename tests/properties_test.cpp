// Properties of the step interface that no golden file pins down: state counts steps per tensor,
// every kind of Eigen param updates the same numbers, weight decay and defaults behave as stated.

#include "optimizers.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace {

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

/// A gradient that changes with the parameter, so a wrong state or order shows up in the result.
template <class P>
auto gradient_of(const P& p, int t) {
  using S = typename P::Scalar;
  return (p.array() * S(0.5) - S(0.25) * S(t % 3)).matrix();
}

template <class A, class B>
double max_difference(const A& a, const B& b) {
  return double((a - b).cwiseAbs().maxCoeff());
}

}  // namespace

TEMPLATE_TEST_CASE("Bias correction advances once per step, not once per tensor", "[properties]",
                   float, double) {
  using S = TestType;
  // Adam's first step is lr * g / (|g| + eps'), i.e. lr in every coordinate, whatever the tensor
  // count. tiny-dnn and MiniDNN advance a shared step per tensor, so their second tensor moves less.
  const descent::Adam<S> adam({.learning_rate = S(0.01)});
  Matrix<S> w1 = Matrix<S>::Zero(3, 4), w2 = Matrix<S>::Zero(5, 1);
  auto s1 = adam.init(w1), s2 = adam.init(w2);
  adam.step(w1, Matrix<S>::Constant(3, 4, 2), s1);
  adam.step(w2, Matrix<S>::Constant(5, 1, -3), s2);
  CHECK(s1.step == 1);
  CHECK(s2.step == 1);
  CHECK((w1.array() + S(0.01)).abs().maxCoeff() < S(1e-6));
  CHECK((w2.array() - S(0.01)).abs().maxCoeff() < S(1e-6));

  // The runtime layer: three tensors in two groups, three steps, every State at step 3.
  auto opt = descent::make_optimizer<S>("adam", "learning_rate=0.01");
  Matrix<S> a = Matrix<S>::Zero(2, 2), ga = Matrix<S>::Ones(2, 2);
  Matrix<S> b = Matrix<S>::Zero(3, 1), gb = Matrix<S>::Ones(3, 1);
  Matrix<S> c = Matrix<S>::Zero(1, 4), gc = Matrix<S>::Ones(1, 4);
  opt.add_param_group({descent::parameter(a, ga), descent::parameter(b, gb)});
  opt.add_param_group({descent::parameter(c, gc)});
  for (int t = 0; t < 3; ++t) opt.step();
  const auto dict = opt.state_dict();
  REQUIRE(dict.scalars.size() == 3);
  for (const auto& [key, step] : dict.scalars) {
    INFO(key);
    CHECK(step == 3);
  }
  // A constant gradient makes Adam move lr per step exactly as in the one-tensor case.
  CHECK((a.array() + S(0.03)).abs().maxCoeff() < S(1e-5));
  CHECK((c.array() + S(0.03)).abs().maxCoeff() < S(1e-5));
}

TEMPLATE_TEST_CASE("Matrix, Array, Map, Ref, Block and row-major params update identically",
                   "[properties]", float, double) {
  using S = TestType;
  // 70 x 41 spans several kernel chunks with a ragged tail, for float and for double.
  const Eigen::Index rows = 70, cols = 41;
  const Matrix<S> start = Matrix<S>::Random(rows, cols);
  descent_test::for_each_optimizer<S>([&](const auto& opt) {
    INFO(opt.class_name);
    // Reference: a plain column-major Matrix with a Matrix grad.
    Matrix<S> reference = start;
    auto state = opt.init(reference);
    for (int t = 0; t < 5; ++t) opt.step(reference, Matrix<S>(gradient_of(reference, t)), state);

    const auto check = [&](const char* kind, auto&& param, const auto& read_back) {
      INFO(kind);
      auto s = opt.init(param);
      for (int t = 0; t < 5; ++t) opt.step(param, gradient_of(param, t), s);
      CHECK(s.step == 5);
      CHECK(max_difference(read_back(), reference) == 0);
    };

    Matrix<S> m = start;  // grad as an unevaluated expression
    check("Matrix, expression grad", m, [&] { return m; });

    Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic> arr = start.array();
    check("Array", arr, [&] { return Matrix<S>(arr.matrix()); });

    std::vector<S> storage(start.data(), start.data() + start.size());
    Eigen::Map<Matrix<S>> map(storage.data(), rows, cols);
    check("Map", map, [&] { return Matrix<S>(map); });

    Matrix<S> for_ref = start;
    Eigen::Ref<Matrix<S>> ref(for_ref);
    check("Ref", ref, [&] { return for_ref; });

    // A Block in the middle of a larger matrix is not contiguous: the strided path.
    Matrix<S> big = Matrix<S>::Constant(rows + 9, cols + 4, S(7));
    big.block(4, 2, rows, cols) = start;
    check("Block", big.block(4, 2, rows, cols), [&] { return Matrix<S>(big.block(4, 2, rows, cols)); });
    CHECK((big.topRows(4).array() == S(7)).all());  // nothing outside the block was touched
    CHECK((big.leftCols(2).array() == S(7)).all());

    // Row-major storage: state is kept in the param's own order; values must still match.
    Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = start;
    check("row-major Matrix", row_major, [&] { return Matrix<S>(row_major); });
  });
}

TEMPLATE_TEST_CASE("A column, a row and a transposed view update like the same data in a vector",
                   "[properties]", float, double) {
  using S = TestType;
  const Eigen::Index n = 1500;
  const Eigen::Matrix<S, Eigen::Dynamic, 1> start = Eigen::Matrix<S, Eigen::Dynamic, 1>::Random(n);
  descent_test::for_each_optimizer<S>([&](const auto& opt) {
    INFO(opt.class_name);
    Eigen::Matrix<S, Eigen::Dynamic, 1> reference = start;
    auto state = opt.init(reference);
    for (int t = 0; t < 4; ++t) opt.step(reference, gradient_of(reference, t), state);

    Matrix<S> wide = Matrix<S>::Zero(3, n);  // a row of a column-major matrix: stride 3
    wide.row(1) = start.transpose();
    auto s_row = opt.init(wide.row(1));
    for (int t = 0; t < 4; ++t) opt.step(wide.row(1), gradient_of(wide.row(1), t), s_row);
    CHECK(max_difference(wide.row(1).transpose(), reference) == 0);
    CHECK((wide.row(0).array() == 0).all());

    Matrix<S> tall = Matrix<S>::Zero(n, 2);  // a column: contiguous inside a larger matrix
    tall.col(1) = start;
    auto s_col = opt.init(tall.col(1));
    for (int t = 0; t < 4; ++t) opt.step(tall.col(1), gradient_of(tall.col(1), t), s_col);
    CHECK(max_difference(tall.col(1), reference) == 0);
  });
}

TEMPLATE_TEST_CASE("One optimizer object serves many tensors, each through its own State",
                   "[properties]", float, double) {
  using S = TestType;
  descent_test::for_each_optimizer<S>([&](const auto& opt) {
    INFO(opt.class_name);
    Matrix<S> alone = Matrix<S>::Random(8, 3);
    Matrix<S> shared = alone, other = Matrix<S>::Random(4, 4);
    auto s_alone = opt.init(alone), s_shared = opt.init(shared), s_other = opt.init(other);
    for (int t = 0; t < 6; ++t) {
      opt.step(alone, gradient_of(alone, t), s_alone);
      opt.step(other, gradient_of(other, t), s_other);  // interleaved: must not disturb `shared`
      opt.step(shared, gradient_of(shared, t), s_shared);
    }
    CHECK(max_difference(shared, alone) == 0);

    // A State is plain data: a copy resumes exactly where the original was.
    auto copy = s_shared;
    Matrix<S> resumed = shared;
    opt.step(shared, gradient_of(shared, 6), s_shared);
    opt.step(resumed, gradient_of(resumed, 6), copy);
    CHECK(max_difference(resumed, shared) == 0);
    CHECK(copy.step == 7);
  });
}

TEMPLATE_TEST_CASE("Weight decay: L2 goes through the moments, decoupled decay does not",
                   "[properties]", float, double) {
  using S = TestType;
  // With a zero gradient, AdamW shrinks weights by exactly (1 - lr * wd) per step, while Adam
  // with L2 decay moves them by about lr (its normalised step of the decay term).
  const S lr = S(0.01), wd = S(0.1);
  Matrix<S> decoupled = Matrix<S>::Constant(4, 1, 2), coupled = decoupled;
  const descent::AdamW<S> adamw({.learning_rate = lr, .weight_decay = wd});
  const descent::Adam<S> adam({.learning_rate = lr, .weight_decay = wd});
  auto sw = adamw.init(decoupled);
  auto sa = adam.init(coupled);
  adamw.step(decoupled, Matrix<S>::Zero(4, 1), sw);
  adam.step(coupled, Matrix<S>::Zero(4, 1), sa);
  CHECK(decoupled(0) == S(2) * (S(1) - lr * wd));
  CHECK(coupled(0) == Approx(2 - 0.01).epsilon(1e-5));
  CHECK(sw.exp_avg.isZero());        // decoupled: the moments never saw the decay
  CHECK(!sa.exp_avg.isZero());       // L2: the decay went through the gradient
}

TEST_CASE("Defaults are PyTorch's", "[properties]") {
  CHECK(descent::SGD<double>().options().learning_rate == 1e-3);
  CHECK(descent::Momentum<double>().options().momentum == 0.9);
  CHECK(descent::Nesterov<double>().options().momentum == 0.9);
  CHECK(descent::AdaGrad<double>().options().learning_rate == 1e-2);
  CHECK(descent::AdaGrad<double>().options().epsilon == 1e-10);
  CHECK(descent::RMSProp<double>().options().rho == 0.99);
  CHECK(descent::RMSProp<double>().options().learning_rate == 1e-2);
  CHECK(descent::Adadelta<double>().options().learning_rate == 1.0);
  CHECK(descent::Adadelta<double>().options().epsilon == 1e-6);
  CHECK(descent::Adam<double>().options().beta2 == 0.999);
  CHECK(descent::Adam<double>().options().weight_decay == 0);
  CHECK(!descent::Adam<double>().options().decoupled_weight_decay);
  CHECK(descent::AdamW<double>().options().weight_decay == 1e-2);
  CHECK(descent::AdamW<double>().options().decoupled_weight_decay);
  CHECK(descent::Nadam<double>().options().learning_rate == 2e-3);
  CHECK(descent::Nadam<double>().options().momentum_decay == 4e-3);
}

TEMPLATE_TEST_CASE("Centered RMSProp never takes the square root of a negative variance",
                   "[properties]", float, double) {
  using S = TestType;
  // A constant gradient makes E[g^2] - E[g]^2 vanish; rounding can push it below zero.
  const descent::RMSProp<S> rms({.learning_rate = S(1e-3), .centered = true});
  Matrix<S> w = Matrix<S>::Zero(64, 1);
  auto state = rms.init(w);
  const Matrix<S> g = Matrix<S>::Constant(64, 1, S(0.3));
  for (int t = 0; t < 5000; ++t) rms.step(w, g, state);
  CHECK(w.allFinite());
}

TEMPLATE_TEST_CASE("A product grad that reads param is evaluated before param changes",
                   "[properties]", float, double) {
  using S = TestType;
  // 100 x 30 = 3000 elements span several chunks: a lazily re-read product would see half-updated
  // weights. The result must equal stepping with the product evaluated up front.
  const Matrix<S> m = Matrix<S>::Random(100, 100) / S(10);
  descent_test::for_each_optimizer<S>([&](const auto& opt) {
    INFO(opt.class_name);
    Matrix<S> w = Matrix<S>::Random(100, 30), reference = w;
    auto s = opt.init(w), s_ref = opt.init(reference);
    for (int t = 0; t < 3; ++t) {
      opt.step(w, m * w, s);
      const Matrix<S> g = m * reference;
      opt.step(reference, g, s_ref);
    }
    CHECK(max_difference(w, reference) == 0);
  });
}

TEST_CASE("Momentum 0 is plain SGD whatever the dampening, as in torch.optim.SGD", "[properties]") {
  Matrix<double> w = Matrix<double>::Constant(3, 1, 1), v = w;
  const Matrix<double> g = Matrix<double>::Constant(3, 1, 0.5);
  const descent::Momentum<double> damped({.learning_rate = 0.1, .momentum = 0, .dampening = 0.5});
  const descent::SGD<double> sgd({.learning_rate = 0.1});
  auto sd = damped.init(w);
  auto ss = sgd.init(v);
  for (int i = 0; i < 3; ++i) {
    damped.step(w, g, sd);
    sgd.step(v, g, ss);
  }
  CHECK(w == v);  // with the dampening applied, steps 2 and 3 would be half as long
}
