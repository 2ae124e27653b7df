#pragma once
// A given parameter value (enqueue_trial's, a retry's) as two text cells, kind and value, for the
// storages' fixed_params table: no distribution is known until the objective asks for the
// parameter, so the value is kept as given, exactly (floats in their shortest exact digits).

#include <descent/detail/format.hpp>
#include <descent/detail/from_chars.hpp>
#include <descent/tune/frozen_trial.hpp>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace descent::tune::detail {

/// ("float", digits), ("int", digits) or ("string", the text).
inline std::pair<std::string, std::string> param_value_cells(const ParamValue& value) {
  if (const auto* d = std::get_if<double>(&value)) return {"float", format_number(*d)};
  if (const auto* i = std::get_if<std::int64_t>(&value)) return {"int", std::to_string(*i)};
  return {"string", std::get<std::string>(value)};
}

/// The value param_value_cells wrote; none for cells it could not have written.
inline std::optional<ParamValue> param_value_from_cells(std::string_view kind,
                                                        std::string_view text) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (kind == "string") return ParamValue(std::string(text));
  if (kind == "int") {
    std::int64_t v = 0;
    const auto [stop, ec] = descent::detail::from_chars(begin, end, v);
    if (ec != std::errc{} || stop != end) return std::nullopt;
    return ParamValue(v);
  }
  if (kind == "float") {
    constexpr double inf = std::numeric_limits<double>::infinity();
    if (text == "nan") return ParamValue(std::numeric_limits<double>::quiet_NaN());
    if (text == "inf") return ParamValue(inf);
    if (text == "-inf") return ParamValue(-inf);
    double v = 0;
    const auto [stop, ec] = descent::detail::from_chars(begin, end, v);
    if (ec != std::errc{} || stop != end) return std::nullopt;
    return ParamValue(v);
  }
  return std::nullopt;
}

}  // namespace descent::tune::detail
