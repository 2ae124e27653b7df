// descent::tune's pruners against Optuna 3.1 (tests/golden/tune/pruners.txt, made by
// tests/golden/make_golden_pruners.py: Optuna's decision after every report of given curves), the
// rules Optuna's data cannot pin down (Hyperband's bracket of a trial, "auto"), the options'
// checks, the median pruner and ASHA on constructed learning curves, and studies with ASHA and
// HyperbandPruner from end to end.

#include <descent/tune.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace tune = descent::tune;
using tune::Direction;
using tune::TrialState;

namespace {

// ---- the golden file ----------------------------------------------------------------------------

struct Report {
  std::int64_t step = 0;
  double value = 0;
  bool prune = false;  ///< Optuna's answer to should_prune() after this report
};

struct GoldenTrial {
  std::int64_t number = 0;
  TrialState end = TrialState::running;  ///< how it ended after its reports
  int group = 0;                         ///< Hyperband: Optuna's bracket of the trial
  std::vector<Report> reports;
};

struct GoldenCase {
  std::string name, kind;
  std::map<std::string, std::string> options;  ///< descent's option names
  Direction direction = Direction::minimize;
  std::vector<GoldenTrial> trials;

  bool has(const std::string& key) const { return options.count(key) > 0; }
  double number(const std::string& key) const {
    return std::strtod(options.at(key).c_str(), nullptr);
  }
  std::int64_t integer(const std::string& key) const { return std::stoll(options.at(key)); }
};

/// Optuna's number of brackets and per-bracket trial budgets for one (min, max, eta).
struct GoldenBrackets {
  std::int64_t min_resource = 0, max_resource = 0, reduction_factor = 0;
  int optuna_n = 0, exact_n = 0;
  std::vector<double> budgets;
};

struct Golden {
  std::vector<GoldenCase> cases;
  std::vector<GoldenBrackets> brackets;

  std::vector<const GoldenCase*> of_kind(const std::string& kind) const {
    std::vector<const GoldenCase*> out;
    for (const auto& c : cases) {
      if (c.kind == kind) out.push_back(&c);
    }
    return out;
  }
};

const Golden& golden() {
  static const Golden data = [] {
    Golden g;
    std::ifstream in(DESCENT_GOLDEN_TUNE_DIR "/pruners.txt");
    REQUIRE(in);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string head;
      words >> head;
      if (head == "case") {
        g.cases.emplace_back();
        words >> g.cases.back().name;
      } else if (head == "pruner") {
        words >> g.cases.back().kind;
        for (std::string option; words >> option;) {
          const auto eq = option.find('=');
          g.cases.back().options[option.substr(0, eq)] = option.substr(eq + 1);
        }
      } else if (head == "direction") {
        std::string d;
        words >> d;
        g.cases.back().direction = tune::direction_from(d);
      } else if (head == "trial") {
        GoldenTrial t;
        std::string state;
        std::size_t n = 0;
        words >> t.number >> state >> t.group >> n;
        t.end = tune::trial_state_from(state);
        for (std::size_t i = 0; i < n; ++i) {
          REQUIRE(std::getline(in, line));
          std::istringstream row(line);
          Report r;
          std::string value;
          int prune = 0;
          REQUIRE(row >> r.step >> value >> prune);
          r.value = std::strtod(value.c_str(), nullptr);  // reads nan and inf, unlike operator>>
          r.prune = prune != 0;
          t.reports.push_back(r);
        }
        g.cases.back().trials.push_back(std::move(t));
      } else if (head == "brackets") {
        GoldenBrackets b;
        words >> b.min_resource >> b.max_resource >> b.reduction_factor >> b.optuna_n >> b.exact_n;
        for (double budget; words >> budget;) b.budgets.push_back(budget);
        g.brackets.push_back(std::move(b));
      }
    }
    return g;
  }();
  return data;
}

}  // namespace

