// One training step (forward, loss, backward, Adam step) of the 784-256-128-10 MLP with dropout
// 0.2, at batch 1, 32, 64 and 256, on 1 and 2 threads; inference alone; and, as the limit for that
// work, the same step's matrix products alone (the eight GEMMs, single thread); and a whole
// epoch of Fashion-MNIST at batch 64 through the Trainer (shuffle, gather, step), when Debian's
// dataset-fashion-mnist is installed. The summary gives samples per second and the ratios, with
// LibTorch's figures beside them when built with its peers (see peers.hpp).
//
//   build/bench/nn_bench

#include "peers.hpp"
#include "report.hpp"

#include <descent/data.hpp>
#include <descent/nn.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

namespace {

using Matrix = Eigen::MatrixXf;
using descent_bench::mlp_widths;
using descent_bench::set_sample_rate;

descent::nn::Sequential<float> mlp(int threads) {
  auto net = descent::nn::make_network<float>({.inputs = mlp_widths[0],
                                               .outputs = mlp_widths[3],
                                               .hidden = {mlp_widths[1], mlp_widths[2]},
                                               .dropout = descent_bench::mlp_dropout},
                                              0);
  net.set_threads(threads);
  return net;
}

Matrix labels(Eigen::Index batch) {
  Matrix y(1, batch);
  for (Eigen::Index j = 0; j < batch; ++j) y(0, j) = float(j % 10);
  return y;
}

void bm_train_step(benchmark::State& st) {
  const Eigen::Index batch = st.range(0);
  auto net = mlp(int(st.range(1)));
  const Matrix x = Matrix::Random(mlp_widths[0], batch), y = labels(batch);
  Matrix grad(10, batch);
  auto adam = descent::make_optimizer<float>("adam");
  adam.add_param_group({descent::Parameter<float>{net.parameters().data(), net.gradients().data(),
                                                  net.parameter_count(), "mlp"}});
  net.set_training(true);
  for (auto _ : st) {
    descent::nn::loss_and_gradient(descent::nn::Loss::cross_entropy, net.forward(x), y, grad);
    net.backward(grad);
    net.step(adam);
  }
  set_sample_rate(st, batch);
}

void bm_inference(benchmark::State& st) {
  const Eigen::Index batch = st.range(0);
  auto net = mlp(int(st.range(1)));
  const Matrix x = Matrix::Random(mlp_widths[0], batch);
  for (auto _ : st) benchmark::DoNotOptimize(net.forward(x).data());
  set_sample_rate(st, batch);
}

/// The products of one training step and nothing else: 3 forward, 3 weight gradients and the 2
/// input gradients the step needs (none for the input layer).
void bm_gemm_limit(benchmark::State& st) {
  using descent::nn::detail::Gemm;
  const Eigen::Index b = st.range(0);
  std::vector<Matrix> w, a, g, dw;
  std::vector<std::unique_ptr<Gemm<float>>> fwd, wgt, inp;
  for (int l = 0; l < 4; ++l) {
    a.push_back(Matrix::Random(mlp_widths[l], b));
    g.push_back(Matrix::Random(mlp_widths[l], b));
  }
  for (int l = 0; l < 3; ++l) {
    const Eigen::Index in = mlp_widths[l], out = mlp_widths[l + 1];
    w.push_back(Matrix::Random(out, in));
    dw.push_back(Matrix(out, in));
    fwd.push_back(std::make_unique<Gemm<float>>(out, b, in));
    wgt.push_back(std::make_unique<Gemm<float>>(out, in, b));
    inp.push_back(std::make_unique<Gemm<float>>(in, b, out));
  }
  for (auto _ : st) {
    for (int l = 0; l < 3; ++l) {
      fwd[l]->run<false, false>(a[l + 1], w[l].data(), w[l].rows(), a[l].data(), a[l].rows(),
                                w[l].cols());
    }
    for (int l = 2; l >= 0; --l) {
      wgt[l]->run<false, true>(dw[l], g[l + 1].data(), g[l + 1].rows(), a[l].data(), a[l].rows(), b);
      if (l > 0) {
        inp[l]->run<true, false>(g[l], w[l].data(), w[l].rows(), g[l + 1].data(),
                                 g[l + 1].rows(), w[l].rows());
      }
    }
    benchmark::ClobberMemory();
  }
  set_sample_rate(st, b);
}

/// One epoch of Fashion-MNIST's 60,000 training images through the Trainer, single thread.
void bm_epoch(benchmark::State& st) {
  descent::data::Dataset<float> train;
  try {
    train = descent::data::load_mnist<float>(descent_bench::fashion_mnist_dir,
                                             descent::data::Split::train);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
    return;
  }
  auto net = mlp(1);
  descent::nn::Trainer<float> trainer({.batch_size = descent_bench::epoch_batch,
                                       .epochs = 1,
                                       .progress = descent::nn::Trainer<float>::Progress::none});
  for (auto _ : st) trainer.fit(net, train);
  set_sample_rate(st, train.size());
}

void batches(benchmark::internal::Benchmark* bm) {
  for (int threads : {1, 2}) {
    for (int b : descent_bench::mlp_batches) bm->Args({b, threads});
  }
}

}  // namespace

