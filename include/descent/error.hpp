#pragma once
// One error hierarchy: everything descent throws can be caught as descent::Error, and each error
// is also the standard exception code already catches (a bad option is still a
// std::invalid_argument). what() names the function, and the file, field or value at fault.
// docs/reliability.md lists which error each kind of fault raises.
//
//   try { ... } catch (const descent::Error& e) { std::fprintf(stderr, "%s\n", e.what()); }
//
// Error does not derive from std::exception, so that each concrete error has exactly one
// std::exception base and `catch (const std::exception&)` catches it too.

#include <stdexcept>

namespace descent {

/// The base of every error descent throws.
class Error {
 public:
  virtual ~Error() = default;
  /// What went wrong, naming the function and the file, field or value at fault.
  virtual const char* what() const noexcept = 0;
};

namespace detail {

/// An Error that is also the standard exception Std.
template <class Std>
class StandardError : public Std, public Error {
 public:
  using Std::Std;
  const char* what() const noexcept override { return Std::what(); }
};

}  // namespace detail

/// A bad argument or option: a learning rate below 0, an unknown optimizer name, a tensor of
/// the wrong shape. Also a std::invalid_argument.
class InvalidArgument : public detail::StandardError<std::invalid_argument> {
 public:
  using StandardError::StandardError;
};

/// A size that cannot be: more parameters or a larger batch than memory can hold. Also a
/// std::length_error.
class LengthError : public detail::StandardError<std::length_error> {
 public:
  using StandardError::StandardError;
};

/// An index past the end: a parameter group or a layer that does not exist. Also a
/// std::out_of_range.
class OutOfRange : public detail::StandardError<std::out_of_range> {
 public:
  using StandardError::StandardError;
};

/// A call out of order: an input gradient before backward, a scaler used before fit. Also a
/// std::logic_error.
class LogicError : public detail::StandardError<std::logic_error> {
 public:
  using StandardError::StandardError;
};

/// A failure while running: a file that cannot be written, a loss that became NaN, a file that
/// cannot be used (data::DataError, io::CheckpointError). Also a std::runtime_error.
class RuntimeError : public detail::StandardError<std::runtime_error> {
 public:
  using StandardError::StandardError;
};

}  // namespace descent