namespace {

/// Optuna's answers compared with descent's over one replay.
struct Tally {
  int checked = 0;  ///< answers compared
  int pruned = 0;   ///< of them, Optuna's "prune"
  std::vector<std::string> differences;
};

/// Replays the trials of `c` (only those of `group`, if given) one after another, asking
/// `pruner` after every report as Trial::should_prune() does - with every trial of the study so
/// far, the asking one included - and notes where its answer differs from Optuna's.
void replay(const GoldenCase& c, tune::Pruner& pruner, std::optional<int> group, Tally& tally) {
  std::vector<tune::FrozenTrial> study;
  for (const auto& g : c.trials) {
    if (group && g.group != *group) continue;
    tune::FrozenTrial trial;
    trial.id = trial.number = g.number;
    study.push_back(trial);
    tune::FrozenTrial& mine = study.back();
    for (const auto& r : g.reports) {
      mine.intermediate[r.step] = r.value;
      const bool decision = pruner.prune(study, c.direction, mine);
      ++tally.checked;
      tally.pruned += r.prune;
      if (decision != r.prune) {
        tally.differences.push_back(c.name + ": trial " + std::to_string(g.number) + " at step " +
                                    std::to_string(r.step) + ": Optuna " +
                                    (r.prune ? "prunes" : "goes on") + ", descent " +
                                    (decision ? "prunes" : "goes on"));
      }
    }
    mine.state = g.end;
    if (g.end == TrialState::complete) mine.value = g.reports.back().value;
  }
}

tune::MedianPruner::Options median_options(const GoldenCase& c) {
  return {.n_startup_trials = int(c.integer("n_startup_trials")),
          .n_warmup_steps = c.integer("n_warmup_steps"),
          .interval_steps = c.integer("interval_steps")};
}

/// descent's pruner for a golden case; for Hyperband, bracket `group`'s successive halving.
std::shared_ptr<tune::Pruner> make_pruner(const GoldenCase& c, int group = 0) {
  if (c.kind == "threshold") {
    tune::ThresholdPruner::Options o;
    if (c.has("lower")) o.lower = c.number("lower");
    if (c.has("upper")) o.upper = c.number("upper");
    if (c.has("n_warmup_steps")) o.n_warmup_steps = c.integer("n_warmup_steps");
    if (c.has("interval_steps")) o.interval_steps = c.integer("interval_steps");
    return std::make_shared<tune::ThresholdPruner>(o);
  }
  if (c.kind == "median") return std::make_shared<tune::MedianPruner>(median_options(c));
  if (c.kind == "patient") {
    std::shared_ptr<tune::Pruner> wrapped;
    if (c.options.at("wrapped") == "median")
      wrapped = std::make_shared<tune::MedianPruner>(median_options(c));
    return std::make_shared<tune::PatientPruner>(
        wrapped, tune::PatientPruner::Options{.patience = c.integer("patience"),
                                              .min_delta = c.number("min_delta")});
  }
  const bool hyperband = c.kind == "hyperband";
  REQUIRE((hyperband || c.kind == "successive_halving"));
  return std::make_shared<tune::SuccessiveHalvingPruner>(tune::SuccessiveHalvingPruner::Options{
      .min_resource = c.integer("min_resource"),
      .reduction_factor = c.integer("reduction_factor"),
      .min_early_stopping_rate = hyperband ? group : int(c.integer("min_early_stopping_rate")),
      .bootstrap_count = c.has("bootstrap_count") ? c.integer("bootstrap_count") : 0});
}

/// Replays every golden case of `kind` and checks descent answers as Optuna did, everywhere.
void check_against_optuna(const std::string& kind, std::size_t cases) {
  Tally tally;
  const auto of_kind = golden().of_kind(kind);
  REQUIRE(of_kind.size() == cases);
  for (const GoldenCase* c : of_kind) {
    if (kind == "hyperband") {
      int groups = 0;
      for (const auto& t : c->trials) groups = std::max(groups, t.group + 1);
      for (int b = 0; b < groups; ++b) replay(*c, *make_pruner(*c, b), b, tally);
    } else {
      replay(*c, *make_pruner(*c), std::nullopt, tally);
    }
  }
  INFO(tally.checked << " answers compared, " << tally.pruned << " of them prune");
  for (const auto& d : tally.differences) UNSCOPED_INFO(d);
  CHECK(tally.differences.empty());
  // Not a vacuous pass: both answers occur, several times.
  CHECK(tally.pruned >= 5);
  CHECK(tally.checked - tally.pruned >= 5);
}

}  // namespace

