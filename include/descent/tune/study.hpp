#pragma once
// A study: trials of an objective, their parameters chosen by a sampler, cut short by a pruner,
// kept in a storage. Like Optuna's:
//
//   descent::tune::Study study({.direction = descent::tune::Direction::minimize});
//   study.optimize([](descent::tune::Trial& t) {
//     const double x = t.suggest_float("x", -10, 10);
//     return (x - 2) * (x - 2);
//   }, 100);
//   study.best_params();  // {"x": 2.0...}
//
// The objective is any callable taking Trial& and returning a number. Inside it, report(value,
// step) and should_prune() let a pruner stop it (throw TrialPruned, or call trial.prune()). A
// returned NaN or any other exception marks the trial failed; the study goes on.

#include <descent/error.hpp>
#include <descent/tune/distributions.hpp>
#include <descent/tune/frozen_trial.hpp>
#include <descent/tune/portfolio.hpp>
#include <descent/tune/pruners.hpp>
#include <descent/tune/retry.hpp>
#include <descent/tune/samplers.hpp>
#include <descent/tune/storage.hpp>
#include <descent/tune/tpe.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

/// Hyperparameter search: studies, samplers, pruners and storages, in the manner of Optuna.
namespace descent::tune {

/// How suggest_float() draws.
struct FloatOptions {
  bool log = false;  ///< draw log-uniformly (needs low > 0, no step)
  double step = 0;   ///< 0: continuous
};

class Study;

/// One evaluation of the objective, as the objective sees it.
class Trial {
 public:
  /// A float in [low, high] for parameter `name`; asking again for it in the trial returns the
  /// same value. Throws std::invalid_argument for a bad space or another space under that name.
  double suggest_float(const std::string& name, double low, double high,
                       FloatOptions options = {}) {
    return std::get<double>(
        suggest(name, make_float(name, low, high, options.log, options.step)).value());
  }
  /// An integer in [low, high] on the grid low + k * step (log-uniform with log, step 1 only);
  /// asking again returns the same value.
  std::int64_t suggest_int(const std::string& name, std::int64_t low, std::int64_t high,
                           std::int64_t step = 1, bool log = false) {
    return std::get<std::int64_t>(suggest(name, make_int(name, low, high, step, log)).value());
  }
  /// One of `choices` (not empty, no duplicates); asking again returns the same choice.
  std::string suggest_categorical(const std::string& name, std::vector<std::string> choices) {
    return std::get<std::string>(suggest(name, make_categorical(name, std::move(choices))).value());
  }

  /// The objective's value after `step` (an epoch, say), for the pruner. Steps are >= 0.
  void report(double value, std::int64_t step) {
    if (step < 0)
      throw InvalidArgument("descent::tune::Trial::report: step must be >= 0, got " +
                            std::to_string(step));
    m_trial.intermediate[step] = value;
    m_storage->report(m_trial.id, step, value);
  }
  /// Whether the pruner gives up on this trial at its last report.
  bool should_prune() {
    if (m_trial.intermediate.empty()) return false;
    return m_pruner->prune(m_storage->trials(m_study), m_direction, m_trial);
  }
  /// Stops the trial as pruned (throws TrialPruned; the study catches it).
  [[noreturn]] void prune() { throw TrialPruned(); }

  /// 0, 1, 2 ... within the study, in order of creation.
  std::int64_t number() const { return m_trial.number; }
  /// The trial's id in the storage.
  std::int64_t id() const { return m_trial.id; }
  /// The trial as stored: its parameters and reports so far.
  const FrozenTrial& frozen() const { return m_trial; }
  /// The parameters suggested so far, by name.
  const std::map<std::string, Param>& params() const { return m_trial.params; }

