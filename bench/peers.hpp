#pragma once
// LibTorch's side of the benchmarks, built only with -DDESCENT_BENCH_PEERS=ON when CMake finds
// Debian's libtorch-dev (find_package(Torch)); DESCENT_BENCH_TORCH is then 1. The peers register
// benchmarks named like descent's, with torch_ in place of bm_, so a summary finds both.

#include <cstdint>

namespace descent_bench {

/// The tensor sizes every optimizer step is timed at: in L1, in L2, in L3, far out of cache.
inline constexpr std::int64_t step_sizes[] = {1 << 12, 1 << 16, 1 << 20, 1 << 24};

/// The MLP every network benchmark trains: 784-256-128-10, relu, dropout 0.2, cross-entropy, Adam.
inline constexpr int mlp_widths[] = {784, 256, 128, 10};
inline constexpr double mlp_dropout = 0.2;
inline constexpr int mlp_batches[] = {1, 32, 64, 256};
inline constexpr int epoch_batch = 64;
inline constexpr const char* fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

#if DESCENT_BENCH_TORCH
void register_torch_optimizers();  // torch_optim.cpp: torch_step<descent::Adam<float>>/n, ...
void register_torch_network();     // torch_nn.cpp: torch_train_step/batch/threads, ...
#endif

}  // namespace descent_bench