// ---- against Optuna 3.1 -------------------------------------------------------------------------

TEST_CASE("ThresholdPruner decides as Optuna 3.1's, after every report of the golden curves",
          "[pruner]") {
  // Bounds crossed by a hair, NaN and +-inf, a warmup, and an interval with skipped steps.
  check_against_optuna("threshold", 3);
}

TEST_CASE("MedianPruner decides at the first report of each interval, as Optuna 3.1's",
          "[pruner]") {
  // Skipped steps, a trial of NaN only (pruned), NaN at steps no completed trial reported.
  check_against_optuna("median", 1);
}

TEST_CASE("PatientPruner, alone and around MedianPruner, decides as Optuna 3.1's", "[pruner]") {
  // Improving, flat (not stalled), worsening, NaN, patience 0, min_delta, both directions.
  check_against_optuna("patient", 5);
}

TEST_CASE("SuccessiveHalvingPruner's min_early_stopping_rate and bootstrap_count act as Optuna's",
          "[pruner]") {
  check_against_optuna("successive_halving", 1);
}

TEST_CASE("Each Hyperband bracket's successive halving decides as Optuna 3.1's on its trials",
          "[pruner]") {
  // Optuna puts trials into brackets by a hash of the study name; the file keeps its brackets,
  // and each bracket's trials are replayed alone through SuccessiveHalvingPruner with
  // min_early_stopping_rate = the bracket, as HyperbandPruner runs them.
  check_against_optuna("hyperband", 2);
  for (const GoldenCase* c : golden().of_kind("hyperband")) {
    const tune::HyperbandPruner hyperband(
        {.min_resource = c->integer("min_resource"),
         .max_resource = c->integer("max_resource"),
         .reduction_factor = c->integer("reduction_factor"),
         .bootstrap_count = c->has("bootstrap_count") ? c->integer("bootstrap_count") : 0});
    int groups = 0;
    for (const auto& t : c->trials) groups = std::max(groups, t.group + 1);
    CHECK(hyperband.n_brackets() == groups);  // every bracket had trials
  }
}

TEST_CASE("HyperbandPruner has Optuna's brackets, counted exactly, and their shares of the trials",
          "[pruner]") {
  REQUIRE(golden().brackets.size() >= 8);
  for (const auto& g : golden().brackets) {
    INFO("min_resource " << g.min_resource << ", max_resource " << g.max_resource
                         << ", reduction_factor " << g.reduction_factor);
    const tune::HyperbandPruner hyperband({.min_resource = g.min_resource,
                                           .max_resource = g.max_resource,
                                           .reduction_factor = g.reduction_factor});
    const int n = hyperband.n_brackets();
    CHECK(n == g.exact_n);
    for (int b = 0; b < n; ++b) {
      std::int64_t first = g.min_resource;
      for (int i = 0; i < b; ++i) first *= g.reduction_factor;
      CHECK(hyperband.bracket(b).rung_step(0) == first);
      CHECK(first <= g.max_resource);
    }
    if (g.optuna_n != g.exact_n) {
      // Optuna takes log_eta(max / min) in floating point: log(243, 3) = 4.999..., one short.
      CHECK(g.optuna_n == g.exact_n - 1);
      continue;
    }
    // Trial numbers spread over the brackets as Optuna's budgets say.
    double total = 0;
    for (double budget : g.budgets) total += budget;
    std::vector<int> count(std::size_t(n), 0);
    constexpr int trials = 100000;
    int outside = 0;
    for (std::int64_t number = 0; number < trials; ++number) {
      const int b = hyperband.bracket_of(number);
      if (b < 0 || b >= n)
        ++outside;
      else
        ++count[std::size_t(b)];
    }
    REQUIRE(outside == 0);
    for (int b = 0; b < n; ++b) {
      INFO("bracket " << b);
      CHECK(double(count[std::size_t(b)]) / trials ==
            Approx(g.budgets[std::size_t(b)] / total).margin(0.005));
    }
  }
}

