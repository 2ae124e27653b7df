#pragma once
// The three kinds of search space a trial can ask for, like Optuna's distributions. Every value is
// kept in one "internal" double: a float as itself, an int as itself, a categorical as the index
// of its choice. Samplers work on internal values; trials hand out external ones.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <descent/detail/from_chars.hpp>
#include <descent/error.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "../detail/format.hpp"

namespace descent::tune {

namespace detail {

using descent::detail::format_number;  // shortest text that reads back to exactly the value
using descent::detail::quote_excerpt;  // untrusted text in a message: quoted, cut, escaped

[[noreturn]] inline void bad_param(std::string_view name, const std::string& what) {
  throw InvalidArgument("descent::tune: parameter '" + std::string(name) + "': " + what);
}

}  // namespace detail

/// A real number in [low, high]; log-uniform when `log`, on the grid low + k*step when step > 0.
struct FloatDistribution {
  /// Smallest value, inclusive.
  double low = 0, high = 1;  ///< largest value, inclusive
  bool log = false;          ///< sample log-uniformly (needs low > 0, no step)
  double step = 0;           ///< 0: continuous

  /// Equal when every field is equal.
  bool operator==(const FloatDistribution&) const = default;
  /// Whether internal value `v` lies in the space (on the grid, within 1e-8 steps, if step > 0).
  bool contains(double v) const {
    if (!(v >= low && v <= high)) return false;
    if (step > 0) {
      const double k = (v - low) / step;
      return std::abs(k - std::round(k)) < 1e-8;
    }
    return true;
  }
  /// "float in [low, high]", with ", log" and ", step s" as they apply.
  std::string describe() const {
    return "float in [" + detail::format_number(low) + ", " + detail::format_number(high) + "]" +
           (log ? ", log" : "") + (step > 0 ? ", step " + detail::format_number(step) : "");
  }
};

/// A whole number in [low, high] on the grid low + k*step; log-uniform when `log` (step 1 only).
struct IntDistribution {
  /// Smallest value, inclusive.
  std::int64_t low = 0, high = 1, step = 1;  ///< spacing of the grid from low, >= 1
  /// @var high
  /// Largest value, inclusive.
  bool log = false;  ///< sample log-uniformly (step 1 only)

  /// Equal when every field is equal.
  bool operator==(const IntDistribution&) const = default;
  /// The grid point nearest to `v`, clamped to [low, high]. Exact below 2^53 in magnitude; beyond,
  /// where a double no longer names every integer, a point whose double is v (if any is).
  std::int64_t nearest(double v) const {
    std::int64_t x = low;  // also for NaN
    if (v >= double(high)) {
      x = high;  // double(INT64_MAX) is 2^63, one past it: never convert v itself there
    } else if (v > double(low)) {
      x = std::clamp(std::int64_t(std::round(v)), low, high);
    }
    // Unsigned, as in make_int: x - low overflows int64 for bounds of opposite sign.
    const std::uint64_t offset = std::uint64_t(x) - std::uint64_t(low), s = std::uint64_t(step);
    const std::uint64_t below = offset / s * s, rest = offset - below;
    const bool up = rest > s - rest && std::uint64_t(high) - std::uint64_t(low) - below >= s;
    return std::int64_t(std::uint64_t(low) + below + (up ? s : 0));
  }
  /// Whether internal value `v` is (the double of) a point of the grid.
  bool contains(double v) const { return std::isfinite(v) && v == double(nearest(v)); }
  /// "int in [low, high]", with ", log" and ", step s" as they apply.
  std::string describe() const {
    return "int in [" + std::to_string(low) + ", " + std::to_string(high) + "]" +
           (log ? ", log" : "") + (step != 1 ? ", step " + std::to_string(step) : "");
  }
};

/// One of a list of choices, held as the index of the choice.
struct CategoricalDistribution {
  std::vector<std::string> choices;  ///< the values a trial can take, in order

