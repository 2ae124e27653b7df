#pragma once
// Where a study keeps its trials. Every method is safe to call from several threads at once.
// InMemoryStorage lives and dies with the process; SqliteStorage (sqlite_storage.hpp) and
// PostgresqlStorage (postgresql_storage.hpp) outlive it and are shared between processes.

#include <descent/error.hpp>
#include <descent/tune/frozen_trial.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace descent::tune {

namespace detail {

/// Throws std::invalid_argument for an end no trial may have: running or waiting, or complete
/// without a value (Study::tell fails a NaN result; a study file must not hold one it would
/// refuse).
inline void check_finish(TrialState state, double value) {
  if (state == TrialState::running || state == TrialState::waiting) {
    throw InvalidArgument("descent::tune: a trial cannot finish as " +
                          std::string(to_string(state)));
  }
  if (state == TrialState::complete && std::isnan(value)) {
    throw InvalidArgument("descent::tune: a complete trial needs a value, got NaN");
  }
}

}  // namespace detail

/// Where a study keeps its trials; every method is safe to call from several threads at once.
class Storage {
 public:
  virtual ~Storage() = default;

  /// The id of study `name`, created with `direction` if new. Throws std::invalid_argument when it
  /// exists with the other direction.
  virtual std::int64_t open_study(const std::string& name, Direction direction) = 0;
  /// A new running trial with the next number of the study; the number is never handed out twice,
  /// whichever threads or processes ask.
  virtual FrozenTrial create_trial(std::int64_t study) = 0;
  /// A new waiting trial with the next number of the study, holding the values `fixed` (by
  /// parameter name) and `retry_of` (the number of the failed trial it retries, or -1), for
  /// start_trial to hand to a worker.
  virtual FrozenTrial enqueue_trial(std::int64_t study,
                                    const std::map<std::string, ParamValue>& fixed,
                                    std::int64_t retry_of) = 0;
  /// Starts the study's next trial, as one step whichever threads or processes ask: its waiting
  /// trial with the lowest number, now running (so each is taken once), else a new running trial.
  /// Starts nothing and returns none when the study already holds `limit` trials that are not
  /// waiting (complete, pruned, failed or running).
  virtual std::optional<FrozenTrial> start_trial(std::int64_t study, std::int64_t limit) = 0;
  /// Records parameter `name` of trial `trial`.
  virtual void set_param(std::int64_t trial, const std::string& name, const Param& param) = 0;
  /// Records the value trial `trial` reported at `step`, replacing an earlier one for that step.
  virtual void report(std::int64_t trial, std::int64_t step, double value) = 0;
  /// Ends a running trial. Returns false (and changes nothing) when it is no longer running,
  /// e.g. because another worker declared it dead: a trial is never finished twice. Throws
  /// std::invalid_argument for state running, or complete with a NaN value.
  virtual bool finish(std::int64_t trial, TrialState state, double value,
                      const std::string& message) = 0;
  /// Every trial of the study, ordered by number.
  virtual std::vector<FrozenTrial> trials(std::int64_t study) = 0;
  /// Tells the storage this process is still working on these running trials.
  virtual void heartbeat(const std::vector<std::int64_t>& /*trials*/) {}
  /// Marks failed the running trials whose worker is gone. Returns the ids of those it marked
  /// (each trial is marked by one caller only).
  virtual std::vector<std::int64_t> fail_stale_trials(std::int64_t /*study*/) { return {}; }
};

/// A Storage in the process's memory, lost when it ends; studies get ids 0, 1, 2 ...
class InMemoryStorage : public Storage {
 public:
  std::int64_t open_study(const std::string& name, Direction direction) override {
    std::lock_guard lock(m_mutex);
    for (std::size_t i = 0; i < m_studies.size(); ++i) {
      if (m_studies[i].name == name) {
        check_direction(name, m_studies[i].direction, direction);
        return std::int64_t(i);
      }
    }
    m_studies.push_back({name, direction, {}});
    return std::int64_t(m_studies.size() - 1);
  }

  FrozenTrial create_trial(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    return add(study, {});
  }
  FrozenTrial enqueue_trial(std::int64_t study, const std::map<std::string, ParamValue>& fixed,
                            std::int64_t retry_of) override {
    std::lock_guard lock(m_mutex);
    FrozenTrial t;
    t.state = TrialState::waiting;
    t.fixed_params = fixed;
    t.retry_of = retry_of;
    return add(study, std::move(t));
  }
  std::optional<FrozenTrial> start_trial(std::int64_t study, std::int64_t limit) override {
    std::lock_guard lock(m_mutex);
    auto& trials = at(study).trials;
    const auto waiting = [](const FrozenTrial& t) { return t.state == TrialState::waiting; };
    if (std::int64_t(trials.size()) - std::count_if(trials.begin(), trials.end(), waiting) >=
        limit) {
      return std::nullopt;
    }
    const auto first = std::find_if(trials.begin(), trials.end(), waiting);
    if (first == trials.end()) return add(study, {});
    first->state = TrialState::running;
    return *first;
  }