// ---- the rules, by hand -------------------------------------------------------------------------

namespace {

/// A trial that reported `values` at steps 1, 2, 3 ...
tune::FrozenTrial reported(std::int64_t number, TrialState state, std::vector<double> values) {
  tune::FrozenTrial t;
  t.id = t.number = number;
  t.state = state;
  for (std::size_t i = 0; i < values.size(); ++i) t.intermediate[std::int64_t(i) + 1] = values[i];
  if (state == TrialState::complete && !values.empty()) t.value = values.back();
  return t;
}

/// The first trial numbers, from 0 on, that `hyperband` puts into bracket b.
std::vector<std::int64_t> numbers_in(const tune::HyperbandPruner& hyperband, int b, int how_many) {
  std::vector<std::int64_t> out;
  for (std::int64_t number = 0; int(out.size()) < how_many; ++number) {
    if (hyperband.bracket_of(number) == b) out.push_back(number);
  }
  return out;
}

/// The message of the InvalidArgument `make` throws ("" if it throws none, or another type).
std::string invalid_argument_from(const std::function<void()>& make) {
  try {
    make();
  } catch (const descent::InvalidArgument& e) {
    return e.what();
  } catch (...) {
    return "(another exception)";
  }
  return "";
}

}  // namespace

TEST_CASE("The median pruner stops a trial worse than the completed trials' median at that step", "[pruner]") {
  tune::MedianPruner pruner({.n_startup_trials = 3, .n_warmup_steps = 2});
  std::vector<tune::FrozenTrial> done = {reported(0, TrialState::complete, {1.0, 0.8, 0.6, 0.5}),
                                         reported(1, TrialState::complete, {0.9, 0.7, 0.5, 0.4}),
                                         reported(2, TrialState::complete, {1.2, 1.0, 0.9, 0.8})};
  // Median at step 3: 0.6. A trial at 0.7 is pruned; at 0.55 it goes on.
  CHECK(pruner.prune(done, Direction::minimize, reported(9, TrialState::running, {1.0, 0.9, 0.7})));
  CHECK_FALSE(pruner.prune(done, Direction::minimize, reported(9, TrialState::running, {1.0, 0.9, 0.55})));
  // Its best so far counts, not its last value.
  CHECK_FALSE(pruner.prune(done, Direction::minimize, reported(9, TrialState::running, {1.0, 0.5, 0.7})));
  // Warm-up: step 1 is never pruned, however bad.
  CHECK_FALSE(pruner.prune(done, Direction::minimize, reported(9, TrialState::running, {50.0})));
  // Maximizing, the same numbers read the other way.
  CHECK(pruner.prune(done, Direction::maximize, reported(9, TrialState::running, {0.1, 0.1, 0.55})));
  // Fewer completed trials than n_startup_trials: no pruning.
  done.pop_back();
  CHECK_FALSE(pruner.prune(done, Direction::minimize, reported(9, TrialState::running, {1.0, 0.9, 5.0})));
}

