#pragma once
// What a storage keeps of one trial: its parameters, the values it reported per step, its state
// and its result. Samplers and pruners read these; a live trial is descent::tune::Trial.

#include <descent/error.hpp>
#include <descent/tune/distributions.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace descent::tune {

/// Whether a study looks for the lowest or the highest objective value.
enum class Direction { minimize, maximize };
/// Where a trial stands: running, how it ended, or waiting in the queue (Study::enqueue_trial, a
/// retry of a failed trial) for a worker to take it.
enum class TrialState { running, complete, pruned, failed, waiting };

/// The direction's name: "minimize" or "maximize".
inline std::string_view to_string(Direction d) {
  return d == Direction::minimize ? "minimize" : "maximize";
}
/// The state's name: "running", "complete", "pruned", "failed" or "waiting".
inline std::string_view to_string(TrialState s) {
  switch (s) {
    case TrialState::running: return "running";
    case TrialState::complete: return "complete";
    case TrialState::pruned: return "pruned";
    case TrialState::failed: return "failed";
    case TrialState::waiting: return "waiting";
  }
  return "?";
}
/// The TrialState named `s` (as stored); throws std::runtime_error for any other text.
inline TrialState trial_state_from(std::string_view s) {
  for (auto state : {TrialState::running, TrialState::complete, TrialState::pruned,
                     TrialState::failed, TrialState::waiting}) {
    if (to_string(state) == s) return state;
  }
  throw RuntimeError("descent::tune: unknown trial state " + detail::quote_excerpt(s));
}
/// The Direction named `s`; throws std::invalid_argument for any other text.
inline Direction direction_from(std::string_view s) {
  if (s == "minimize") return Direction::minimize;
  if (s == "maximize") return Direction::maximize;
  throw InvalidArgument("descent::tune: direction must be minimize or maximize, got '" +
                        std::string(s) + "'");
}

/// Thrown by an objective (or by Trial::prune()) to stop a trial the pruner gave up on.
class TrialPruned : public RuntimeError {
 public:
  TrialPruned() : RuntimeError("trial pruned") {}
};

/// A parameter's value as the user sees it.
using ParamValue = std::variant<double, std::int64_t, std::string>;

/// One parameter of a trial: the space it was drawn from and the value drawn.
struct Param {
  Distribution distribution;  ///< the space asked for
  double internal = 0;        ///< float/int value, or the index of the categorical choice

  /// The value as the objective got it: double, std::int64_t or the chosen std::string. Throws
  /// std::out_of_range for a categorical index outside the choices (storages check what they
  /// read back, so only a hand-made Param can hold one).
  ParamValue value() const {
    if (std::holds_alternative<FloatDistribution>(distribution)) return internal;
    if (const auto* i = std::get_if<IntDistribution>(&distribution)) return i->nearest(internal);
    const auto& c = std::get<CategoricalDistribution>(distribution);
    if (!c.contains(internal)) {  // checked before the cast: a double past size_t is undefined
      throw OutOfRange("descent::tune: index " + detail::format_number(internal) + " is outside " +
                       detail::quote_excerpt(c.describe(), 60));
    }
    return c.choices[std::size_t(internal)];
  }
  /// "0.001", "3", "relu"
  std::string text() const {
    const ParamValue v = value();
    if (const auto* d = std::get_if<double>(&v)) return detail::format_number(*d);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    return std::get<std::string>(v);
  }
};

/// A trial as a storage keeps it, running or finished.
struct FrozenTrial {
  std::int64_t id = -1;                    ///< unique in the storage
  std::int64_t number = -1;                ///< 0, 1, 2 ... within the study, in order of creation
  TrialState state = TrialState::running;  ///< running, then how it ended
  double value =
      std::numeric_limits<double>::quiet_NaN();  ///< complete: the result; pruned: last report
  std::map<std::string, Param> params;           ///< the parameters suggested so far, by name
  std::map<std::int64_t, double> intermediate;   ///< step -> reported value
  std::string message;                           ///< why it failed
  /// Values given before the trial ran (Study::enqueue_trial, a retry): a suggest_* for one of
  /// these names returns it instead of asking the sampler.
  std::map<std::string, ParamValue> fixed_params;
  std::int64_t retry_of = -1;  ///< the number of the failed trial this one retries; -1: none

  /// Whether the trial has ended (complete, pruned or failed).
  bool finished() const { return state != TrialState::running && state != TrialState::waiting; }
  /// The last step reported, or -1.
  std::int64_t last_step() const {
    return intermediate.empty() ? -1 : intermediate.rbegin()->first;
  }

  /// The value of float parameter `name`; throws std::out_of_range if there is none,
  /// std::bad_variant_access if it is not a float.
  double get_float(const std::string& name) const { return std::get<double>(param(name).value()); }
  /// The value of int parameter `name`; throws std::out_of_range if there is none,
  /// std::bad_variant_access if it is not an int.
  std::int64_t get_int(const std::string& name) const {
    return std::get<std::int64_t>(param(name).value());
  }
  /// The choice of categorical parameter `name`; throws std::out_of_range if there is none,
  /// std::bad_variant_access if it is not categorical.
  std::string get_categorical(const std::string& name) const {
    return std::get<std::string>(param(name).value());
  }
  /// Parameter `name`; throws std::out_of_range if the trial has none of that name.
  const Param& param(const std::string& name) const {
    const auto it = params.find(name);
    if (it == params.end()) {
      throw OutOfRange("descent::tune: trial " + std::to_string(number) + " has no parameter '" +
                       name + "'");
    }
    return it->second;
  }
};

/// The internal value of `value` given for parameter `name` over `distribution` (enqueue_trial,
/// FixedSampler): a float for a float space (an int is taken as the float), an int for an int
/// space (a whole float too), one of the choices for a categorical. Throws std::invalid_argument
/// naming the parameter for another type or a value outside the space: descent's storages hold
/// only values inside their space (Optuna 3.1 warns and uses such a value).
inline double internal_value(const std::string& name, const Distribution& distribution,
                             const ParamValue& value) {
  const auto given = [&] {
    if (const auto* d = std::get_if<double>(&value)) return detail::format_number(*d);
    if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
    return detail::quote_excerpt(std::get<std::string>(value));
  };
  double internal = std::numeric_limits<double>::quiet_NaN();
  if (const auto* c = std::get_if<CategoricalDistribution>(&distribution)) {
    if (const auto* s = std::get_if<std::string>(&value)) {
      const auto it = std::find(c->choices.begin(), c->choices.end(), *s);
      if (it != c->choices.end()) internal = double(it - c->choices.begin());
    }
  } else if (const auto* d = std::get_if<double>(&value)) {
    internal = *d;
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    internal = double(*i);
  }
  if (std::isnan(internal) || !contains(distribution, internal)) {
    detail::bad_param(name, "the given value " + given() + " is not in " + describe(distribution));
  }
  return internal;
}

/// True when a is a better objective value than b in direction d (NaN is never better).
inline bool better(Direction d, double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return d == Direction::minimize ? a < b : a > b;
}

}  // namespace descent::tune