  /// Records parameter `name` of trial `trial`; throws std::out_of_range for an unknown trial.
  void set_param(std::int64_t trial, const std::string& name, const Param& param) override {
    std::lock_guard lock(m_mutex);
    find(trial).params.insert_or_assign(name, param);
  }
  /// Records the value reported at `step`; throws std::out_of_range for an unknown trial.
  void report(std::int64_t trial, std::int64_t step, double value) override {
    std::lock_guard lock(m_mutex);
    find(trial).intermediate[step] = value;
  }
  bool finish(std::int64_t trial, TrialState state, double value,
              const std::string& message) override {
    detail::check_finish(state, value);
    std::lock_guard lock(m_mutex);
    FrozenTrial& t = find(trial);
    if (t.state != TrialState::running) return false;
    t.state = state;
    t.value = value;
    t.message = message;
    return true;
  }
  std::vector<FrozenTrial> trials(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    return at(study).trials;
  }

  /// Throws std::invalid_argument naming study `name` when `stored` and `asked` differ.
  static void check_direction(const std::string& name, Direction stored, Direction asked) {
    if (stored != asked) {
      throw InvalidArgument("descent::tune: study '" + name + "' exists with direction " +
                            std::string(to_string(stored)) + ", not " +
                            std::string(to_string(asked)));
    }
  }

 private:
  struct StudyData {
    std::string name;
    Direction direction;
    std::vector<FrozenTrial> trials;
  };
  /// Appends `t` to the study with the next id and number.
  FrozenTrial add(std::int64_t study, FrozenTrial t) {
    auto& trials = at(study).trials;
    t.id = std::int64_t(m_where.size());
    t.number = std::int64_t(trials.size());
    trials.push_back(t);
    m_where.push_back({study, t.number});
    return t;
  }
  StudyData& at(std::int64_t study) {
    if (study < 0 || std::size_t(study) >= m_studies.size()) {
      throw OutOfRange("descent::tune: no study with id " + std::to_string(study));
    }
    return m_studies[std::size_t(study)];
  }
  FrozenTrial& find(std::int64_t trial) {
    if (trial < 0 || std::size_t(trial) >= m_where.size()) {
      throw OutOfRange("descent::tune: no trial with id " + std::to_string(trial));
    }
    const auto [study, number] = m_where[std::size_t(trial)];
    return at(study).trials[std::size_t(number)];
  }

  std::mutex m_mutex;
  std::vector<StudyData> m_studies;
  std::vector<std::pair<std::int64_t, std::int64_t>> m_where;  ///< trial id -> (study, number)
};

/// Makes the storage at an address, for open_storage (open_storage.hpp).
using StorageOpener = std::shared_ptr<Storage> (*)(std::string_view address);

namespace detail {

/// The address schemes open_storage takes besides "memory" and "sqlite:", each with its opener,
/// by address prefix. A storage's header registers its schemes (postgresql_storage.hpp does), so
/// what a program can open follows from the headers its parts include, and no inline function's
/// body depends on a macro (which would break the one-definition rule between translation units
/// built with and without it).
struct StorageSchemes {
  std::mutex mutex;
  std::map<std::string, StorageOpener, std::less<>> openers;
};

inline StorageSchemes& storage_schemes() {
  static StorageSchemes schemes;  // made on first use: registrations run before main, any order
  return schemes;
}

/// Lets open_storage open the addresses that start with one of `prefixes` with `open`; a prefix
/// keeps the first opener registered for it. Returns true, to initialize a variable with.
inline bool register_storage_scheme(std::initializer_list<std::string_view> prefixes,
                                    StorageOpener open) {
  auto& schemes = storage_schemes();
  std::lock_guard lock(schemes.mutex);
  for (const auto prefix : prefixes) schemes.openers.try_emplace(std::string(prefix), open);
  return true;
}

/// The opener registered for `address`'s prefix; null when there is none.
inline StorageOpener storage_opener(std::string_view address) {
  auto& schemes = storage_schemes();
  std::lock_guard lock(schemes.mutex);
  for (const auto& [prefix, open] : schemes.openers) {
    if (address.starts_with(prefix)) return open;
  }
  return nullptr;
}

}  // namespace detail

}  // namespace descent::tune
