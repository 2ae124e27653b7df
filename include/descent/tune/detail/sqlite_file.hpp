#pragma once
// What SqliteStorage asks of the file system before SQLite opens a study file: whether the file
// sits on a read-only file system (then it is opened for reading, and a WAL file without its
// -shm index as immutable), and the file's name as an SQLite URI, to open it with parameters.

#include <cctype>
#include <filesystem>
#include <string>

#include <sys/statvfs.h>

namespace descent::tune::detail {

/// Whether `path` (or, if it does not exist, its folder) is on a read-only file system.
inline bool on_read_only_file_system(const std::string& path) {
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) {
    const auto folder = std::filesystem::path(path).parent_path();
    if (::statvfs(folder.empty() ? "." : folder.c_str(), &fs) != 0) return false;
  }
  return (fs.f_flag & ST_RDONLY) != 0;
}

/// `path` as an SQLite URI ("file:" and the path, %-escaped), to open with query parameters.
inline std::string sqlite_uri(const std::string& path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace descent::tune::detail
