#pragma once
// What a storage keeps of one trial: its parameters, the values it reported per step, its state
// and its result. Samplers and pruners read these; a live trial is descent::tune::Trial.

#include <descent/tune/distributions.hpp>

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

enum class Direction { minimize, maximize };
enum class TrialState { running, complete, pruned, failed };

inline std::string_view to_string(Direction d) { return d == Direction::minimize ? "minimize" : "maximize"; }
inline std::string_view to_string(TrialState s) {
  switch (s) {
    case TrialState::running: return "running";
    case TrialState::complete: return "complete";
    case TrialState::pruned: return "pruned";
    case TrialState::failed: return "failed";
  }
  return "?";
}
inline TrialState trial_state_from(std::string_view s) {
  for (auto state : {TrialState::running, TrialState::complete, TrialState::pruned, TrialState::failed}) {
    if (to_string(state) == s) return state;
  }
  throw std::runtime_error("descent::tune: unknown trial state '" + std::string(s) + "'");
}
inline Direction direction_from(std::string_view s) {
  if (s == "minimize") return Direction::minimize;
  if (s == "maximize") return Direction::maximize;
  throw std::invalid_argument("descent::tune: direction must be minimize or maximize, got '" +
                              std::string(s) + "'");
}

/// Thrown by an objective (or by Trial::prune()) to stop a trial the pruner gave up on.
class TrialPruned : public std::runtime_error {
 public:
  TrialPruned() : std::runtime_error("trial pruned") {}
};

/// A parameter's value as the user sees it.
using ParamValue = std::variant<double, std::int64_t, std::string>;

struct Param {
  Distribution distribution;
  double internal = 0;  ///< float/int value, or the index of the categorical choice

  ParamValue value() const {
    if (std::holds_alternative<FloatDistribution>(distribution)) return internal;
    if (std::holds_alternative<IntDistribution>(distribution)) return std::int64_t(std::llround(internal));
    return std::get<CategoricalDistribution>(distribution).choices.at(std::size_t(internal));
  }
  /// "0.001", "3", "relu"
  std::string text() const {
    const ParamValue v = value();
    if (const auto* d = std::get_if<double>(&v)) return detail::number_text(*d);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    return std::get<std::string>(v);
  }
};

struct FrozenTrial {
  std::int64_t id = -1;      ///< unique in the storage
  std::int64_t number = -1;  ///< 0, 1, 2 ... within the study, in order of creation
  TrialState state = TrialState::running;
  double value = std::numeric_limits<double>::quiet_NaN();  ///< complete: the result; pruned: last report
  std::map<std::string, Param> params;
  std::map<std::int64_t, double> intermediate;  ///< step -> reported value
  std::string message;  ///< why it failed

  bool finished() const { return state != TrialState::running; }
  /// The last step reported, or -1.
  std::int64_t last_step() const { return intermediate.empty() ? -1 : intermediate.rbegin()->first; }

  double get_float(const std::string& name) const { return std::get<double>(param(name).value()); }
  std::int64_t get_int(const std::string& name) const { return std::get<std::int64_t>(param(name).value()); }
  std::string get_categorical(const std::string& name) const { return std::get<std::string>(param(name).value()); }
  const Param& param(const std::string& name) const {
    const auto it = params.find(name);
    if (it == params.end()) {
      throw std::out_of_range("descent::tune: trial " + std::to_string(number) + " has no parameter '" + name + "'");
    }
    return it->second;
  }
};

/// True when a is a better objective value than b in direction d (NaN is never better).
inline bool better(Direction d, double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return d == Direction::minimize ? a < b : a > b;
}

}  // namespace descent::tune
