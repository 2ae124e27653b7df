// LibTorch 1.13's optimizers doing the steps optim_bench times: one parameter tensor of n
// elements with a fixed gradient, single-threaded. LibTorch's C++ API has no Adadelta or NAdam.

#include "peers.hpp"
#include "report.hpp"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace descent_bench {

namespace {

using MakeOptimizer = std::function<std::unique_ptr<torch::optim::Optimizer>(torch::Tensor)>;

void add(const std::string& optimizer, int streams, const MakeOptimizer& make) {
  for (const auto dtype : {torch::kFloat, torch::kDouble}) {
    const bool is_float = dtype == torch::kFloat;
    const std::string name = "torch_step<descent::" + optimizer + "<" +
                             (is_float ? "float" : "double") + ">>";
    auto* bm = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      torch::set_num_threads(1);
      const std::int64_t n = st.range(0);
      torch::Tensor w = torch::rand({n}, torch::dtype(dtype)).requires_grad_();
      w.mutable_grad() = torch::rand({n}, torch::dtype(dtype)) * 1e-3;
      const auto opt = make(w);
      for (auto _ : st) {
        opt->step();
        benchmark::ClobberMemory();
      }
      set_element_counters(st, n, (is_float ? 4.0 : 8.0) * streams);
      st.counters["streams"] = streams;
    });
    for (const auto n : step_sizes) bm->Arg(n);
  }
}

}  // namespace

void register_torch_optimizers() {
  namespace optim = torch::optim;
  add("SGD", 3, [](torch::Tensor w) {
    return std::make_unique<optim::SGD>(std::vector{w}, optim::SGDOptions(1e-3));
  });
  add("Momentum", 5, [](torch::Tensor w) {
    return std::make_unique<optim::SGD>(std::vector{w}, optim::SGDOptions(1e-3).momentum(0.9));
  });
  add("Nesterov", 5, [](torch::Tensor w) {
    return std::make_unique<optim::SGD>(std::vector{w},
                                        optim::SGDOptions(1e-3).momentum(0.9).nesterov(true));
  });
  add("AdaGrad", 5, [](torch::Tensor w) {
    return std::make_unique<optim::Adagrad>(std::vector{w}, optim::AdagradOptions(1e-2));
  });
  add("RMSProp", 5, [](torch::Tensor w) {
    return std::make_unique<optim::RMSprop>(std::vector{w}, optim::RMSpropOptions(1e-2));
  });
  add("Adam", 7, [](torch::Tensor w) {
    return std::make_unique<optim::Adam>(std::vector{w}, optim::AdamOptions(1e-3));
  });
  add("AdamW", 7, [](torch::Tensor w) {
    return std::make_unique<optim::AdamW>(std::vector{w}, optim::AdamWOptions(1e-3));
  });
}

}  // namespace descent_bench
