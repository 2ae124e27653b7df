#pragma once
// Options as data: every optimizer lists its fields once (name + member pointer), and that one
// table serves validation messages, "key=value" parsing, printing, and the list of valid keys.

#include <cmath>
#include <descent/detail/from_chars.hpp>
#include <descent/error.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "../../detail/format.hpp"

namespace descent::detail {

template <class Options, class T>
struct Field {
  std::string_view name;
  T Options::*member;
};

template <class Options, class T>
constexpr Field<Options, T> field(std::string_view name, T Options::*member) {
  return {name, member};
}

/// The name an optimizer's errors use: its class_name if it has one ("AdaBelief"), else its name.
template <class O>
constexpr std::string_view class_name_of() {
  if constexpr (requires { O::class_name; }) {
    return O::class_name;
  } else {
    return O::name;
  }
}

// ---- validation -------------------------------------------------------------------------------

template <class T>
[[noreturn]] void reject(std::string_view who, std::string_view name, T value,
                         std::string_view rule) {
  throw InvalidArgument("descent::" + std::string(who) + ": " + std::string(name) + " must be " +
                        std::string(rule) + ", got " + format_number(value));
}

template <class T>
void require_nonnegative(std::string_view who, std::string_view name, T value) {
  if (!(std::isfinite(value) && value >= 0)) reject(who, name, value, "finite and >= 0");
}

template <class T>
void require_positive(std::string_view who, std::string_view name, T value) {
  if (!(std::isfinite(value) && value > 0)) reject(who, name, value, "finite and > 0");
}

/// For decay rates (beta1, beta2, rho): an average that forgets, so 0 <= value < 1.
template <class T>
void require_rate(std::string_view who, std::string_view name, T value) {
  if (!(value >= 0 && value < 1)) reject(who, name, value, "in [0, 1)");
}

template <class T>
void require_at_most_one(std::string_view who, std::string_view name, T value) {
  if (!(value >= 0 && value <= 1)) reject(who, name, value, "in [0, 1]");
}

// ---- text -------------------------------------------------------------------------------------

template <class T>
bool parse_value(std::string_view text, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "1") return out = true, true;
    if (text == "false" || text == "0") return out = false, true;
    return false;
  } else {
    T value{};
    const auto [end, ec] =
        descent::detail::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return false;
    out = value;
    return true;
  }
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// "learning_rate, beta1, ..." for error messages.
template <class Opt>
std::string field_names() {
  std::string names;
  std::apply(
      [&](const auto&... f) {
        ((names += (names.empty() ? "" : ", ") + std::string(f.name)), ...);
      },
      Opt::option_fields());
  return names;
}

/// Sets one field by name from text; throws naming the key or the value when either is wrong.
template <class Opt>
void set_option(typename Opt::Options& options, std::string_view key, std::string_view value) {
  bool found = false;
  std::apply(
      [&](const auto&... f) {
        const auto try_one = [&](const auto& fd) {
          if (found || fd.name != key) return;
          found = true;
          if (!parse_value(value, options.*(fd.member))) {
            using T = std::remove_reference_t<decltype(options.*(fd.member))>;
            double wide = 0;  // a number, too large for a float option?
            const bool too_large = std::is_same_v<T, float> && parse_value(value, wide);
            throw InvalidArgument("descent::" + std::string(class_name_of<Opt>()) + ": option " +
                                  std::string(key) + " = '" + std::string(value) + "' is " +
                                  (too_large                 ? "outside the range of float"
                                   : std::is_same_v<T, bool> ? "not a boolean (true, false, 1, 0)"
                                                             : "not a number"));
          }
        };
        (try_one(f), ...);
      },
      Opt::option_fields());
  if constexpr (requires { Opt::accepts_option(key, value); }) {
    // A key the class knows without storing it (Nesterov's dampening, which must be 0).
    if (!found && Opt::accepts_option(key, value)) return;
  }
  if (!found) {
    throw InvalidArgument("descent::" + std::string(class_name_of<Opt>()) + ": unknown option '" +
                          std::string(key) + "'; valid options: " + field_names<Opt>());
  }
}

/// Calls f(key, value) for each item of "key=value,key=value"; throws on an item without '='.
template <class F>
void for_each_key_value(std::string_view text, F&& f) {
  text = trim(text);
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : trim(text.substr(comma + 1));
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw InvalidArgument("descent: option '" + std::string(item) + "' is not key=value");
    }
    f(trim(item.substr(0, eq)), trim(item.substr(eq + 1)));
  }
}

/// Applies "key=value,key=value" on top of `options`.
template <class Opt>
void set_options(typename Opt::Options& options, std::string_view text) {
  for_each_key_value(text, [&](std::string_view key, std::string_view value) {
    set_option<Opt>(options, key, value);
  });
}

/// "learning_rate=0.001,beta1=0.9,..." with every field, values printed to round-trip exactly.
template <class Opt>
std::string format_options(const typename Opt::Options& options) {
  std::string text;
  // Appended piece by piece: "," + std::string(...) trips GCC 12's -Wrestrict false positive.
  const auto add = [&](std::string_view name, const std::string& value) {
    if (!text.empty()) text += ',';
    text.append(name).append("=").append(value);
  };
  std::apply([&](const auto&... f) { (add(f.name, format_number(options.*(f.member))), ...); },
             Opt::option_fields());
  return text;
}

}  // namespace descent::detail