 private:
  friend class Study;
  Trial(FrozenTrial trial, std::vector<FrozenTrial> history, std::int64_t study,
        Direction direction, Storage* storage, Sampler* sampler, Pruner* pruner)
      : m_trial(std::move(trial)),
        m_history(std::move(history)),
        m_study(study),
        m_direction(direction),
        m_storage(storage),
        m_sampler(sampler),
        m_pruner(pruner) {}

  const Param& suggest(const std::string& name, Distribution distribution) {
    if (const auto it = m_trial.params.find(name); it != m_trial.params.end()) {
      if (it->second.distribution != distribution) {
        detail::bad_param(name, "asked for as " + describe(distribution) + " after " +
                                    describe(it->second.distribution) + " in the same trial");
      }
      return it->second;
    }
    const auto given = m_trial.fixed_params.find(name);
    if (given != m_trial.fixed_params.end()) {  // enqueued or retried: the value given, checked
      return record(name, {distribution, internal_value(name, distribution, given->second)});
    }
    const double internal = m_sampler->sample(m_history, m_direction, m_trial, name, distribution);
    if (!contains(distribution, internal)) {
      throw LogicError("descent::tune: the sampler gave parameter '" + name + "' the value " +
                       detail::format_number(internal) + ", outside " + describe(distribution));
    }
    return record(name, {std::move(distribution), internal});
  }

  const Param& record(const std::string& name, Param param) {
    m_storage->set_param(m_trial.id, name, param);
    return m_trial.params.insert_or_assign(name, std::move(param)).first->second;
  }

  FrozenTrial m_trial;
  /// The study's other trials when this one started, for the sampler: finished ones and running
  /// ones (with the parameters they had then), not waiting ones.
  std::vector<FrozenTrial> m_history;
  std::int64_t m_study;
  Direction m_direction;
  Storage* m_storage;
  Sampler* m_sampler;
  Pruner* m_pruner;
};

/// Optimizes an objective over trials, like Optuna's study: a sampler picks the parameters,
/// a pruner stops poor trials early and a storage keeps every trial.
class Study {
 public:
  /// Which way is better, and the parts the study is built from.
  struct Options {
    Direction direction = Direction::minimize;   ///< minimize or maximize the objective's value
    std::shared_ptr<Sampler> sampler = nullptr;  ///< default: default_sampler(0)
    std::shared_ptr<Pruner> pruner = nullptr;    ///< default: NopPruner
    std::shared_ptr<Storage> storage = nullptr;  ///< default: a new InMemoryStorage
    std::string name = "default";  ///< the study in the storage: created, or continued if it exists
    std::chrono::milliseconds heartbeat_interval{2000};  ///< how often running trials say they live
    /// Runs for each running trial this study declares dead (its worker gone, or its heartbeat
    /// older than the storage's stale_after), before a new trial starts; e.g.
    /// RetryFailedTrialCallback (retry.hpp). Optuna's failed_trial_callback.
    std::function<void(Study&, const FrozenTrial&)> failed_trial_callback = {};
  };

  /// How many trials Study::optimize runs and for how long; it stops at the first limit reached
  /// (or at stop()), letting running trials finish. With no limit it runs until stop().
  struct OptimizeOptions {
    /// Trials to start in this call, over all its jobs; none: no such limit (Optuna's n_trials).
    std::optional<int> n_trials = std::nullopt;
    /// No trial starts once the study holds this many trials that are not waiting - complete,
    /// pruned, failed and running, from every worker and process - so a study resumed with the
    /// same max_trials ends with exactly that many. The storage counts and starts in one step,
    /// so workers never overshoot (Optuna's MaxTrialsCallback(n, states=None) counts after each
    /// trial, and can). none: no such limit.
    std::optional<std::int64_t> max_trials = std::nullopt;
    /// No trial starts once this long has passed since optimize began (Optuna's timeout, which
    /// it also checks before each trial); none: no time limit.
    std::optional<std::chrono::duration<double>> timeout = std::nullopt;
    int jobs = 1;  ///< threads running trials at once, >= 1
    /// Runs after each trial (one at a time); may call stop().
    std::function<void(Study&, const FrozenTrial&)> on_trial_end = {};
  };

