// The step of every optimizer, float and double, at 4K, 64K, 1M and 16M elements, next to the
// memory-traffic limit: a hand-fused loop that reads param, grad and two moments and writes param
// and the moments once, as Adam must, with trivial arithmetic. The summary at the end divides
// each optimizer's time by the limit's time for the bytes that optimizer must move.
//
//   build/bench/optim_bench [--benchmark_filter=Adam]
//
// Counters: ns_per_element, and bytes_per_second for the bytes the update must move
// (each state buffer read and written, param read and written, grad read).

#include "peers.hpp"
#include "report.hpp"

#include <descent/optim.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using descent_bench::set_element_counters;

template <class S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// Streams an optimizer touches per element: param (read + write), grad (read), and each state
/// buffer (read + write).
template <class Opt>
int state_buffers(const Opt& opt) {
  using S = typename std::decay_t<decltype(opt.options().learning_rate)>;
  Vec<S> probe = Vec<S>::Zero(1);
  const auto state = opt.init(probe);
  int buffers = 0;
  std::apply([&](const auto&... f) {
    ((buffers += [&] {
       if constexpr (std::is_arithmetic_v<std::decay_t<decltype(state.*(f.member))>>) return 0;
       else return (state.*(f.member)).size() > 0 ? 1 : 0;
     }()), ...);
  }, std::decay_t<decltype(state)>::fields());
  return buffers;
}

template <class Opt>
void bm_step(benchmark::State& st) {
  using S = std::decay_t<decltype(Opt().options().learning_rate)>;
  const std::int64_t n = st.range(0);
  const Opt opt;
  Vec<S> w = Vec<S>::Random(n), g = Vec<S>::Random(n) * S(1e-3);
  auto state = opt.init(w);
  for (auto _ : st) {
    opt.step(w, g, state);
    benchmark::DoNotOptimize(w.data());
    benchmark::ClobberMemory();
  }
  set_element_counters(st, n, double(sizeof(S)) * (3 + 2 * state_buffers(opt)));
  st.counters["streams"] = 3 + 2 * state_buffers(opt);
}

/// The limit: Adam's traffic (read p, g, m, v; write p, m, v) in one fused, vectorised loop.
template <class S>
void bm_fused_limit(benchmark::State& st) {
  const std::int64_t n = st.range(0);
  Vec<S> p = Vec<S>::Random(n), g = Vec<S>::Random(n), m = Vec<S>::Zero(n), v = Vec<S>::Zero(n);
  S* __restrict pp = p.data();
  const S* __restrict gp = g.data();
  S* __restrict mp = m.data();
  S* __restrict vp = v.data();
  for (auto _ : st) {
    for (std::int64_t i = 0; i < n; ++i) {
      const S gi = gp[i];
      const S mi = S(0.9) * mp[i] + S(0.1) * gi;
      const S vi = S(0.999) * vp[i] + S(0.001) * gi * gi;
      mp[i] = mi;
      vp[i] = vi;
      pp[i] -= S(1e-3) * mi * vi;
    }
    benchmark::DoNotOptimize(pp);
    benchmark::ClobberMemory();
  }
  set_element_counters(st, n, double(sizeof(S)) * 7);
  st.counters["streams"] = 7;
}

void sizes_arg(benchmark::internal::Benchmark* b) {
  for (auto n : descent_bench::step_sizes) b->Arg(n);
}

}  // namespace

#define DESCENT_BENCH_OPTIMIZER(Opt)                                  \
  BENCHMARK_TEMPLATE(bm_step, descent::Opt<float>)->Apply(sizes_arg); \
  BENCHMARK_TEMPLATE(bm_step, descent::Opt<double>)->Apply(sizes_arg)

BENCHMARK_TEMPLATE(bm_fused_limit, float)->Apply(sizes_arg);
BENCHMARK_TEMPLATE(bm_fused_limit, double)->Apply(sizes_arg);
DESCENT_BENCH_OPTIMIZER(SGD);
DESCENT_BENCH_OPTIMIZER(Momentum);
DESCENT_BENCH_OPTIMIZER(Nesterov);
DESCENT_BENCH_OPTIMIZER(AdaGrad);
DESCENT_BENCH_OPTIMIZER(RMSProp);
DESCENT_BENCH_OPTIMIZER(Adadelta);
DESCENT_BENCH_OPTIMIZER(Adam);
DESCENT_BENCH_OPTIMIZER(AdamW);
DESCENT_BENCH_OPTIMIZER(Nadam);

int main(int argc, char** argv) {
#if DESCENT_BENCH_TORCH
  descent_bench::register_torch_optimizers();
#endif
  const auto collector = descent_bench::run(argc, argv);
  const auto ns_per_element = [&](const std::string& name) {
    const auto it = collector.results.find(name);
    return it == collector.results.end() ? 0.0 : it->second.counters.at("ns_per_element");
  };
  // Each step against the limit scaled to the streams it must move, and against LibTorch's.
  struct Row {
    std::string optimizer, scalar, size;
    double ns, limit, torch;
  };
  std::vector<Row> rows;
  for (const auto& [name, r] : collector.results) {
    if (name.rfind("bm_step<", 0) != 0) continue;
    const auto type_start = name.find("descent::") + 9, type_end = name.find('<', type_start);
    const std::string scalar = name.substr(type_end + 1, name.find('>', type_end) - type_end - 1);
    const std::string size = name.substr(name.rfind('/') + 1);
    const double limit = ns_per_element("bm_fused_limit<" + scalar + ">/" + size);
    if (limit == 0) continue;
    rows.push_back({name.substr(type_start, type_end - type_start), scalar, size,
                    r.counters.at("ns_per_element"), limit / 7 * r.counters.at("streams"),
                    ns_per_element("torch_step" + name.substr(std::string("bm_step").size()))});
  }
  std::printf("\n%-10s %-7s %9s %12s %12s %7s %12s %9s\n", "optimizer", "scalar", "elements",
              "ns/element", "limit ns/el", "ratio", "LibTorch", "speed-up");
  for (const auto& r : rows) {
    std::printf("%-10s %-7s %9s %12.4f %12.4f %7.2f %12.4f %9.1f\n", r.optimizer.c_str(),
                r.scalar.c_str(), r.size.c_str(), r.ns, r.limit, r.ns / r.limit, r.torch,
                r.torch / r.ns);
  }
  // The rows scripts/bench.sh gathers into its one table: the largest size, far out of cache.
  std::printf("\n");
  const std::string largest = std::to_string(descent_bench::step_sizes[3]);
  for (const auto& r : rows) {
    if (r.size != largest) continue;
    descent_bench::print_row(r.optimizer + "<" + r.scalar + "> step, " + r.size + " elements",
                             "ns/element", r.ns, r.limit, r.torch, false);
  }
}
