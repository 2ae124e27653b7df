// descent's side of the tuning benchmark: a sampler on bench/tune_functions.hpp's problems.
// scripts/tune_bench.sh runs it beside Optuna (bench/tune_optuna.py) and prints the table.
//
//   tune_bench check                          f at the check points and the argmin, one line each
//   tune_bench run TRIALS SEEDS [SAMPLER [WORKERS]]
//                                             "problem,seed,regret,seconds" per study, on stdout
//   tune_bench time TRIALS PROBLEM [SAMPLER]  seconds per trial of one study of TRIALS trials
//
// SAMPLER is "default" (the Study's default sampler, what the table judges), "tpe" (TpeSampler
// with its default options) or "random". WORKERS (default 1: one trial after another) runs a
// study as that many parallel workers would:
//   N         N workers whose trials all take the same time: N trials are in flight at once, and
//             each new trial starts when the oldest ends (ask/tell), so the sampler sees the other
//             N - 1 running with all their parameters. Deterministic: a seed gives the same
//             regret on every run.
//   Nthreads  Study::optimize with jobs = N, each trial sleeping 2 ms so that the threads'
//             trials overlap as real ones do; the order varies from run to run.

#include "tune_functions.hpp"

#include <descent/tune.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace tune = descent::tune;
using tune_bench::ParamSpec;
using tune_bench::Point;
using tune_bench::Problem;

namespace {

tune::ParamValue suggest(tune::Trial& trial, const ParamSpec& p) {
  switch (p.kind) {
    case ParamSpec::Kind::categorical: return trial.suggest_categorical(p.name, p.choices);
    case ParamSpec::Kind::integer:
      return trial.suggest_int(p.name, std::int64_t(p.low), std::int64_t(p.high),
                               std::int64_t(p.step), p.log);
    case ParamSpec::Kind::real: return trial.suggest_float(p.name, p.low, p.high, {p.log, p.step});
  }
  throw std::logic_error("tune_bench: unknown parameter kind");
}

/// TpeSampler's options from "key=value,..." (keys as in TpeSampler::Options), on its defaults.
tune::TpeSampler::Options tpe_options(const std::string& text, std::uint64_t seed) {
  tune::TpeSampler::Options o{.seed = seed};
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    const std::string pair = text.substr(at, comma - at);
    const std::size_t eq = pair.find('=');
    const std::string key = pair.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : pair.substr(eq + 1);
    const double v = std::atof(value.c_str());
    if (key == "n_startup_trials") o.n_startup_trials = int(v);
    else if (key == "n_ei_candidates") o.n_ei_candidates = int(v);
    else if (key == "gamma") o.gamma = v;
    else if (key == "max_good") o.max_good = int(v);
    else if (key == "prior_weight") o.prior_weight = v;
    else if (key == "multivariate") o.multivariate = v != 0;
    else if (key == "bandwidth")
      o.bandwidth = value == "scott" ? tune::Bandwidth::scott : tune::Bandwidth::neighbours;
    else if (key == "consider_endpoints") o.consider_endpoints = v != 0;
    else if (key == "equal_height_kernels") o.equal_height_kernels = v != 0;
    else if (key == "constant_liar") o.constant_liar = v != 0;
    else if (key == "lie_on_categorical") o.lie_on_categorical = v != 0;
    else throw std::invalid_argument("tune_bench: unknown TPE option '" + key + "'");
    at = comma + 1;
  }
  return o;
}

std::shared_ptr<tune::Sampler> make_sampler(const std::string& name, std::uint64_t seed) {
  if (name == "default") return tune::default_sampler(seed);
  if (name.starts_with("tpe")) {
    const std::size_t colon = name.find(':');
    const std::string options = colon == std::string::npos ? "" : name.substr(colon + 1);
    return std::make_shared<tune::TpeSampler>(tpe_options(options, seed));
  }
  if (name.starts_with("mix:")) {  // mix:SPEC|SPEC|...: a portfolio of the samplers named
    std::vector<std::shared_ptr<tune::Sampler>> members;
    for (std::size_t at = 4; at <= name.size();) {
      const std::size_t bar = std::min(name.find('|', at), name.size());
      members.push_back(make_sampler(name.substr(at, bar - at), seed));
      at = bar + 1;
    }
    return std::make_shared<tune::PortfolioSampler>(members);
  }
  if (name == "random") return std::make_shared<tune::RandomSampler>(seed);
  throw std::invalid_argument("tune_bench: unknown sampler '" + name +
                              "' (default, tpe[:key=value,...], mix:SAMPLER|SAMPLER..., random)");
}