TEST_CASE("ASHA promotes only the top 1/eta of each rung", "[pruner]") {
  tune::SuccessiveHalvingPruner asha({.min_resource = 1, .reduction_factor = 3});
  CHECK(asha.rung_step(0) == 1);
  CHECK(asha.rung_step(2) == 9);
  // Six trials already reached rung 0 (step 1) with these values.
  std::vector<tune::FrozenTrial> trials;
  const double rung0[] = {0.5, 0.9, 0.3, 0.8, 0.7, 0.6};
  for (int i = 0; i < 6; ++i) trials.push_back(reported(i, TrialState::pruned, {rung0[i]}));
  // With itself, 7 values: the top 7 / 3 = 2 go on. 0.4 ranks second: promoted; 0.55 third: pruned.
  CHECK_FALSE(asha.prune(trials, Direction::minimize, reported(9, TrialState::running, {0.4})));
  CHECK(asha.prune(trials, Direction::minimize, reported(9, TrialState::running, {0.55})));
  // Between rungs (step 2) nothing is decided, even on a bad value.
  CHECK_FALSE(asha.prune(trials, Direction::minimize, reported(9, TrialState::running, {0.4, 5.0})));
  // At rung 1 (step 3) it competes with those that reached step 3: only trial 2, at 0.2.
  trials[2] = reported(2, TrialState::running, {0.3, 0.25, 0.2});
  CHECK(asha.prune(trials, Direction::minimize, reported(9, TrialState::running, {0.4, 0.3, 0.25})));
  CHECK_FALSE(asha.prune(trials, Direction::minimize, reported(9, TrialState::running, {0.4, 0.3, 0.15})));
  // The first trial to reach a rung is the best there: promoted.
  CHECK_FALSE(asha.prune({}, Direction::minimize, reported(9, TrialState::running, {9.0})));
  CHECK_THROWS_WITH(tune::SuccessiveHalvingPruner({.reduction_factor = 1}), Catch::Contains("reduction_factor") && Catch::Contains("1"));
}

TEST_CASE("A study with ASHA prunes most trials of a task whose curves rank early", "[pruner]") {
  tune::Study study({.sampler = std::make_shared<tune::RandomSampler>(2),
                     .pruner = std::make_shared<tune::SuccessiveHalvingPruner>()});
  int epochs = 0;
  study.optimize([&](tune::Trial& t) {
    const double quality = t.suggest_float("q", 0, 1);
    double loss = 0;
    for (int epoch = 1; epoch <= 9; ++epoch) {
      ++epochs;
      loss = quality + 1.0 / epoch;
      t.report(loss, epoch);
      if (t.should_prune()) t.prune();
    }
    return loss;
  }, 30);
  int pruned = 0;
  for (const auto& t : study.trials()) pruned += t.state == TrialState::pruned;
  CHECK(pruned >= 15);
  CHECK(epochs < 30 * 9 / 2);
  CHECK(study.best_trial().get_float("q") < 0.2);
}

TEST_CASE("HyperbandPruner compares a trial only with the trials of its own bracket", "[pruner]") {
  tune::HyperbandPruner hyperband({.max_resource = 9});  // brackets' first rungs: 1, 3, 9
  REQUIRE(hyperband.n_brackets() == 3);
  const auto zero = numbers_in(hyperband, 0, 2);
  const auto one = numbers_in(hyperband, 1, 1);
  // Bracket 1's trial is far ahead at step 1; bracket 0's first trial is at 0.5.
  const std::vector<tune::FrozenTrial> study = {
      reported(one[0], TrialState::running, {0.1, 0.1, 0.1}),
      reported(zero[0], TrialState::running, {0.5})};
  const auto asking = reported(zero[1], TrialState::running, {0.3});
  // In bracket 0, 0.3 is the best of two at rung 1: it goes on. Counting bracket 1's trial (as a
  // lone successive halving would), it is second of three and is pruned.
  CHECK_FALSE(hyperband.prune(study, Direction::minimize, asking));
  CHECK(tune::SuccessiveHalvingPruner({.reduction_factor = 3})
            .prune(study, Direction::minimize, asking));
  // Bracket 1 judges its trials first at step 3, bracket 2 at step 9: nothing before.
  CHECK_FALSE(hyperband.prune(
      study, Direction::minimize,
      reported(numbers_in(hyperband, 2, 1)[0], TrialState::running, {9.0, 9.0, 9.0, 9.0})));
}

