#pragma once
// Support code shared by the example programs that train networks (fashion_mnist, showdown):
// command-line parsing whose errors name the flag, a tiny JSON writer, atomic file writes, and
// Fashion-MNIST's location and install hint. Example support code, not library API.

#include <descent/detail/format.hpp>
#include <descent/io/file.hpp>

#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace descent::examples {

/// Where Debian's dataset-fashion-mnist package puts the gzipped IDX files.
inline constexpr std::string_view fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";
inline constexpr std::string_view fashion_mnist_hint =
    "hint: sudo apt-get install dataset-fashion-mnist  (with --reinstall if its files are damaged),\n"
    "      or pass --data DIR";

/// A bad command line: main() prints "<program>: <what>" and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "--flag: message", for errors that name the flag they are about.
[[noreturn]] inline void flag_error(std::string_view flag, const std::string& message) {
  throw UsageError(std::string(flag) + ": " + message);
}

/// Walks argv as "--flag value" pairs (and bare switches), naming the flag in every error.
class Args {
 public:
  Args(int argc, char** argv) : m_args(argv + 1, argv + argc) {}

  bool done() const { return m_next >= m_args.size(); }
  /// The next flag; anything that is not "--name" or "-h" is an error.
  std::string_view flag() {
    m_flag = m_args[m_next++];
    if (m_flag.size() < 2 || m_flag[0] != '-') {
      throw UsageError("unexpected argument '" + std::string(m_flag) + "' (flags start with --)");
    }
    return m_flag;
  }
  /// The value of the flag just read: the next argument, whatever it looks like ("-1" too).
  std::string_view value() {
    if (m_next >= m_args.size()) flag_error(m_flag, "needs a value");
    return m_args[m_next++];
  }

  /// A whole number in [lo, hi].
  long long integer(long long lo, long long hi = std::numeric_limits<long long>::max()) {
    const std::string_view text = value();
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) {
      flag_error(m_flag, "'" + std::string(text) + "' is not a whole number");
    }
    if (v < lo || v > hi) {
      flag_error(m_flag, "must be " +
                             (hi == std::numeric_limits<long long>::max()
                                  ? ">= " + std::to_string(lo)
                                  : "from " + std::to_string(lo) + " to " + std::to_string(hi)) +
                             ", got " + std::string(text));
    }
    return v;
  }

  /// A finite number: 0.5, 1e-3, ... (std::from_chars, so the locale never matters).
  double real() {
    const std::string_view text = value();
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) {
      flag_error(m_flag, "'" + std::string(text) + "' is not a finite number");
    }
    return v;
  }

 private:
  std::vector<std::string_view> m_args;
  std::size_t m_next = 0;
  std::string_view m_flag;
};

/// Runs f(); a std::invalid_argument (a bad value) or std::length_error (a size that cannot fit
/// in memory) from the library becomes a UsageError naming the flag.
template <class F>
decltype(auto) checked_flag(std::string_view flag, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    flag_error(flag, e.what());
  } catch (const std::length_error& e) {
    flag_error(flag, e.what());
  }
}

/// Throws a UsageError naming `flag` unless new files can be made in the folder `dir` now. It
/// makes and removes a probe file there, so a read-only file system or a missing permission is
/// found before the work rather than after it (access(2) says yes to root on a read-only mount).
inline void require_writable_directory(std::string_view flag, const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    flag_error(flag, "'" + dir.string() + "' is not a directory");
  }
  const std::filesystem::path probe =
      dir / (".descent-probe-" + std::to_string(static_cast<long long>(::getpid())));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    flag_error(flag, "cannot write in directory '" + dir.string() + "': " + std::strerror(errno));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

/// The same for a folder the program makes later if need be: the nearest folder on its path that
/// exists must take new files.
inline void require_creatable_directory(std::string_view flag, const std::filesystem::path& dir) {
  if (dir.empty()) flag_error(flag, "needs a directory name");
  std::filesystem::path existing = std::filesystem::absolute(dir);
  std::error_code ec;
  while (!std::filesystem::exists(existing, ec) && existing.has_relative_path()) {
    existing = existing.parent_path();
  }
  require_writable_directory(flag, existing);
}

/// The same for an output file: a file name, in a folder that exists and takes new files.
inline void require_writable_file(std::string_view flag, const std::filesystem::path& path) {
  if (path.empty() || !path.has_filename()) flag_error(flag, "needs a file name");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    flag_error(flag, "'" + path.string() + "' is a directory");
  }
  require_writable_directory(flag, path.parent_path().empty() ? "." : path.parent_path());
}

/// "a,b,c" -> {"a", "b", "c"}; empty items are dropped.
inline std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) items.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

/// Shortest text that reads back to exactly v ("0.1", "1e-07"): the library's one number format.
inline std::string format_exact(double v) { return descent::detail::format_number(v); }

/// v as the JSON number that reads back to it (max_digits10 significant digits), or null when it
/// is not finite (JSON has no NaN).
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general,
                                       std::numeric_limits<double>::max_digits10);
  return ec == std::errc{} ? std::string(buf, end) : std::string("null");
}

inline std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

/// Writes `text` to `path` atomically: a reader never sees half a file (descent/io/file.hpp).
using descent::io::write_file_atomically;

/// Runs an example's body: usage errors exit 2, any other error 1, each as one line on stderr
/// prefixed with the program's name. Never a crash, never an uncaught exception.
template <class Body>
int guarded_main(const char* program, Body&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace descent::examples