  /// Opens (or creates) study `name` in the storage; throws std::invalid_argument if it exists
  /// with the other direction or heartbeat_interval is not positive.
  explicit Study(Options options) : m_options(std::move(options)) {
    if (!m_options.sampler) m_options.sampler = default_sampler();
    if (!m_options.pruner) m_options.pruner = std::make_shared<NopPruner>();
    if (!m_options.storage) m_options.storage = std::make_shared<InMemoryStorage>();
    if (m_options.heartbeat_interval.count() <= 0) {
      throw InvalidArgument("descent::tune::Study: heartbeat_interval must be > 0, got " +
                            std::to_string(m_options.heartbeat_interval.count()) + " ms");
    }
    m_id = m_options.storage->open_study(m_options.name, m_options.direction);
  }

  /// Whether lower or higher values are better.
  Direction direction() const { return m_options.direction; }
  std::int64_t id() const { return m_id; }  ///< in the storage
  /// The study's name in the storage.
  const std::string& name() const { return m_options.name; }
  /// The storage the trials are kept in.
  Storage& storage() const { return *m_options.storage; }

  /// Every trial of the study, from every worker, ordered by number.
  std::vector<FrozenTrial> trials() const { return m_options.storage->trials(m_id); }

  /// Runs n_trials more trials of `objective` on `jobs` threads. `on_trial_end(study, trial)` runs
  /// after each (one at a time). Storage errors stop the study and are rethrown here.
  template <class Objective>
  void optimize(Objective&& objective, int n_trials, int jobs = 1,
                std::function<void(Study&, const FrozenTrial&)> on_trial_end = {}) {
    if (n_trials < 0)
      throw InvalidArgument("descent::tune::Study::optimize: n_trials must be >= 0, got " +
                            std::to_string(n_trials));
    optimize(std::forward<Objective>(objective),
             OptimizeOptions{.n_trials = n_trials, .jobs = jobs, .on_trial_end = on_trial_end});
  }

  /// Runs trials of `objective` until a limit of `options` is reached or stop() is called (see
  /// OptimizeOptions). Throws std::invalid_argument for a negative limit or jobs < 1; storage
  /// errors stop the study and are rethrown here.
  template <class Objective>
  void optimize(Objective&& objective, const OptimizeOptions& options) {
    const auto bad = [](const std::string& what) {
      throw InvalidArgument("descent::tune::Study::optimize: " + what);
    };
    if (options.n_trials && *options.n_trials < 0)
      bad("n_trials must be >= 0, got " + std::to_string(*options.n_trials));
    if (options.max_trials && *options.max_trials < 0)
      bad("max_trials must be >= 0, got " + std::to_string(*options.max_trials));
    if (options.timeout && !(options.timeout->count() >= 0))
      bad("timeout must be >= 0 s, got " + detail::format_number(options.timeout->count()) + " s");
    if (options.jobs < 1) bad("jobs must be >= 1, got " + std::to_string(options.jobs));

    const auto begin = std::chrono::steady_clock::now();
    const std::int64_t limit = options.max_trials.value_or(INT64_MAX);
    m_stop = false;
    std::atomic<int> started{0};
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    std::mutex error_mutex, callback_mutex;
    auto worker = [&] {
      try {
        while (!stop && !m_stop) {
          if (options.n_trials && started.fetch_add(1) >= *options.n_trials) break;
          if (options.timeout && std::chrono::steady_clock::now() - begin >= *options.timeout)
            break;
          auto trial = start(limit);
          if (!trial) break;  // the study holds max_trials trials
          const FrozenTrial done = run_one(*trial, objective);
          if (options.on_trial_end) {
            std::lock_guard lock(callback_mutex);
            options.on_trial_end(*this, done);
          }
        }
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        stop = true;
      }
    };

    std::mutex beat_mutex;
    std::condition_variable beat_cv;
    bool finished = false;
    std::thread heart([&] {
      std::unique_lock lock(beat_mutex);
      while (!beat_cv.wait_for(lock, m_options.heartbeat_interval, [&] { return finished; })) {
        try {
          m_options.storage->heartbeat(running());
        } catch (...) {
          // A missed beat only risks a trial being declared dead later; the trial's own writes
          // report the storage's trouble.
        }
      }
    });

    std::vector<std::thread> threads;
    for (int j = 1; j < options.jobs; ++j) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    {
      std::lock_guard lock(beat_mutex);
      finished = true;
    }
    beat_cv.notify_all();
    heart.join();
    if (error) std::rethrow_exception(error);
  }