TEST_CASE("HyperbandPruner judges each trial as its bracket's successive halving would",
          "[pruner]") {
  // 60 trials of made-up curves, each asking after every step and stopping when told, replayed
  // through HyperbandPruner and, side by side, through a lone SuccessiveHalvingPruner with
  // min_early_stopping_rate = the trial's bracket, given only that bracket's trials.
  tune::HyperbandPruner hyperband({.min_resource = 1, .max_resource = 27});
  REQUIRE(hyperband.n_brackets() == 4);
  std::vector<tune::FrozenTrial> study;
  std::vector<int> pruned(4, 0), completed(4, 0);
  for (std::int64_t number = 0; number < 60; ++number) {
    const double q = std::fmod(double(number) * 0.6180339887, 1.0);
    const double speed = 0.2 + 2.8 * std::fmod(double(number) * 0.7548776662 + 0.3, 1.0);
    const int b = hyperband.bracket_of(number);
    tune::SuccessiveHalvingPruner alone(
        {.min_resource = 1, .reduction_factor = 3, .min_early_stopping_rate = b});
    study.push_back(reported(number, TrialState::running, {}));
    bool stopped = false;
    for (std::int64_t step = 1; step <= 27 && !stopped; ++step) {
      study.back().intermediate[step] = q + (1.2 - q) / (1 + speed * double(step));
      std::vector<tune::FrozenTrial> mates;
      for (const auto& t : study) {
        if (hyperband.bracket_of(t.number) == b) mates.push_back(t);
      }
      const bool decision = hyperband.prune(study, Direction::minimize, study.back());
      INFO("trial " << number << " (bracket " << b << ") at step " << step);
      REQUIRE(decision == alone.prune(mates, Direction::minimize, study.back()));
      if (decision) {
        // Stopped at a rung of its bracket: 3^(b + k).
        std::int64_t rung = 1;
        for (int i = 0; i < b; ++i) rung *= 3;
        while (rung < step) rung *= 3;
        CHECK(rung == step);
        stopped = true;
      }
    }
    study.back().state = stopped ? TrialState::pruned : TrialState::complete;
    ++(stopped ? pruned : completed)[std::size_t(b)];
  }
  // Every bracket had trials; bracket 0 pruned most, and some trials ran to the end.
  for (int b = 0; b < 4; ++b) CHECK(pruned[std::size_t(b)] + completed[std::size_t(b)] > 0);
  CHECK(pruned[0] > 10);
  CHECK(completed[0] + completed[1] + completed[2] + completed[3] >= 5);
}

TEST_CASE("HyperbandPruner's auto max_resource waits for a completed trial, then stays",
          "[pruner]") {
  tune::HyperbandPruner hyperband;  // min_resource 1, max_resource auto, reduction_factor 3
  std::vector<tune::FrozenTrial> study = {reported(0, TrialState::pruned, {5.0, 5.0})};
  // No completed trial: no brackets, and nothing is pruned, not even NaN.
  CHECK_FALSE(hyperband.prune(study, Direction::minimize, reported(1, TrialState::running, {NAN})));
  CHECK(hyperband.n_brackets() == 0);
  CHECK_FALSE(hyperband.max_resource());
  // A trial completed at step 8: R = 9, brackets at 1, 3 and 9 (Optuna: last step + 1).
  study.push_back(reported(2, TrialState::complete, std::vector<double>(8, 1.0)));
  hyperband.prune(study, Direction::minimize, reported(3, TrialState::running, {1.0}));
  CHECK(hyperband.max_resource() == 9);
  CHECK(hyperband.n_brackets() == 3);
  // Kept when a longer trial completes: the trials' brackets never change.
  study.push_back(reported(4, TrialState::complete, std::vector<double>(100, 1.0)));
  hyperband.prune(study, Direction::minimize, reported(5, TrialState::running, {1.0}));
  CHECK(hyperband.max_resource() == 9);
  CHECK(hyperband.n_brackets() == 3);
  CHECK_THROWS_AS(hyperband.bracket(3), descent::OutOfRange);
}

