#!/bin/sh
# Builds the benchmarks with -O3 -march=native into build-bench/ and runs them: every optimizer's
# step against the memory-traffic limit, then the MLP training step against its GEMM-only limit,
# on 1 and 2 threads, each beside LibTorch when Debian's libtorch-dev is installed (it is
# installed if missing and installable; the benches run without it otherwise). Ends with one
# table of every figure, measured in this run. Each figure is the fastest of 3 repetitions (REPS),
# the limits' and LibTorch's too, run in random interleaved order: a neighbour's burst of load
# slows one repetition of several figures, not all repetitions of one. Extra
# arguments go to both benches (e.g. --benchmark_filter=Adam).
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh
require_packages $BUILD_PACKAGES
# The peer and the dataset are optional: try to install them, carry on without.
(require_packages libtorch-dev) || echo "bench.sh: no libtorch-dev, so no LibTorch column"
(require_packages dataset-fashion-mnist) || echo "bench.sh: no dataset-fashion-mnist, so no epoch row"

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDESCENT_NATIVE=ON -DDESCENT_BENCH_PEERS=ON \
  -DDESCENT_BUILD_BENCH=ON -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null 2>&1 ||
  { cmake --build build-bench; exit 1; }

reps=${REPS:-3}
interleave=--benchmark_enable_random_interleaving=true
log=build-bench/bench.log
: >"$log"
machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "machine: $machine" | tee -a "$log"
echo "== optimizer steps (build-bench/bench/optim_bench)" | tee -a "$log"
./build-bench/bench/optim_bench --benchmark_min_time=0.2 --benchmark_repetitions="$reps" $interleave "$@" | tee -a "$log"
echo | tee -a "$log"
echo "== MLP 784-256-128-10 training step (build-bench/bench/nn_bench)" | tee -a "$log"
./build-bench/bench/nn_bench --benchmark_min_time=0.3 --benchmark_repetitions="$reps" $interleave "$@" | tee -a "$log"

echo
echo "== summary: $machine, $(date -u +%Y-%m-%d)"
echo "| figure | unit | descent | limit | LibTorch | descent / limit | descent vs LibTorch |"
echo "|---|---|---|---|---|---|---|"
grep '^| ' "$log"
