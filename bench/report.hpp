#pragma once
// Collects every benchmark's result while Google Benchmark prints its usual table, so a bench can
// end with a summary of ratios between figures measured in the same run.

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace descent_bench {

struct Result {
  double nanoseconds = 0;  ///< real time per iteration
  std::map<std::string, double> counters;
};

class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      Result r;
      r.nanoseconds = run.real_accumulated_time * 1e9 / double(run.iterations);
      for (const auto& [name, counter] : run.counters) r.counters[name] = counter.value;
      results[run.benchmark_name()] = r;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, Result> results;
};

/// Runs the registered benchmarks (honouring --benchmark_filter and friends) into a Collector.
inline Collector run(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  return collector;
}

}  // namespace descent_bench