TEST_CASE("PatientPruner prunes a stalled trial only if the pruner it wraps agrees", "[pruner]") {
  const auto no_pruner = std::shared_ptr<tune::Pruner>();
  // Patience 1: the last 2 reports (best 0.9) face the earlier ones (best 0.8): stalled.
  const auto stalled = reported(0, TrialState::running, {1.0, 0.8, 0.9, 0.95});
  CHECK(tune::PatientPruner(no_pruner, {.patience = 1}).prune({}, Direction::minimize, stalled));
  CHECK_FALSE(tune::PatientPruner(std::make_shared<tune::NopPruner>(), {.patience = 1})
                  .prune({}, Direction::minimize, stalled));
  // Wrapping a threshold: pruned only where the threshold prunes too (0.95 > 0.92, not > 1).
  CHECK(tune::PatientPruner(
            std::make_shared<tune::ThresholdPruner>(tune::ThresholdPruner::Options{.upper = 0.92}),
            {.patience = 1})
            .prune({}, Direction::minimize, stalled));
  CHECK_FALSE(tune::PatientPruner(std::make_shared<tune::ThresholdPruner>(
                                      tune::ThresholdPruner::Options{.upper = 1.0}),
                                  {.patience = 1})
                  .prune({}, Direction::minimize, stalled));
  // Within min_delta (0.9 - 0.8 is not more than 0.1 worse), more patience, or too few reports:
  // not stalled. Nor is a flat curve, as in Optuna.
  CHECK_FALSE(tune::PatientPruner(no_pruner, {.patience = 1, .min_delta = 0.1})
                  .prune({}, Direction::minimize, stalled));
  CHECK_FALSE(
      tune::PatientPruner(no_pruner, {.patience = 3}).prune({}, Direction::minimize, stalled));
  CHECK_FALSE(
      tune::PatientPruner(no_pruner, {.patience = 2}).prune({}, Direction::minimize, stalled));
  CHECK_FALSE(
      tune::PatientPruner(no_pruner, {.patience = 1})
          .prune({}, Direction::minimize, reported(0, TrialState::running, {0.8, 0.8, 0.8})));
  // Maximizing, a trial whose last 2 reports rose above the earlier best has not stalled.
  CHECK_FALSE(
      tune::PatientPruner(no_pruner, {.patience = 1})
          .prune({}, Direction::maximize, reported(0, TrialState::running, {0.8, 0.9, 1.0, 0.95})));
  CHECK(tune::PatientPruner(no_pruner, {.patience = 1}).prune({}, Direction::maximize, stalled));
}

TEST_CASE("Pruner options out of range throw InvalidArgument naming the option", "[pruner]") {
  const auto says = [](const std::function<void()>& make, const std::string& pruner,
                       const std::string& option) {
    const std::string message = invalid_argument_from(make);
    INFO(message);
    CHECK_THAT(message, Catch::Contains(pruner) && Catch::Contains(option));
  };
  using Threshold = tune::ThresholdPruner;
  says([] { Threshold({}); }, "ThresholdPruner", "lower, upper or both");
  says([] { Threshold({.lower = NAN}); }, "ThresholdPruner", "lower must not be NaN");
  says([] { Threshold({.upper = NAN}); }, "ThresholdPruner", "upper must not be NaN");
  says([] { Threshold({.lower = 2, .upper = 1}); }, "ThresholdPruner", "lower must be <= upper");
  says([] { Threshold({.upper = 1, .n_warmup_steps = -1}); }, "ThresholdPruner", "n_warmup_steps");
  says([] { Threshold({.upper = 1, .interval_steps = 0}); }, "ThresholdPruner", "interval_steps");
  using Patient = tune::PatientPruner;
  says([] { Patient(nullptr, {.patience = -1}); }, "PatientPruner",
       "patience must be >= 0, got -1");
  says([] { Patient(nullptr, {.min_delta = -0.5}); }, "PatientPruner", "min_delta must be >= 0");
  says([] { Patient(nullptr, {.min_delta = NAN}); }, "PatientPruner", "min_delta");
  using Hyperband = tune::HyperbandPruner;
  says([] { Hyperband({.min_resource = 0}); }, "HyperbandPruner", "min_resource must be >= 1");
  says([] { Hyperband({.min_resource = 5, .max_resource = 4}); }, "HyperbandPruner",
       "max_resource must be >= min_resource (5), got 4");
  says([] { Hyperband({.reduction_factor = 1}); }, "HyperbandPruner", "reduction_factor");
  says([] { Hyperband({.max_resource = 9, .bootstrap_count = -1}); }, "HyperbandPruner",
       "bootstrap_count must be >= 0");
  says([] { Hyperband({.bootstrap_count = 2}); }, "HyperbandPruner", "bootstrap_count > 0 needs");
  using Halving = tune::SuccessiveHalvingPruner;
  says([] { Halving({.min_early_stopping_rate = -1}); }, "SuccessiveHalvingPruner",
       "min_early_stopping_rate");
  says([] { Halving({.bootstrap_count = -1}); }, "SuccessiveHalvingPruner", "bootstrap_count");
  // In range: no exception, including the edges.
  CHECK(invalid_argument_from([] { Threshold({.lower = 1, .upper = 1}); }).empty());
  CHECK(invalid_argument_from([] { Threshold({.lower = -INFINITY}); }).empty());
  CHECK(invalid_argument_from([] { Patient(nullptr, {.patience = 0}); }).empty());
  CHECK(invalid_argument_from([] { Hyperband({.min_resource = 3, .max_resource = 3}); }).empty());
}

