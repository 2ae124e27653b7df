#!/bin/sh
# Builds the benchmarks with -O3 -march=native into build-bench/ and runs them: every optimizer's
# step against the memory-traffic limit, then the MLP training step against its GEMM-only limit,
# on 1 and 2 threads. Each bench ends with a summary table of ratios measured in the same run.
# Extra arguments go to both benches (e.g. --benchmark_filter=Adam).
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDESCENT_NATIVE=ON \
  -DDESCENT_BUILD_BENCH=ON -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null 2>&1 ||
  { cmake --build build-bench; exit 1; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "== optimizer steps (build-bench/bench/optim_bench)"
./build-bench/bench/optim_bench --benchmark_min_time=0.2 "$@"
echo
echo "== MLP 784-256-128-10 training step (build-bench/bench/nn_bench)"
./build-bench/bench/nn_bench --benchmark_min_time=0.3 "$@"
