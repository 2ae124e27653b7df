// LibTorch 1.13 training the network nn_bench trains: torch::nn::Sequential of Linear, relu and
// Dropout, cross-entropy, torch::optim::Adam; samples are rows, as in PyTorch. Timed: one training
// step and inference at each batch size on 1 and 2 threads, and a whole epoch of Fashion-MNIST at
// batch 64 (shuffled, batches gathered by index, as a PyTorch user writes it).

#include "peers.hpp"
#include "report.hpp"

#include <descent/data.hpp>

#include <torch/torch.h>

#include <string>

namespace descent_bench {

namespace {

torch::nn::Sequential mlp() {
  torch::manual_seed(0);
  torch::nn::Sequential net;
  const int layers = std::size(mlp_widths) - 1;
  for (int l = 0; l < layers; ++l) {
    net->push_back(torch::nn::Linear(mlp_widths[l], mlp_widths[l + 1]));
    if (l + 1 == layers) break;
    net->push_back(torch::nn::Functional(torch::relu));
    net->push_back(torch::nn::Dropout(mlp_dropout));
  }
  return net;
}

/// One step: zero the gradients, forward, cross-entropy, backward, Adam.
void train_step(torch::nn::Sequential& net, torch::optim::Adam& adam, const torch::Tensor& x,
                const torch::Tensor& y) {
  adam.zero_grad();
  torch::nn::functional::cross_entropy(net->forward(x), y).backward();
  adam.step();
}

void torch_train_step(benchmark::State& st) {
  torch::set_num_threads(int(st.range(1)));
  const std::int64_t batch = st.range(0);
  auto net = mlp();
  net->train();
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  const auto x = torch::rand({batch, mlp_widths[0]});
  const auto y = torch::arange(batch, torch::kLong) % 10;
  for (auto _ : st) train_step(net, adam, x, y);
  set_sample_rate(st, batch);
}

void torch_inference(benchmark::State& st) {
  torch::set_num_threads(int(st.range(1)));
  const std::int64_t batch = st.range(0);
  auto net = mlp();
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({batch, mlp_widths[0]});
  for (auto _ : st) benchmark::DoNotOptimize(net->forward(x).data_ptr());
  set_sample_rate(st, batch);
}

void torch_epoch(benchmark::State& st) {
  torch::set_num_threads(1);
  descent::data::Dataset<float> train;
  try {
    train = descent::data::load_mnist<float>(fashion_mnist_dir, descent::data::Split::train);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
    return;
  }
  const std::int64_t n = train.size();
  // descent keeps samples as columns of a column-major matrix: as rows, the same bytes.
  const auto x = torch::from_blob(train.x.data(), {n, mlp_widths[0]}).clone();
  const auto y = torch::from_blob(train.y.data(), {n}).to(torch::kLong);
  auto net = mlp();
  net->train();
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  for (auto _ : st) {
    const auto order = torch::randperm(n, torch::kLong);
    for (std::int64_t first = 0; first < n; first += epoch_batch) {
      const auto idx = order.slice(0, first, std::min(n, first + epoch_batch));
      train_step(net, adam, x.index_select(0, idx), y.index_select(0, idx));
    }
  }
  set_sample_rate(st, n);
}

}  // namespace

void register_torch_network() {
  for (int threads : {1, 2}) {
    for (int b : mlp_batches) {
      benchmark::RegisterBenchmark("torch_train_step", torch_train_step)
          ->Args({b, threads})->UseRealTime();
      benchmark::RegisterBenchmark("torch_inference", torch_inference)
          ->Args({b, threads})->UseRealTime();
    }
  }
  benchmark::RegisterBenchmark("torch_epoch", torch_epoch)
      ->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
}

}  // namespace descent_bench
