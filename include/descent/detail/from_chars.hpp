#pragma once
// std::from_chars for every number type descent reads, on every standard library: libc++ before
// version 17 has no floating-point std::from_chars (it is declared deleted), so there the
// floating-point case falls back to strtod/strtof on a checked copy. Both ways are exact (the
// nearest representable value) and take the same text: no leading whitespace or '+', no hex.

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>
#include <system_error>
#include <type_traits>

namespace descent::detail {

/// std::from_chars(first, last, value) for integers, float and double.
template <class T>
std::from_chars_result from_chars(const char* first, const char* last, T& value) {
#if defined(_LIBCPP_VERSION) && _LIBCPP_VERSION < 170000
  if constexpr (std::is_floating_point_v<T>) {
    // strtod would also take leading spaces, a '+' and hex: from_chars takes none of them.
    const std::string text(first, last);
    if (text.empty() || text.find_first_of(" \t\n\v\f\r+xXpP") != std::string::npos) {
      return {first, std::errc::invalid_argument};
    }
    char* end = nullptr;
    errno = 0;
    const T parsed = std::is_same_v<T, float> ? T(std::strtof(text.c_str(), &end))
                                              : T(std::strtod(text.c_str(), &end));
    if (end == text.c_str()) return {first, std::errc::invalid_argument};
    const char* stop = first + (end - text.c_str());
    if (errno == ERANGE) return {stop, std::errc::result_out_of_range};
    value = parsed;
    return {stop, std::errc{}};
  } else {
    return std::from_chars(first, last, value);
  }
#else
  return std::from_chars(first, last, value);
#endif
}

}  // namespace descent::detail
