#pragma once
// DataError, what the readers throw for a file they cannot use: a missing or unreadable file, a
// corrupt, cut-off or trailing-garbage gzip stream, a malformed IDX header, a CSV field that is not
// a number, binary data given as CSV, too little memory for what the file holds. Its message names
// the file (and for CSV the line and column) and what was wrong, quoting the file's own text only
// through quote_excerpt.

#include <descent/error.hpp>
#include <stdexcept>
#include <string>

#include "../detail/format.hpp"

namespace descent::data {

/// A data file that cannot be used as it is (a descent::RuntimeError). Bad arguments (a fraction
/// outside (0, 1), a batch size of 0) are descent::InvalidArgument instead.
class DataError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

namespace detail {

using descent::detail::format_number;  // shortest round-trip text, for messages
using descent::detail::quote_excerpt;  // a piece of the input, quoted, cut and escaped

/// A bad argument: std::invalid_argument("descent::data::<function>: <what>").
[[noreturn]] inline void invalid(const std::string& function, const std::string& what) {
  throw InvalidArgument("descent::data::" + function + ": " + what);
}

}  // namespace detail
}  // namespace descent::data