  /// Equal when the choices are equal, in order.
  bool operator==(const CategoricalDistribution&) const = default;
  /// Whether internal value `v` is the index of a choice.
  bool contains(double v) const {
    return v >= 0 && v < double(choices.size()) && v == std::round(v);
  }
  /// "categorical {a, b, c}".
  std::string describe() const {
    std::string out = "categorical {";
    for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + choices[i];
    return out + "}";
  }
};

/// Any of the three kinds of search space.
using Distribution = std::variant<FloatDistribution, IntDistribution, CategoricalDistribution>;

/// A readable description of the space, e.g. "int in [1, 10], step 2".
inline std::string describe(const Distribution& d) {
  return std::visit([](const auto& x) { return x.describe(); }, d);
}
/// Whether internal value `internal` lies in the space.
inline bool contains(const Distribution& d, double internal) {
  return std::visit([&](const auto& x) { return x.contains(internal); }, d);
}

/// Checks a float space and returns it with high snapped down onto the step grid.
inline FloatDistribution make_float(std::string_view name, double low, double high, bool log,
                                    double step) {
  const std::string range =
      "[" + detail::format_number(low) + ", " + detail::format_number(high) + "]";
  if (!std::isfinite(low) || !std::isfinite(high))
    detail::bad_param(name, "bounds must be finite, got " + range);
  if (low > high) detail::bad_param(name, "low > high in " + range);
  if (log && low <= 0) detail::bad_param(name, "log needs low > 0, got " + range);
  if (!(step >= 0) || !std::isfinite(step)) {
    detail::bad_param(name, "step must be finite and >= 0, got " + detail::format_number(step));
  }
  if (log && step > 0)
    detail::bad_param(name,
                      "log and step cannot be combined (step " + detail::format_number(step) + ")");
  if (step > 0) {
    // Past 2^53 points the grid cannot be counted in a double (nor stored: high would read inf).
    if (!((high - low) / step <= 9007199254740992.0)) {
      detail::bad_param(name, "step " + detail::format_number(step) + " is too small for " + range +
                                  " (more than 2^53 grid points)");
    }
    // Like Optuna: the range shrinks to the last grid point below high.
    const double k = std::floor((high - low) / step + 1e-9);
    high = low + k * step;
  }
  return {low, high, log, step};
}

/// Checks an int space and returns it with high snapped down onto the step grid; throws
/// std::invalid_argument if low > high, step < 1, or log without low >= 1 and step 1.
inline IntDistribution make_int(std::string_view name, std::int64_t low, std::int64_t high,
                                std::int64_t step, bool log) {
  const std::string range = "[" + std::to_string(low) + ", " + std::to_string(high) + "]";
  if (low > high) detail::bad_param(name, "low > high in " + range);
  if (step < 1) detail::bad_param(name, "step must be >= 1, got " + std::to_string(step));
  if (log && low < 1) detail::bad_param(name, "log needs low >= 1, got " + range);
  if (log && step != 1)
    detail::bad_param(name, "log needs step 1, got step " + std::to_string(step));
  // The span in unsigned arithmetic: high - low overflows int64 for bounds of opposite sign.
  const std::uint64_t span = std::uint64_t(high) - std::uint64_t(low);
  high = std::int64_t(std::uint64_t(low) + span / std::uint64_t(step) * std::uint64_t(step));
  return {low, high, step, log};
}

/// Checks a categorical space; throws std::invalid_argument if there are no choices or one
/// is given twice.
inline CategoricalDistribution make_categorical(std::string_view name,
                                                std::vector<std::string> choices) {
  if (choices.empty()) detail::bad_param(name, "no choices given");
  // Sorted views, not a pairwise comparison: a stored space may hold a million choices.
  std::vector<std::string_view> sorted(choices.begin(), choices.end());
  std::sort(sorted.begin(), sorted.end());
  if (const auto twice = std::adjacent_find(sorted.begin(), sorted.end()); twice != sorted.end()) {
    detail::bad_param(name, "choice '" + std::string(*twice) + "' is given twice");
  }
  return {std::move(choices)};
}

// ---- text form, for the SQL storages: "float LOW HIGH LOG STEP", "int LOW HIGH STEP LOG",
// "categorical N LEN:TEXT LEN:TEXT ..." (length-prefixed, so a choice may hold any byte) ----------

/// The space as one line of text, as the SQL storages keep it.
inline std::string to_text(const Distribution& d) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    return "float " + detail::format_number(f->low) + " " + detail::format_number(f->high) + " " +
           (f->log ? "1" : "0") + " " + detail::format_number(f->step);
  }
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    return "int " + std::to_string(i->low) + " " + std::to_string(i->high) + " " +
           std::to_string(i->step) + " " + (i->log ? "1" : "0");
  }
  const auto& c = std::get<CategoricalDistribution>(d);
  std::string out = "categorical " + std::to_string(c.choices.size());
  for (const auto& choice : c.choices) out += " " + std::to_string(choice.size()) + ":" + choice;
  return out;
}

/// Reads back what to_text() wrote; throws std::runtime_error if the text is malformed or the
/// space it describes is not one make_float, make_int or make_categorical would make.
inline Distribution distribution_from_text(std::string_view text) {
  const std::string_view original = text;
  auto fail = [&]() -> void {
    throw RuntimeError("descent::tune: stored distribution " + detail::quote_excerpt(original) +
                       " is malformed");
  };
  auto word = [&]() {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    const auto space = text.find(' ');
    const auto w = text.substr(0, space);
    text.remove_prefix(space == std::string_view::npos ? text.size() : space);
    return w;
  };
  // A stored space must pass the checks a new one does (a step of 0 would divide by zero later).
  auto checked = [&](auto make) -> Distribution {
    try {
      return make();
    } catch (const std::invalid_argument&) {
      fail();
    }
    return {};
  };
  auto number = [&](auto& v) {
    const auto w = word();
    const auto [end, ec] = descent::detail::from_chars(w.data(), w.data() + w.size(), v);
    if (ec != std::errc{} || end != w.data() + w.size()) fail();
  };
  const auto kind = word();
  if (kind == "float") {
    FloatDistribution f;
    int log = 0;
    number(f.low), number(f.high), number(log), number(f.step);
    if (log != 0 && log != 1) fail();
    return checked([&] { return make_float("stored", f.low, f.high, log != 0, f.step); });
  }
  if (kind == "int") {
    IntDistribution i;
    int log = 0;
    number(i.low), number(i.high), number(i.step), number(log);
    if (log != 0 && log != 1) fail();
    return checked([&] { return make_int("stored", i.low, i.high, i.step, log != 0); });
  }
  if (kind != "categorical") fail();
  std::size_t n = 0;
  number(n);
  CategoricalDistribution c;
  for (std::size_t k = 0; k < n; ++k) {
    if (text.empty() || text.front() != ' ') fail();
    text.remove_prefix(1);
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) fail();
    std::size_t len = 0;
    const auto [end, ec] = descent::detail::from_chars(text.data(), text.data() + colon, len);
    if (ec != std::errc{} || end != text.data() + colon || len > text.size() - colon - 1) fail();
    c.choices.emplace_back(text.substr(colon + 1, len));
    text.remove_prefix(colon + 1 + len);
  }
  if (!text.empty()) fail();
  return checked([&] { return make_categorical("stored", std::move(c.choices)); });
}

}  // namespace descent::tune
