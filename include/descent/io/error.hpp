#pragma once
// CheckpointError, what descent::io throws for a checkpoint file it will not load: another
// program's file, a newer format, the other scalar type, a network of another shape, a truncated
// file, a bad checksum. Its message names the file and what is wrong.

#include <descent/data/error.hpp>

namespace descent::io {

/// A checkpoint that cannot be loaded as it is. It is a data::DataError, so code that reports
/// bad input files catches both. Failing to write a file is a std::runtime_error instead.
class CheckpointError : public data::DataError {
 public:
  using data::DataError::DataError;
};

}  // namespace descent::io