  /// Lets no new trial of a running optimize() start (trials under way finish); from a callback,
  /// say. The next optimize() starts afresh.
  void stop() { m_stop = true; }

  /// Puts a trial in the queue whose parameters named in `params` take the values given (a
  /// double, an std::int64_t or a choice's text; checked when the objective asks: another type
  /// or a value outside the space fails the trial, naming the parameter) and the rest come from
  /// the sampler. Queued trials are kept in the storage and start before any new one, each in one
  /// worker only, whichever process takes it. With skip_if_exists, nothing is queued when a trial
  /// of the study already has (or was given) the same names and values, as Optuna does (equal
  /// texts, numbers of one type equal to a relative 1e-5, or a NaN given).
  void enqueue_trial(const std::map<std::string, ParamValue>& params, bool skip_if_exists = false) {
    if (skip_if_exists && already_tried(params)) return;
    m_options.storage->enqueue_trial(m_id, params, -1);
  }

  /// A new trial to evaluate by hand (the first queued one, if any); end it with tell().
  Trial ask() { return *start(INT64_MAX); }

  /// Ends a trial from ask(). A pruned trial's value is its last report.
  FrozenTrial tell(Trial& trial, TrialState state,
                   double value = std::numeric_limits<double>::quiet_NaN(),
                   const std::string& message = {}) {
    if (state == TrialState::running)
      throw InvalidArgument("descent::tune::Study::tell: state must be complete, pruned or failed");
    std::string why = message;
    if (state == TrialState::complete && std::isnan(value)) {
      state = TrialState::failed;
      why = "the objective returned NaN";
    }
    if (state == TrialState::pruned && !trial.m_trial.intermediate.empty())
      value = trial.m_trial.intermediate.rbegin()->second;
    {
      std::lock_guard lock(m_running_mutex);
      m_running.erase(trial.id());
    }
    FrozenTrial done = trial.m_trial;
    if (m_options.storage->finish(trial.id(), state, value, why)) {
      done.state = state, done.value = value, done.message = why;
    } else {
      done.state = TrialState::failed;  // declared dead by another worker meanwhile
      done.message = "declared dead while it ran";
    }
    return done;
  }

  /// The complete trial with the best value (the earliest among equals).
  FrozenTrial best_trial() const {
    const auto all = trials();
    const FrozenTrial* best = nullptr;
    const FrozenTrial* last_failed = nullptr;
    for (const auto& t : all) {
      if (t.state == TrialState::complete && (!best || better(direction(), t.value, best->value)))
        best = &t;
      if (t.state == TrialState::failed) last_failed = &t;
    }
    if (!best) {
      std::string why = "study '" + name() + "' has no complete trial (" +
                        std::to_string(all.size()) + " trials)";
      if (last_failed)
        why +=
            "; trial " + std::to_string(last_failed->number) + " failed: " + last_failed->message;
      throw RuntimeError("descent::tune: " + why);
    }
    return *best;
  }
  /// The value of best_trial().
  double best_value() const { return best_trial().value; }
  /// The parameters of best_trial(), as the objective got them.
  std::map<std::string, ParamValue> best_params() const {
    std::map<std::string, ParamValue> out;
    for (const auto& [name, param] : best_trial().params) out.emplace(name, param.value());
    return out;
  }

