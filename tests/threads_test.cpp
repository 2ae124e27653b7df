// Threads: one optimizer object steps separate States from several threads at once (it holds only
// hyperparameters), and the network's thread team trains with two threads. scripts/test.sh also
// runs this file under ThreadSanitizer, which fails on any data race.

#include "optimizers.hpp"

#include <descent/nn.hpp>

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

TEMPLATE_TEST_CASE("One optimizer steps separate States from four threads at once", "[threads]",
                   float, double) {
  using S = TestType;
  using Vector = Eigen::Array<S, Eigen::Dynamic, 1>;
  constexpr int threads = 4, steps = 50;
  // 1500 elements: several kernel chunks per step, so the threads overlap inside step().
  const auto run = [](const auto& opt, Vector& w, int seed) {
    auto state = opt.init(w);
    for (int t = 0; t < steps; ++t) {
      opt.step(w, (w * S(0.5) - S(0.1) * S((t + seed) % 3)).eval(), state);
    }
    return state.step;
  };
  descent_test::for_each_optimizer<S>([&](const auto& opt) {
    INFO(opt.class_name);
    std::vector<Vector> alone(threads), together(threads);
    for (int i = 0; i < threads; ++i) {
      alone[i] = together[i] = Vector::LinSpaced(1500, S(-1), S(1)) * S(i + 1);
      run(opt, alone[i], i);
    }
    std::vector<std::int64_t> counts(threads);
    std::vector<std::thread> team;
    for (int i = 0; i < threads; ++i) {
      team.emplace_back([&, i] { counts[i] = run(opt, together[i], i); });
    }
    for (auto& t : team) t.join();
    for (int i = 0; i < threads; ++i) {
      CHECK(counts[i] == steps);
      CHECK((together[i] == alone[i]).all());  // bit for bit what one thread computes
    }
  });
}

TEST_CASE("A network trains with a team of two threads, reproducibly", "[threads][trainer]") {
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(6, 120), y(1, 120);
  for (Eigen::Index j = 0; j < y.cols(); ++j) y(0, j) = x(0, j) + x(1, j) > 0 ? 1.0f : 0.0f;
  struct {
    Eigen::MatrixXf x, y;
  } data{x, y};
  const auto train = [&] {
    auto net = descent::nn::make_network<float>(
        {.inputs = 6, .outputs = 2, .hidden = {48, 24}, .dropout = 0.1}, 5);
    descent::nn::Trainer<float> trainer(
        {.learning_rate = 0.01, .batch_size = 40, .epochs = 3,
         .progress = descent::nn::Trainer<float>::Progress::none, .threads = 2});
    const auto history = trainer.fit(net, data);
    CHECK(history.epochs.back().loss < history.epochs.front().loss);
    return descent::Buffer<float>(net.parameters());
  };
  const auto first = train(), second = train();
  CHECK(first.allFinite());
  CHECK((first == second).all());
}

/// What Sequential::step needs of an optimizer: step() and step(team), here any callable.
template <class F>
struct Stepper {
  F f;
  void step(const descent::StepTeam* team = nullptr) { f(team); }
};
template <class F>
Stepper(F) -> Stepper<F>;  // clang 14 deduces no aggregate's arguments without it

TEMPLATE_TEST_CASE("A network's step splits every optimizer's update over its threads, bit for bit",
                   "[threads]", float, double) {
  using S = TestType;
  using Vector = Eigen::Array<S, Eigen::Dynamic, 1>;
  auto net = descent::nn::make_network<S>({.inputs = 4, .outputs = 2, .hidden = {8}}, 1);
  net.set_threads(2);
  // Large enough to be split (and not in whole chunks: the last run is short), and a small
  // tensor that is not split at all.
  for (const Eigen::Index n : {Eigen::Index(40000 + 7), Eigen::Index(100)}) {
    descent_test::for_each_optimizer<S>([&](const auto& opt) {
      INFO(opt.class_name << ", " << n << " elements");
      Vector alone = Vector::LinSpaced(n, S(-1), S(1)), together = alone;
      auto alone_state = opt.init(alone), together_state = opt.init(together);
      Stepper stepper{[&, t = 0](const descent::StepTeam* team) mutable {
        CHECK(team != nullptr);  // the network's threads, handed over explicitly
        opt.step(together, (together * S(0.5) - S(0.1) * S(t++ % 3)).eval(), together_state,
                 team);
      }};
      for (int t = 0; t < 4; ++t) {
        opt.step(alone, (alone * S(0.5) - S(0.1) * S(t % 3)).eval(), alone_state);
        net.step(stepper);
      }
      CHECK(together_state.step == 4);
      CHECK((together == alone).all());
    });
  }
}

TEMPLATE_TEST_CASE("A network's step splits its own arena by layers, bit for bit", "[threads]",
                   float, double) {
  using S = TestType;
  using Vector = Eigen::Array<S, Eigen::Dynamic, 1>;
  // 19,914 parameters in four segments of uneven sizes (a bias of 5 is split 3 + 2).
  auto net = descent::nn::make_network<S>({.inputs = 300, .outputs = 5, .hidden = {63}}, 2);
  net.set_threads(2);
  const Vector start = net.parameters();
  descent_test::for_each_optimizer<S>([&](const auto& opt) {
    INFO(opt.class_name);
    net.parameters() = start;
    Vector alone = start;
    auto alone_state = opt.init(alone), arena_state = opt.init(net.parameters());
    Stepper stepper{[&](const descent::StepTeam* team) {
      opt.step(net.parameters(), net.gradients(), arena_state, team);
    }};
    for (int t = 0; t < 3; ++t) {
      net.gradients() = Vector::LinSpaced(start.size(), S(-2), S(1)) * S(t + 1) + alone * S(0.3);
      opt.step(alone, net.gradients(), alone_state);
      net.step(stepper);
    }
    CHECK((net.parameters() == alone).all());
  });
}
