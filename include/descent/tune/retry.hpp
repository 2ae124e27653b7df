#pragma once
// Retrying the trials whose worker died, like Optuna's RetryFailedTrialCallback: given to a Study
// as Options::failed_trial_callback, it runs for each running trial the study finds stale (its
// worker gone from this machine, or its heartbeat older than the storage's stale_after) and puts
// a copy of it in the queue - same parameter values, marked as a retry of it - for the next free
// worker to take.
//
//   descent::tune::Study study({.storage = storage,
//                               .failed_trial_callback =
//                               descent::tune::RetryFailedTrialCallback(3)});

#include <descent/tune/frozen_trial.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace descent::tune {

/// Re-enqueues a failed trial with its parameter values, up to max_retry times per original.
class RetryFailedTrialCallback {
 public:
  /// Retries each original trial at most `max_retry` times; none: without end (Optuna's None).
  explicit RetryFailedTrialCallback(std::optional<int> max_retry = std::nullopt)
      : m_max_retry(max_retry) {}

  /// Enqueues a retry of `failed` in `study` (a Study; a template so that this header needs
  /// none) unless the trial was retried max_retry times already: a waiting trial that gets the
  /// values `failed` was given and the ones it drew, and records that it retries `failed`.
  template <class Study>
  void operator()(Study& study, const FrozenTrial& failed) const {
    const auto history = retry_history(study.trials(), failed);
    if (m_max_retry && std::size_t(*m_max_retry) < history.size() + 1) return;
    std::map<std::string, ParamValue> values = failed.fixed_params;
    for (const auto& [name, param] : failed.params) values.insert_or_assign(name, param.value());
    study.storage().enqueue_trial(study.id(), values, failed.number);
  }

  /// The number of the original trial that `trial` retries (through retries of retries); none
  /// when it is no retry. `trials` is the study's (Study::trials()).
  static std::optional<std::int64_t> retried_trial_number(const std::vector<FrozenTrial>& trials,
                                                          const FrozenTrial& trial) {
    const auto history = retry_history(trials, trial);
    if (history.empty()) return std::nullopt;
    return history.front();
  }

  /// The numbers of the trials `trial` is a retry of, the original first and the one it retries
  /// last; empty when it is no retry.
  static std::vector<std::int64_t> retry_history(const std::vector<FrozenTrial>& trials,
                                                 const FrozenTrial& trial) {
    std::map<std::int64_t, std::int64_t> retry_of;  // number -> the number it retries
    for (const auto& t : trials) {
      if (t.retry_of >= 0) retry_of.emplace(t.number, t.retry_of);
    }
    std::vector<std::int64_t> out;
    // retry_of is always below the trial's own number (stored_trials.hpp checks it): this ends.
    for (std::int64_t at = trial.retry_of; at >= 0;) {
      out.insert(out.begin(), at);
      const auto it = retry_of.find(at);
      at = it == retry_of.end() ? -1 : it->second;
    }
    return out;
  }

 private:
  std::optional<int> m_max_retry;
};

}  // namespace descent::tune