 private:
  /// Declares dead the running trials whose worker is gone (running failed_trial_callback on
  /// each), then starts the next trial: a queued one, else a new one; none when the study holds
  /// `limit` trials.
  std::optional<Trial> start(std::int64_t limit) {
    // One job at a time: a dead trial's retry is queued before another job counts the trials
    // for max_trials, so it is run rather than left waiting past the limit. (Workers in other
    // processes count without this lock; a retry queued after one of them found the study full
    // waits for the next optimize().)
    std::unique_lock starting(m_start_mutex);
    const auto dead = m_options.storage->fail_stale_trials(m_id);
    if (!dead.empty() && m_options.failed_trial_callback) {
      for (const auto& t : trials()) {
        if (std::find(dead.begin(), dead.end(), t.id) != dead.end())
          m_options.failed_trial_callback(*this, t);
      }
    }
    auto trial = m_options.storage->start_trial(m_id, limit);
    starting.unlock();
    if (!trial) return std::nullopt;
    {
      std::lock_guard lock(m_running_mutex);
      m_running.insert(trial->id);
    }
    auto history = m_options.storage->trials(m_id);
    std::erase_if(history, [&](const FrozenTrial& t) {
      return t.id == trial->id || t.state == TrialState::waiting;
    });
    return Trial(std::move(*trial), std::move(history), m_id, m_options.direction,
                 m_options.storage.get(), m_options.sampler.get(), m_options.pruner.get());
  }

  template <class Objective>
  FrozenTrial run_one(Trial& trial, Objective& objective) {
    TrialState state = TrialState::complete;
    double value = std::numeric_limits<double>::quiet_NaN();
    std::string message;
    try {
      value = static_cast<double>(objective(trial));
    } catch (const TrialPruned&) {
      state = TrialState::pruned;
    } catch (const std::exception& e) {
      state = TrialState::failed, message = e.what();
    } catch (...) {
      state = TrialState::failed, message = "unknown exception";
    }
    return tell(trial, state, value, message);
  }

  /// Whether a trial of the study has (or was given) exactly the names of `params` and equal
  /// values: Optuna 3.1's test for enqueue_trial's skip_if_exists.
  bool already_tried(const std::map<std::string, ParamValue>& params) const {
    const auto same = [](const ParamValue& given, const ParamValue& had) {
      if (given.index() != had.index()) return false;
      if (const auto* s = std::get_if<std::string>(&given)) return *s == std::get<std::string>(had);
      const auto number = [](const ParamValue& v) {
        const auto* d = std::get_if<double>(&v);
        return d ? *d : double(std::get<std::int64_t>(v));
      };
      const double a = number(given), b = number(had);
      return std::isnan(a) || std::abs(a - b) <= 1e-5 * std::abs(b);  // numpy.isclose, atol 0
    };
    for (const auto& t : trials()) {
      std::map<std::string, ParamValue> had = t.fixed_params;
      if (had.empty()) {
        for (const auto& [name, param] : t.params) had.emplace(name, param.value());
      }
      if (had.size() != params.size()) continue;
      const bool all = std::all_of(params.begin(), params.end(), [&](const auto& entry) {
        const auto it = had.find(entry.first);
        return it != had.end() && same(entry.second, it->second);
      });
      if (all) return true;
    }
    return false;
  }

  std::vector<std::int64_t> running() {
    std::lock_guard lock(m_running_mutex);
    return {m_running.begin(), m_running.end()};
  }

  Options m_options;
  std::int64_t m_id = -1;
  std::mutex m_running_mutex;
  std::mutex m_start_mutex;  // held while a job declares dead trials and starts its next one
  std::set<std::int64_t> m_running;
  std::atomic<bool> m_stop{false};
};

}  // namespace descent::tune
