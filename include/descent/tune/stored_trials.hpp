#pragma once
// A study's trials rebuilt from the rows a storage read back, every value checked on the way in.
// A study file or database is input like any other: a damaged or forged one must give an error
// naming the storage, the study, the trial and the parameter here, not undefined behaviour later
// in a sampler. SqliteStorage and PostgresqlStorage both read through this one path.
//
// What a study may hold is what the library writes: trial numbers >= 0 and unique, a state of the
// five, a value on every complete trial (any other may lack one), each parameter's distribution
// as make_float/make_int/make_categorical would make it and its value inside it, report steps
// >= 0, given values (fixed_params) that parse, a retried trial's number below the retry's.
// Values may be +-inf; NaN is kept as NULL and only where a value may be missing.

#include <descent/error.hpp>
#include <descent/tune/detail/param_value_text.hpp>
#include <descent/tune/frozen_trial.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace descent::tune::detail {

/// A cell as the storage decoded it, or nothing when it held something else (text where a number
/// belongs, a real where an integer does).
template <class T>
using Cell = std::optional<T>;

/// Builds a study's trials from its rows; each add_* throws std::runtime_error at the first value
/// the library could not have written.
class StoredTrials {
 public:
  /// `source` names the storage in messages ("SQLite study file 'x.db'"); `study` is the name.
  StoredTrials(std::string source, std::string_view study)
      : m_where(std::move(source) + ", study " + quote_excerpt(study)) {}

  /// A trial read and checked before (FinishedTrials keeps them).
  void add_known(const FrozenTrial& t) {
    if (!m_index.emplace(t.id, m_trials.size()).second) {
      fail_at("trial id " + std::to_string(t.id), "given twice");
    }
    m_trials.push_back(t);
  }

  /// One row of the trials table; `value` is NaN for SQL NULL.
  void add_trial(std::int64_t id, Cell<std::int64_t> number, std::string_view state,
                 Cell<double> value, std::string message) {
    const std::string who = "trial id " + std::to_string(id);
    if (!number) fail_at(who, "number is not an integer");
    if (*number < 0) fail_at(who, "number " + std::to_string(*number) + " is negative");
    FrozenTrial t;
    t.id = id;
    t.number = *number;
    t.state = parse_state(t, state);
    if (!value) fail(t, "value is not a number");
    t.value = *value;
    if (t.state == TrialState::complete && std::isnan(t.value))
      fail(t, "complete but has no value");
    t.message = std::move(message);
    if (!m_index.emplace(id, m_trials.size()).second) fail_at(who, "given twice");
    m_trials.push_back(std::move(t));
  }

  /// One row of the params table.
  void add_param(std::int64_t trial, std::string_view name, std::string_view distribution,
                 Cell<double> internal) {
    FrozenTrial& t = find(trial);
    const std::string who =
        "trial " + std::to_string(t.number) + ", parameter " + quote_excerpt(name);
    Param p;
    try {
      p.distribution = distribution_from_text(distribution);
    } catch (const std::runtime_error&) {
      fail_at(who, "distribution " + quote_excerpt(distribution) + " does not parse");
    }
    if (!internal) fail_at(who, "value is not a number");
    p.internal = *internal;
    if (!contains(p.distribution, p.internal)) {
      fail_at(who, "value " + format_number(p.internal) + " is outside " +
                       quote_excerpt(describe(p.distribution), 60));
    }
    if (!t.params.emplace(std::string(name), std::move(p)).second) fail_at(who, "given twice");
  }

  /// One row of the fixed_params table (detail/param_value_text.hpp).
  void add_fixed_param(std::int64_t trial, std::string_view name, std::string_view kind,
                       std::string_view text) {
    FrozenTrial& t = find(trial);
    const std::string who =
        "trial " + std::to_string(t.number) + ", given parameter " + quote_excerpt(name);
    const auto value = param_value_from_cells(kind, text);
    if (!value) {
      fail_at(who, "value " + quote_excerpt(text) + " of kind " + quote_excerpt(kind) +
                       " does not parse");
    }
    if (!t.fixed_params.emplace(std::string(name), *value).second) fail_at(who, "given twice");
  }

  /// One row of the retries table.
  void add_retry(std::int64_t trial, Cell<std::int64_t> retry_of) {
    FrozenTrial& t = find(trial);
    if (!retry_of || *retry_of < 0 || *retry_of >= t.number) {
      fail(t, "retries a trial number that is not a number below its own");
    }
    t.retry_of = *retry_of;
  }