// ---- a study ------------------------------------------------------------------------------------

TEST_CASE(
    "A study with HyperbandPruner prunes some trials at their brackets' rungs and completes others",
    "[pruner]") {
  auto hyperband = std::make_shared<tune::HyperbandPruner>();  // max_resource auto
  tune::Study study({.sampler = std::make_shared<tune::RandomSampler>(3), .pruner = hyperband});
  int epochs = 0;
  study.optimize(
      [&](tune::Trial& t) {
        const double q = t.suggest_float("q", 0, 1);
        const double speed = t.suggest_float("speed", 0.2, 3);
        double loss = 0;
        for (int epoch = 1; epoch <= 27; ++epoch) {
          ++epochs;
          loss = q + (1.2 - q) / (1 + speed * epoch);
          t.report(loss, epoch);
          if (t.should_prune()) t.prune();
        }
        return loss;
      },
      60);
  // The first trial completed at step 27: R = 28, four brackets (rungs from 1, 3, 9 and 27).
  CHECK(hyperband->max_resource() == 28);
  REQUIRE(hyperband->n_brackets() == 4);
  int pruned = 0, complete = 0;
  for (const auto& t : study.trials()) {
    if (t.state == TrialState::complete) {
      ++complete;
      CHECK(t.last_step() == 27);
    } else {
      REQUIRE(t.state == TrialState::pruned);
      ++pruned;
      // Stopped where its bracket judges: at one of the rungs 3^(b + k).
      const auto& bracket = hyperband->bracket(hyperband->bracket_of(t.number));
      bool at_rung = false;
      for (int k = 0; k < 4; ++k) at_rung = at_rung || bracket.rung_step(k) == t.last_step();
      INFO("trial " << t.number << " stopped at step " << t.last_step());
      CHECK(at_rung);
    }
  }
  CHECK(pruned >= 20);
  CHECK(complete >= 5);
  CHECK(epochs < 60 * 27 / 2);
  CHECK(study.best_trial().get_float("q") < 0.2);
}

TEST_CASE("HyperbandPruner builds its brackets once when several workers ask at once", "[pruner]") {
  auto hyperband = std::make_shared<tune::HyperbandPruner>();
  tune::Study study({.sampler = std::make_shared<tune::RandomSampler>(4), .pruner = hyperband});
  study.optimize(
      [](tune::Trial& t) {
        const double q = t.suggest_float("q", 0, 1);
        for (int epoch = 1; epoch <= 9; ++epoch) {
          t.report(q + 1.0 / epoch, epoch);
          if (t.should_prune()) t.prune();
        }
        return q;
      },
      40, /*jobs=*/2);
  CHECK(study.trials().size() == 40);
  CHECK(hyperband->max_resource() == 10);  // every completed trial ends at step 9
  CHECK(hyperband->n_brackets() == 3);
  for (const auto& t : study.trials()) CHECK(t.finished());
}
