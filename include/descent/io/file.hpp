#pragma once
// Writing a whole file so that a reader, or a process started after a crash, sees the old file or
// the whole new one, never a prefix: what checkpoints and .npy exports use, for any other output.

#include <descent/detail/atomic_write.hpp>

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace descent::io {

/// Replaces `path` with `text` atomically (a temporary file in the same folder, fsync, rename).
/// Follows a symbolic link and keeps an existing file's permission bits. Throws
/// std::runtime_error naming the file and the reason; `path` is then unchanged.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  descent::detail::write_atomically(
      path, {std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size())},
      "descent::io::write_file_atomically");
}

}  // namespace descent::io