struct Outcome {
  double best, seconds;
};

/// How a study's trials run: one after another, N in flight (ask/tell), or on N threads.
struct Workers {
  int n = 1;
  bool threads = false;
};

Workers workers_from(const std::string& text) {
  Workers w;
  std::string digits = text;
  if (text.ends_with("threads")) {
    w.threads = true;
    digits = text.substr(0, text.size() - 7);
  }
  char* end = nullptr;
  const long n = std::strtol(digits.c_str(), &end, 10);
  if (digits.empty() || *end != '\0' || n < 1 || n > 256) {
    throw std::invalid_argument("tune_bench: WORKERS must be N or Nthreads with N in [1, 256], got '" +
                                text + "'");
  }
  w.n = int(n);
  return w;
}

Outcome study_of(const Problem& problem, const std::string& sampler, std::uint64_t seed,
                 int trials, Workers workers = {}) {
  tune::Study study({.sampler = make_sampler(sampler, seed)});
  const auto evaluate = [&](tune::Trial& trial) {
    Point point;
    for (const auto& p : problem.params) point.push_back(suggest(trial, p));
    return problem.f(point);
  };
  const auto start = std::chrono::steady_clock::now();
  if (workers.threads) {
    study.optimize([&](tune::Trial& trial) {
      const double value = evaluate(trial);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return value;
    }, trials, workers.n);
  } else if (workers.n > 1) {
    std::deque<std::pair<tune::Trial, double>> in_flight;
    for (int i = 0; i < trials; ++i) {
      if (int(in_flight.size()) == workers.n) {
        study.tell(in_flight.front().first, tune::TrialState::complete, in_flight.front().second);
        in_flight.pop_front();
      }
      tune::Trial trial = study.ask();
      const double value = evaluate(trial);
      in_flight.emplace_back(std::move(trial), value);
    }
    for (auto& [trial, value] : in_flight) study.tell(trial, tune::TrialState::complete, value);
  } else {
    study.optimize(evaluate, trials);
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return {study.best_value(), took.count()};
}

const Problem& find(const std::vector<Problem>& all, const std::string& name) {
  for (const auto& p : all) {
    if (p.name == name) return p;
  }
  throw std::invalid_argument("tune_bench: unknown problem '" + name + "'");
}

int positive(const char* text, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*end != '\0' || v < 1 || v > 1000000) {
    throw std::invalid_argument(std::string("tune_bench: ") + what + " must be a whole number " +
                                "in [1, 1000000], got '" + text + "'");
  }
  return int(v);
}

int run(int argc, char** argv) {
  const auto all = tune_bench::problems();
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "check" && argc == 2) {
    for (const auto& p : all) {
      auto points = tune_bench::check_points(p.params);
      points.push_back(p.argmin);
      for (const auto& point : points) std::printf("%s %.17g\n", p.name.c_str(), p.f(point));
    }
    return 0;
  }
  if (mode == "run" && argc >= 4 && argc <= 6) {
    const int trials = positive(argv[2], "TRIALS"), seeds = positive(argv[3], "SEEDS");
    const std::string sampler = argc >= 5 ? argv[4] : "default";
    const Workers workers = workers_from(argc == 6 ? argv[5] : "1");
    for (int seed = 0; seed < seeds; ++seed) {
      for (const auto& p : all) {
        const Outcome o = study_of(p, sampler, std::uint64_t(seed), trials, workers);
        std::printf("%s,%d,%.17g,%.6f\n", p.name.c_str(), seed, o.best - p.f(p.argmin), o.seconds);
        std::fflush(stdout);
      }
    }
    return 0;
  }
  if (mode == "time" && (argc == 4 || argc == 5)) {
    const int trials = positive(argv[2], "TRIALS");
    const Outcome o = study_of(find(all, argv[3]), argc == 5 ? argv[4] : "default", 0, trials);
    std::printf("%.9f\n", o.seconds / trials);
    return 0;
  }
  std::fprintf(stderr, "usage: tune_bench check | run TRIALS SEEDS [SAMPLER [WORKERS]] | "
                       "time TRIALS PROBLEM [SAMPLER]   (SAMPLER: default, tpe, random; "
                       "WORKERS: N or Nthreads)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
