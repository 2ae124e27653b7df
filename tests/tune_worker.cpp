// A worker process for tests/tune_postgresql.sh (any storage address open_storage takes):
//
//   tune_worker run URL STUDY N SEED        runs N trials of a small objective with TPE
//   tune_worker hang URL STUDY              starts a trial, reports once, prints "running", waits
//                                           to be killed
//   tune_worker check URL STUDY COMPLETE FAILED
//                                           declares dead workers' trials failed, then checks that
//                                           the study has COMPLETE complete and FAILED failed
//                                           trials, numbered 0..n-1 without gaps or repeats, each
//                                           complete one with its parameter and 3 reports, and
//                                           prints the best trial
//   tune_worker enqueue URL STUDY K         queues K trials, trial k with x = -1 + k / K
//   tune_worker total URL STUDY N SEED      runs trials on 2 threads until the study holds N (its
//                                           queued ones first), retrying dead workers' trials once
//   tune_worker check-total URL STUDY N K   checks that the study holds exactly N trials, numbered
//                                           0..N-1, none running or waiting, the first K with their
//                                           queued x, and every retry with the x of the trial it
//                                           retries
// Exit status 0 when all is well, 1 otherwise (with the reason on stderr), 2 for bad arguments.

#include <descent/tune.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include <unistd.h>

namespace tune = descent::tune;

namespace {

double objective(tune::Trial& t) {
  const double x = t.suggest_float("x", -2, 2);
  for (int epoch = 1; epoch <= 3; ++epoch) t.report(x * x + 1.0 / epoch, epoch);
  return x * x;
}

int check(tune::Study& study, long complete, long failed) {
  study.storage().fail_stale_trials(study.id());
  const auto trials = study.trials();
  long counts[5] = {0, 0, 0, 0, 0};
  std::set<std::int64_t> numbers;
  for (const auto& t : trials) {
    ++counts[int(t.state)];
    numbers.insert(t.number);
    if (t.state == tune::TrialState::complete && (!t.params.count("x") || t.intermediate.size() != 3)) {
      std::fprintf(stderr, "trial %lld lacks its parameter or reports\n", static_cast<long long>(t.number));
      return 1;
    }
    if (t.state == tune::TrialState::failed) std::printf("trial %lld failed: %s\n", static_cast<long long>(t.number), t.message.c_str());
  }
  std::printf("%zu trials: %ld complete, %ld pruned, %ld failed, %ld running; numbers 0..%lld\n", trials.size(),
              counts[1], counts[2], counts[3], counts[0], static_cast<long long>(numbers.empty() ? -1 : *numbers.rbegin()));
  if (numbers.size() != trials.size() || (!numbers.empty() && *numbers.rbegin() != std::int64_t(trials.size()) - 1)) {
    std::fprintf(stderr, "trial numbers repeat or have gaps\n");
    return 1;
  }
  if (counts[1] != complete || counts[3] != failed || counts[0] != 0) {
    std::fprintf(stderr, "expected %ld complete and %ld failed trials, none running\n", complete, failed);
    return 1;
  }
  const auto best = study.best_trial();
  std::printf("best trial %lld, value %s, x = %.4f\n", static_cast<long long>(best.number),
              descent::detail::format_number(best.value).c_str(), best.get_float("x"));
  return 0;
}

double queued_x(long k, long of) { return -1.0 + double(k) / double(of); }

int check_total(tune::Study& study, long n, long queued) {
  const auto fail = [](const std::string& why) {
    std::fprintf(stderr, "%s\n", why.c_str());
    return 1;
  };
  const auto trials = study.trials();
  if (long(trials.size()) != n)
    return fail(std::to_string(trials.size()) + " trials, not " + std::to_string(n));
  for (const auto& t : trials) {
    if (!t.finished()) return fail("trial " + std::to_string(t.number) + " did not finish");
    if (t.number != &t - trials.data()) return fail("trial numbers have gaps");
    if (t.number < queued && t.get_float("x") != queued_x(t.number, queued))
      return fail("queued trial " + std::to_string(t.number) + " ran with another x");
    if (t.retry_of >= 0 && t.get_float("x") != trials[std::size_t(t.retry_of)].get_float("x"))
      return fail("trial " + std::to_string(t.number) + " retries with another x");
  }
  long retries = 0;
  for (const auto& t : trials) retries += t.retry_of >= 0;
  std::printf("%ld trials, the first %ld as queued, %ld retries\n", n, queued, retries);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (!((mode == "run" && argc == 6) || (mode == "hang" && argc == 4) || (mode == "check" && argc == 6) ||
        (mode == "enqueue" && argc == 5) || (mode == "total" && argc == 6) || (mode == "check-total" && argc == 6))) {
    std::fprintf(stderr,
                 "usage: tune_worker run URL STUDY N SEED | hang URL STUDY | check URL STUDY COMPLETE FAILED | "
                 "enqueue URL STUDY K | total URL STUDY N SEED | check-total URL STUDY N K\n");
    return 2;
  }
  try {
    const auto seed = mode == "run" || mode == "total" ? std::strtoull(argv[5], nullptr, 10) : 0;
    tune::Study study({.sampler = std::make_shared<tune::TpeSampler>(tune::TpeSampler::Options{.seed = seed}),
                       .storage = tune::open_storage(argv[2]), .name = argv[3],
                       .failed_trial_callback = tune::RetryFailedTrialCallback(1)});
    if (mode == "enqueue") {
      const long k = std::atol(argv[4]);
      for (long i = 0; i < k; ++i) study.enqueue_trial({{"x", queued_x(i, k)}});
      return 0;
    }
    if (mode == "total") {
      study.optimize(objective, {.max_trials = std::atol(argv[4]), .jobs = 2});
      return 0;
    }
    if (mode == "check-total") return check_total(study, std::atol(argv[4]), std::atol(argv[5]));
    if (mode == "run") {
      study.optimize(objective, std::atoi(argv[4]));
      std::printf("worker %d done\n", int(::getpid()));
      return 0;
    }
    if (mode == "hang") {
      tune::Trial trial = study.ask();
      trial.suggest_float("x", -2, 2);
      trial.report(1.0, 1);
      std::printf("running trial %lld\n", static_cast<long long>(trial.number()));
      std::fflush(stdout);
      for (;;) ::pause();
    }
    return check(study, std::atol(argv[4]), std::atol(argv[5]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tune_worker: %s\n", e.what());
    return 1;
  }
}
