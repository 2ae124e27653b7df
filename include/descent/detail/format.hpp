#pragma once
// Text for error messages, one way everywhere: numbers in their shortest round-trip form ("0.9",
// "-1", "1e+300", not "0.900000" or "-1.000000"), and pieces of untrusted input quoted, cut and
// escaped so a 10 MB field or a NUL byte cannot turn a message into garbage.

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace descent::detail {

/// Shortest text that reads back to exactly `value`; locale-independent (std::to_chars). bool
/// prints as true/false, a float as a float ("0.9" for 0.9f, not 0.899999976).
// clang-format off
template <class T>
  requires std::is_arithmetic_v<T>
std::string format_number(T value) {
  // clang-format on
  if constexpr (std::same_as<T, bool>) {
    return value ? "true" : "false";
  } else {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc{} ? std::string(buffer, end) : std::string("?");
  }
}

/// `text` in double quotes for a message: at most `max_bytes` of it (then "..." and the full
/// length), with quotes, backslashes and bytes outside printable ASCII escaped (\n, \t, \xNN).
inline std::string quote_excerpt(std::string_view text, std::size_t max_bytes = 40) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  const std::size_t shown = text.size() <= max_bytes ? text.size() : max_bytes;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  out += '"';
  if (shown < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace descent::detail
