#pragma once
// Collects every benchmark's result while Google Benchmark prints its usual table, so a bench can
// end with a summary of ratios between figures measured in the same run.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace descent_bench {

struct Result {
  double nanoseconds = 0;  ///< real time per iteration
  std::map<std::string, double> counters;
};

/// With --benchmark_repetitions=N it keeps (and prints) only the fastest repetition of each
/// benchmark, and no aggregates: on a shared machine the slower repetitions lost time to
/// neighbours, not to the code.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;  // errors, and the fastest repetition of each benchmark
    for (const auto& run : runs) {
      if (run.error_occurred) {
        shown.push_back(run);
      } else if (run.run_type == Run::RT_Iteration) {
        const auto same = std::find_if(shown.begin(), shown.end(), [&](const Run& r) {
          return !r.error_occurred && r.benchmark_name() == run.benchmark_name();
        });
        if (same == shown.end()) {
          shown.push_back(run);
        } else if (nanoseconds(run) < nanoseconds(*same)) {
          *same = run;
        }
      }
    }
    for (const auto& run : shown) {
      if (run.error_occurred) continue;
      const auto [known, fresh] = results.try_emplace(run.benchmark_name());
      if (!fresh && known->second.nanoseconds <= nanoseconds(run)) continue;
      known->second.nanoseconds = nanoseconds(run);
      known->second.counters.clear();
      for (const auto& [name, counter] : run.counters) known->second.counters[name] = counter.value;
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }
  std::map<std::string, Result> results;

 private:
  static double nanoseconds(const Run& run) {
    return run.real_accumulated_time * 1e9 / double(run.iterations);
  }
};

/// Per-element counters for a step over n elements: ns_per_element, and bytes per second for the
/// bytes the update must move.
inline void set_element_counters(benchmark::State& st, std::int64_t n, double bytes_per_element) {
  const auto steps = static_cast<double>(st.iterations());
  // A rate inverted is seconds per element; scaled by 1e-9 it reads in nanoseconds.
  st.counters["ns_per_element"] = benchmark::Counter(
      steps * double(n) * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.SetBytesProcessed(static_cast<std::int64_t>(steps * double(n) * bytes_per_element));
}

/// Samples per second over the benchmark's iterations, `batch` samples each.
inline void set_sample_rate(benchmark::State& st, std::int64_t batch) {
  st.counters["samples_per_second"] =
      benchmark::Counter(double(batch) * double(st.iterations()), benchmark::Counter::kIsRate);
}

/// One row of the summary table scripts/bench.sh gathers from every bench: a figure, descent's
/// value, the limit's and LibTorch's (0: not measured), and the ratios. `higher_is_better` says
/// whether the figure is a rate (samples/s) or a time (ns per element). Columns:
/// | figure | unit | descent | limit | LibTorch | descent / limit | descent vs LibTorch |
inline void print_row(const std::string& figure, const std::string& unit, double descent,
                      double limit, double libtorch, bool higher_is_better) {
  const auto cell = [](double v, const char* format) {
    if (v <= 0) return std::string("-");
    char text[32];
    std::snprintf(text, sizeof text, format, v);
    return std::string(text);
  };
  const char* format = higher_is_better ? "%.0f" : "%.3f";
  // descent / limit (a time: at most ~1 is at the limit; a rate: at least ~1), and how many
  // times faster than LibTorch descent is.
  const double of_limit = descent / limit;
  const double vs_torch = higher_is_better ? descent / libtorch : libtorch / descent;
  std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", figure.c_str(), unit.c_str(),
              cell(descent, format).c_str(), cell(limit, format).c_str(),
              cell(libtorch, format).c_str(), cell(limit > 0 ? of_limit : 0, "%.2f").c_str(),
              cell(libtorch > 0 ? vs_torch : 0, "%.1fx").c_str());
}

/// Runs the registered benchmarks (honouring --benchmark_filter and friends) into a Collector.
inline Collector run(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  return collector;
}

}  // namespace descent_bench