BENCHMARK(bm_train_step)->Apply(batches)->UseRealTime();
BENCHMARK(bm_inference)->Apply(batches)->UseRealTime();
BENCHMARK(bm_gemm_limit)->Args({1, 1})->Args({32, 1})->Args({64, 1})->Args({256, 1})->UseRealTime();
BENCHMARK(bm_epoch)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

int main(int argc, char** argv) {
#if DESCENT_BENCH_TORCH
  descent_bench::register_torch_network();
#endif
  const auto collector = descent_bench::run(argc, argv);
  const auto rate = [&](const std::string& name) {
    const auto it = collector.results.find(name + "/real_time");
    return it == collector.results.end() ? 0.0 : it->second.counters.at("samples_per_second");
  };
  std::printf("\n%6s %16s %16s %10s %16s %16s %12s %16s\n", "batch", "train samples/s",
              "gemm-only /s", "vs limit", "2 threads /s", "2 vs 1 thread", "inference /s",
              "LibTorch train/s");
  for (int b : descent_bench::mlp_batches) {
    const std::string args = "/" + std::to_string(b);
    const double one = rate("bm_train_step" + args + "/1"), two = rate("bm_train_step" + args + "/2");
    const double limit = rate("bm_gemm_limit" + args + "/1");
    if (one == 0) continue;
    std::printf("%6d %16.0f %16.0f %10.2f %16.0f %16.2f %12.0f %16.0f\n", b, one, limit,
                limit > 0 ? one / limit : 0.0, two, two / one, rate("bm_inference" + args + "/1"),
                rate("torch_train_step" + args + "/1"));
  }
  // The rows scripts/bench.sh gathers into its one table.
  std::printf("\n");
  using descent_bench::print_row;
  for (int b : descent_bench::mlp_batches) {
    const std::string args = "/" + std::to_string(b);
    print_row("MLP training step, batch " + std::to_string(b), "samples/s",
              rate("bm_train_step" + args + "/1"), rate("bm_gemm_limit" + args + "/1"),
              rate("torch_train_step" + args + "/1"), true);
  }
  // Two threads against one: the "limit" column holds the single-thread rate.
  print_row("MLP training step, batch 256, 2 threads (limit: 1 thread)", "samples/s",
            rate("bm_train_step/256/2"), rate("bm_train_step/256/1"),
            rate("torch_train_step/256/2"), true);
  print_row("MLP inference, batch 64", "samples/s", rate("bm_inference/64/1"), 0,
            rate("torch_inference/64/1"), true);
  print_row("MLP epoch of Fashion-MNIST, batch 64", "samples/s", rate("bm_epoch/iterations:1"),
            0, rate("torch_epoch/iterations:1"), true);
}
