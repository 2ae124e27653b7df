#pragma once
// DataError, what the readers throw for a file they cannot use: a missing or unreadable file, a
// corrupt gzip stream, a malformed IDX header, a CSV field that is not a number. Its message names
// the file (and for CSV the line and column) and what was wrong.

#include <charconv>
#include <stdexcept>
#include <string>
#include <system_error>

namespace descent::data {

/// A data file that cannot be used as it is. Bad arguments (a fraction outside (0, 1), a batch size
/// of 0) are std::invalid_argument instead.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Shortest text that reads back to the same double ("0.1", "1e+300"), for messages.
inline std::string format_number(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

}  // namespace detail
}  // namespace descent::data