  /// One row of the intermediate table; `value` is NaN for SQL NULL.
  void add_report(std::int64_t trial, Cell<std::int64_t> step, Cell<double> value) {
    FrozenTrial& t = find(trial);
    if (!step) fail(t, "a report's step is not an integer");
    if (*step < 0) fail(t, "step " + std::to_string(*step) + " is negative");
    if (!value) fail(t, "value at step " + std::to_string(*step) + " is not a number");
    if (!t.intermediate.emplace(*step, *value).second)
      fail(t, "step " + std::to_string(*step) + " given twice");
  }

  /// The trials ordered by number; throws if two share one.
  std::vector<FrozenTrial> take() {
    std::sort(m_trials.begin(), m_trials.end(),
              [](const FrozenTrial& a, const FrozenTrial& b) { return a.number < b.number; });
    const auto twice = std::adjacent_find(
        m_trials.begin(), m_trials.end(),
        [](const FrozenTrial& a, const FrozenTrial& b) { return a.number == b.number; });
    if (twice != m_trials.end()) {
      fail(*twice, "number given to two trials (ids " + std::to_string(twice->id) + " and " +
                       std::to_string(std::next(twice)->id) + ")");
    }
    m_index.clear();
    return std::move(m_trials);
  }

 private:
  TrialState parse_state(const FrozenTrial& t, std::string_view state) const {
    try {
      return trial_state_from(state);
    } catch (const std::runtime_error&) {
      fail(t, "state " + quote_excerpt(state) +
                  " is none of running, complete, pruned, failed, waiting");
    }
  }

  FrozenTrial& find(std::int64_t id) {
    const auto it = m_index.find(id);
    if (it == m_index.end()) fail_at("trial id " + std::to_string(id), "has rows but no trial");
    return m_trials[it->second];
  }

  [[noreturn]] void fail(const FrozenTrial& t, const std::string& what) const {
    fail_at("trial " + std::to_string(t.number), what);
  }
  [[noreturn]] void fail_at(const std::string& who, const std::string& what) const {
    throw RuntimeError("descent::tune: " + m_where + ", " + who + ": " + what);
  }

  std::string m_where;
  std::vector<FrozenTrial> m_trials;
  std::map<std::int64_t, std::size_t> m_index;  ///< trial id -> position in m_trials
};

/// The finished trials of one study that this process has read and checked. A finished trial
/// never changes (storages write parameters and reports of running trials only), so a storage
/// reads again only the trials from from_id() on - every trial from the oldest one that was still
/// running, and every new one - and takes the others from here. Trial ids grow in the order the
/// trials are created, in both storages, so no new trial can appear below from_id().
class FinishedTrials {
 public:
  /// The smallest trial id to read again.
  std::int64_t from_id() const { return m_from; }
  /// Puts the kept trials into `out`, before the rows read from from_id() on.
  void add_to(StoredTrials& out) const {
    for (const auto& t : m_trials) out.add_known(t);
  }
  /// Keeps the trials of `all` (the study, as take() returned it) read from from_id() on that
  /// come before the first one still running, all finished, and moves from_id() past them.
  void update(const std::vector<FrozenTrial>& all) {
    std::int64_t next = m_from;
    for (const auto& t : all) {
      if (t.id >= m_from) next = std::max(next, t.id == INT64_MAX ? t.id : t.id + 1);
    }
    for (const auto& t : all) {
      if (t.id >= m_from && !t.finished()) next = std::min(next, t.id);
    }
    for (const auto& t : all) {
      if (t.id >= m_from && t.id < next) m_trials.push_back(t);
    }
    m_from = next;
  }

 private:
  std::vector<FrozenTrial> m_trials;
  std::int64_t m_from = INT64_MIN;
};

/// The Direction stored for study `study` in `source`; throws std::runtime_error for other text.
inline Direction stored_direction(const std::string& source, std::string_view study,
                                  std::string_view text) {
  try {
    return direction_from(text);
  } catch (const std::invalid_argument&) {
    throw RuntimeError("descent::tune: " + source + ", study " + quote_excerpt(study) +
                       ": direction " + quote_excerpt(text) + " is neither minimize nor maximize");
  }
}

}  // namespace descent::tune::detail
